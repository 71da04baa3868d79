"""The indicator catalogue: declared once, complete, bound to the connectors' real variable names."""

from __future__ import annotations

import copy
import inspect

import pytest
import yaml

from planeco_kernel.indicators.catalogue import (
    CATALOGUE_PATH,
    CatalogueError,
    UnknownIndicatorError,
    load_catalogue,
    parse_catalogue,
    parse_expression,
)

THEMES = {"demographie", "vieillissement", "menages", "logement", "energie_logements", "construction", "foncier",
          "emploi_economie", "mobilites", "revenus_pauvrete", "energie_climat", "cadre_de_vie", "risques", "programmes",
          "agriculture_biodiversite", "dechets"}

# the examples the issue names, by the id that implements each
EXPECTED = [
    "croissance_population_annuelle_5ans", "part_60_ans_plus", "part_65_ans_plus", "part_75_ans_plus", "indice_vieillissement",
    "taille_moyenne_menages", "taux_vacance", "part_residences_secondaires", "part_dpe_f_g",
    "logements_commences_pour_1000_habitants", "conso_naf_ha", "conso_naf_m2_par_nouvel_habitant",
    "conso_naf_habitat_m2_par_nouveau_menage", "conso_naf_activite_m2_par_nouvel_emploi",
    "variation_menages_entre_recensements", "variation_emplois_entre_recensements",
    "densite_population", "niveau_vie_median", "taux_pauvrete", "taux_emploi_15_64", "part_navetteurs_voiture",
    "conso_energie_par_habitant", "emissions_ges_par_habitant",
]


def _connector_variables() -> dict[str, set[str]]:
    """The variable names each connector's tidy output can hold, read from the connector modules."""
    from planeco_kernel.sources import (
        ademe_dpe, anct_programmes, cartofriches, catnat, cerema_conso, cerema_lyon, energy, filosofi, filosofi_2021,
        ghg, insee_comparateur, insee_iris_pop, insee_rp, insee_rp_logement, lovac, sgpe_barometre, sitadel,
        sitadel_communes,
    )

    out = {
        "insee_rp": {v for table in (insee_rp.VARIABLES, insee_rp.EARLIER_VARIABLES, insee_rp.OPTIONAL_VARIABLES)
                     for _, v, _ in table.values()},
        "insee_iris_pop": {v for v, _ in insee_iris_pop.VARIABLES.values()},
        "filosofi": {v for v, _ in filosofi.WIDE_VARIABLES.values()} | {v for v, _ in filosofi.LONG_VARIABLES.values()},
        "cerema_conso": {"conso_naf_ha"} | {f"conso_naf_{d}_ha" for d in cerema_conso.DESTINATIONS.values()},
        "ademe_dpe": {f"nb_dpe_{x.lower()}" for x in ademe_dpe.LABELS} | {f"nb_dpe_ges_{x.lower()}" for x in ademe_dpe.LABELS}
        | {"nb_dpe_total"},
        "energy": {f"conso_{f}_{s}_mwh" for f in set(energy.FILIERES.values()) for s in [*energy.SECTORS.values(), "total"]},
        "ghg": set(ghg.SECTORS.values()) | {"ges_total_tco2e"},
        "sitadel": {v for v in ("logements_autorises", "logements_commences") if f'"{v}"' in inspect.getsource(sitadel)},
        "sitadel_communes": set(sitadel_communes.SERIES.values()),
        "insee_rp_logement": set(insee_rp_logement.VARIABLES.values()),
        "filosofi_2021": {v for v, _ in filosofi_2021.VARIABLES.values()},
        "lovac": {v for v, _ in lovac.COLUMNS.values()},
        "sru": {"taux_logements_sociaux_sru_pct"},
        "catnat": set(catnat.COUNTS.values()) | {"catnat_derniere_annee"},
        "cartofriches": {"friches_sites", "friches_surface_unites_foncieres_ha", *cartofriches.STATUSES.values()}
        | {f"friches_type_{v}" for v in cartofriches.TYPES.values()},
        "anct_programmes": {f"programme_{p}{s}" for p in anct_programmes.PROGRAMMES for s in ("", "_signature")},
        "insee_comparateur": {v for table in (insee_comparateur.CENSUS, insee_comparateur.ESTABLISHMENTS,
                                              insee_comparateur.FILOSOFI) for v, _ in table.values()}
        | set(insee_comparateur.CIVIL),
        "cerema_lyon": {"conso_naf_ha", *cerema_lyon.DESTINATIONS.values(), "logements_autorises", "logements_commences"},
        "ecolab": set(sgpe_barometre.TERRITORIAL_VARIABLES),
        "sgpe_barometre": {k for k, v in sgpe_barometre.TERRITORIAL_VARIABLES.items() if v.national is not None},
    }
    return out


def test_catalogue_size_and_themes():
    cat = load_catalogue()
    assert len(cat) >= 40
    assert set(cat.themes) == THEMES
    assert {i.theme for i in cat} == THEMES  # every theme has indicators
    missing = [i for i in EXPECTED if i not in cat.indicators]
    assert missing == []


def test_every_indicator_is_fully_declared():
    cat = load_catalogue()
    for ind in cat:
        assert ind.label and ind.definition and ind.subject and ind.reference, ind.id
        assert ind.source in cat.sources and ind.theme in cat.themes
        assert ind.polarity in ("higher_better", "higher_worse", "neutral")
        assert "http" in ind.reference, ind.id


def test_components_are_connector_variables():
    cat = load_catalogue()
    known = _connector_variables()
    wrong = [(n, s) for n, c in cat.components.items() for s in c.sources
             if s in known and n not in known[s]]
    assert wrong == []
    assert {s for c in cat.components.values() for s in c.sources} <= set(known) | {"population", "geometry"}


def test_never_an_average_of_ratios():
    """Intensive components (rates, medians) only appear weighted, or as official non-additive values
    (medians of the EPCI, or the rates Écolab and the baromètre publish per région and for France)."""
    cat = load_catalogue()
    for ind in cat:
        if ind.aggregation == "official_only":
            assert ind.kind == "median"
            continue
        if ind.aggregation == "published":
            assert all(cat.components[c].territorial for c in ind.components), ind.id
            continue
        for expr in filter(None, (ind.numerator, ind.denominator)):
            for term in expr.terms:
                kinds = [cat.components[f.component].kind for f in term.factors if f.component]
                if "intensive" in kinds:
                    assert ind.aggregation == "population_weighted" and len(term.factors) == 2, ind.id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", [(1.0, [("a", 0, None, False)])]),
        ("a + b - c", [(1.0, [("a", 0, None, False)]), (1.0, [("b", 0, None, False)]), (-1.0, [("c", 0, None, False)])]),
        ("x - x[-5]", [(1.0, [("x", 0, None, False)]), (-1.0, [("x", -5, None, False)])]),
        ("x[-5:-1]", [(1.0, [("x", -5, -1, False)])]),
        ("p[~]", [(1.0, [("p", 0, None, True)])]),
        ("t * w", [(1.0, [("t", 0, None, False), ("w", 0, None, False)])]),
    ],
)
def test_parse_expression(text, expected):
    expr = parse_expression(text)
    got = [(t.sign, [(f.component, f.lag, f.lag_to, f.nearest) for f in t.factors]) for t in expr.terms]
    assert got == expected


@pytest.mark.parametrize("text", ["a +", "a[-1:-5]", "A", "a[x]", ""])
def test_parse_expression_errors(text):
    with pytest.raises(CatalogueError):
        parse_expression(text)


def _raw() -> dict:
    return yaml.safe_load(CATALOGUE_PATH.read_bytes())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["indicators"][0]["formula"].update(numerator="inconnue"), "composantes inconnues"),
        (lambda d: d["indicators"][0].update(theme="astrologie"), "thème inconnu"),
        (lambda d: d["indicators"][0].update(aggregation="ratio_of_sums"), "incompatible"),
        (lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])), "id en double"),
        # an average of rates: a rate summed without its weight
        (lambda d: next(i for i in d["indicators"] if i["id"] == "taux_pauvrete")["formula"].update(
            numerator="taux_pauvrete_pct"), "doit être pondérée"),
    ],
)
def test_inconsistent_catalogue_is_refused(edit, message):
    data = _raw()
    edit(data)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(data)


def test_unknown_indicator_suggests():
    with pytest.raises(UnknownIndicatorError, match="Indicateur inconnu : « taux_pauvret ».*taux_pauvrete"):
        load_catalogue().get("taux_pauvret")


def test_theme_by_label_or_id():
    cat = load_catalogue()
    assert cat.theme_id("Énergie et climat") == "energie_climat"
    assert cat.theme_id("logement") == "logement"
    with pytest.raises(Exception, match="Thème inconnu"):
        cat.theme_id("astrologie")
