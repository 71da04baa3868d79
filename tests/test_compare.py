"""Comparisons: French formatting and wording, and ranks/percentiles cross-checked against a naive
reference on the real bundle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.indicators import sentences as fr

NB = "\u202f"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (12345, "habitants", f"12{NB}345{NB}habitants"),
        (3.4, "%", f"3,4{NB}%"),
        (0.4037, "% par an", f"0,40{NB}% par an"),
        (1234567.8, "", f"1{NB}234{NB}568"),
        (-1500, "habitants", f"−1{NB}500{NB}habitants"),
        (float("nan"), "%", "non disponible"),
        (None, "%", "non disponible"),
        (47.0, "habitants", "47\u202fhabitants"),
        (1.0, "habitants", "1\u202fhabitant"),
        (0.2, "ménages", "0\u202fménage"),
        (21730.4, "€ par an", f"21{NB}730{NB}€ par an"),
        (3.24, "ratio", "3,2"),
    ],
)
def test_format_value(value, unit, text):
    assert fr.format_value(value, unit) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(1.2, "%", f"+1,2{NB}point"), (-4.0, "%", f"−4,0{NB}points"), (1730, "habitants", f"+1{NB}730{NB}habitants"),
     (47.0, "habitants", f"+47{NB}habitants"), (0.0, "habitants", f"0{NB}habitant"),
     (-1.0, "logements", f"−1{NB}logement"), (305.4, "€ par an", f"+305{NB}€")],
)
def test_format_signed(value, unit, text):
    assert fr.format_signed(value, unit) == text


@pytest.mark.parametrize(
    ("percentile", "polarity", "expected"),
    [
        (90, "higher_worse", "dans le quart des communes du SCoT où le taux de pauvreté atteint les valeurs les plus élevées"),
        (90, "higher_worse", "Situation défavorable."),
        (10, "higher_worse", "Situation favorable."),
        (10, "higher_better", "les valeurs les plus faibles"),
        (50, "higher_better", "dans la moitié centrale des communes du SCoT"),
        (90, "neutral", "les plus élevées (17,0"),
    ],
)
def test_sentence_uses_polarity(percentile, polarity, expected):
    text = fr.comparison_sentence(level="commune", group="scot", subject="le taux de pauvreté", percentile=percentile,
                                  polarity=polarity, value_text="17,0 %", reference_text="14,1 % pour le SCoT",
                                  provenance="Insee, Filosofi 2016")
    assert expected in text
    assert text.startswith("Votre commune")
    if polarity == "neutral":
        assert "Situation" not in text


@pytest.mark.parametrize(
    ("top", "n", "bottom", "text"),
    [(1, 36, None, "1re valeur la plus élevée sur 36"), (5, 53, None, "5e valeur la plus élevée sur 53"),
     (18, 36, None, "18e valeur la plus élevée sur 36"), (35, 36, None, "2e valeur la plus basse sur 36"),
     (35, 36, 1, "1re valeur la plus basse sur 36"),  # ties: the bottom rank is given
     (1, 1, 1, "seule valeur du groupe"), (None, 10, None, "rang non calculable"), (3, 0, None, "rang non calculable")],
)
def test_rank_text_says_its_direction(top, n, bottom, text):
    assert fr.rank_text(top, n, bottom) == text


@pytest.mark.parametrize(
    ("difference", "unit", "growth", "text"),
    [(305.4, "€ par an", 1.43, f"+305{NB}€ entre 2015 et 2016 (+1,4{NB}%/an)"),
     (492.0, "habitants", 0.019, f"+492{NB}habitants entre 2015 et 2016 (+0,02{NB}%/an)"),
     (-0.4, "%", None, f"−0,40{NB}point entre 2015 et 2016"),
     (0.12, "% par an", None, f"+0,12{NB}point entre 2015 et 2016"),
     (-1500.0, "DPE", None, f"−1{NB}500{NB}DPE entre 2015 et 2016")],
)
def test_evolution_text_is_a_difference_not_a_yearly_amount(difference, unit, growth, text):
    assert fr.evolution_text(difference, 2015, 2016, unit, growth) == text


@pytest.mark.parametrize(
    ("level", "group", "text"),
    [("commune", "epci", "pour la commune médiane de l'EPCI"), ("epci", "departement", "pour l'intercommunalité médiane du département"),
     ("commune", "peers", "pour la médiane des communes comparables"), ("scot", "region", "pour le SCoT médian de la région")],
)
def test_median_reference(level, group, text):
    assert fr.median_reference(level, group) == text


@pytest.mark.parametrize(
    ("value", "total", "subject", "text"),
    [(173136, 408391, "la population municipale", f"42{NB}% de la population municipale de l'EPCI"),
     (520, 40000, "le nombre de ménages", f"1,3{NB}% du nombre de ménages de l'EPCI"),
     (10, 5, "les émissions", None), (-3, 100, "la population municipale", None), (3, 0, "x", None)],
)
def test_share_text(value, total, subject, text):
    assert fr.share_text(value, total, subject, "epci") == text


def test_sentence_quotes_the_median_and_the_aggregate_separately():
    text = fr.comparison_sentence(level="commune", group="epci", subject="le taux de pauvreté", percentile=40,
                                  polarity="higher_worse", value_text="15,0 %",
                                  reference_text="18,1 % pour la commune médiane de l'EPCI",
                                  context_text="ensemble de l'EPCI : 16,2 %", provenance="Insee, Filosofi 2016")
    assert text == ("Votre commune se situe dans la moitié centrale des communes de l'EPCI pour le taux de pauvreté "
                    "(15,0 % contre 18,1 % pour la commune médiane de l'EPCI ; ensemble de l'EPCI : 16,2 % ; "
                    "Insee, Filosofi 2016).")


@pytest.mark.parametrize(
    ("level", "name", "shown"),
    [("scot", "SM du SCOT du Pays de Gex", "SCoT du Pays de Gex"),
     ("scot", "SM chargé de l'élaboration du SCOT de l'agglomération messine", "SCoT de l'agglomération messine"),
     ("scot", "SM Provence verte Verdon", "Syndicat mixte Provence verte Verdon"),
     ("scot", "CC du Pays de Fayence", "CC du Pays de Fayence"), ("scot", "SCOT BUCOPA", "SCoT BUCOPA"),
     ("epci", "SM du SCOT du Pays de Gex", "SM du SCOT du Pays de Gex"), ("scot", None, "")],
)
def test_display_name(level, name, shown):
    assert fr.display_name(level, name) == shown


def test_sentence_plural_subject():
    text = fr.comparison_sentence(level="epci", group="departement", subject="les émissions de gaz à effet de serre",
                                  percentile=80, polarity="higher_worse", value_text="x", reference_text="y",
                                  provenance="p")
    assert "les émissions de gaz à effet de serre atteignent" in text and text.startswith("Votre intercommunalité")


# --------------------------------------------------------------------------- real bundle


@pytest.fixture(scope="module")
def cube(bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    return load_cube(bundle_dir)


def naive_rank_percentile(cube, level, code, indicator_id, group_level, year):
    """Plain loops: the group's values, then ranks (from the top: 1 = highest; from the bottom: 1 = lowest),
    percentile (share ≤ value) and median."""
    from planeco_kernel.indicators.cube import PARENT_COLUMNS

    t = cube.territories
    here = t[t["level"] == level].set_index("code")
    ds = cube.dataset(level)
    series = ds[indicator_id].sel(year=year).to_series()
    parent = "FR" if group_level == "france" else here.loc[code, PARENT_COLUMNS[group_level]]
    values = []
    parents = ["FR"] * len(here) if group_level == "france" else here[PARENT_COLUMNS[group_level]].tolist()
    for other, p in zip(here.index.tolist(), parents):
        if p == parent:
            v = series.get(other)
            if v is not None and not math.isnan(v):
                values.append(v)
    x = series[code]
    above = sum(1 for v in values if v > x)
    below = sum(1 for v in values if v < x)
    values.sort()
    m = len(values) // 2
    median = values[m] if len(values) % 2 else (values[m - 1] + values[m]) / 2
    return above + 1, below + 1, 100 * sum(1 for v in values if v <= x) / len(values), len(values), median


@pytest.mark.bundle
@pytest.mark.parametrize(
    ("code", "level"),
    [("01004", "commune"), ("75056", "commune"), ("2A004", "commune"), ("200000172", "epci"), ("13", "departement")],
)
def test_ranks_and_percentiles_match_naive(cube, code, level):
    from planeco_kernel.indicators.comparison import compare

    res = compare(code, level, cube=cube)
    checked = 0
    for item in res.indicators:
        if not item.available or item.id not in ("population", "taux_pauvrete", "croissance_population_annuelle_5ans"):
            continue
        for g in item.groups:
            if g.group == "peers" or g.rank is None:
                continue
            top, bottom, pct, n, median = naive_rank_percentile(cube, level, code, item.id, g.group, item.year)
            assert (g.rank, g.rank_from_bottom, g.count) == (top, bottom, n), (item.id, g.group)
            assert g.percentile == pytest.approx(pct)
            assert g.median == pytest.approx(median)
            checked += 1
    assert checked >= 3


@pytest.mark.bundle
def test_comparison_content(cube):
    from planeco_kernel.indicators.comparison import compare

    res = compare("01004", cube=cube)
    assert res.level == "commune" and res.name == "Ambérieu-en-Bugey"
    assert set(res.parents) >= {"epci", "departement", "region", "france", "peers"}
    pop = res["population"]
    assert pop.year == 2023 and pop.value == cube.dataset("commune")["population"].sel(territory="01004", year=2023).item()
    fr_group = next(g for g in pop.groups if g.group == "france")
    assert fr_group.value == cube.dataset("france")["population"].sel(territory="FR", year=2023).item()
    assert fr_group.gap == pytest.approx(pop.value - fr_group.value)
    assert pop.evolution["from_year"] == 2018 and pop.evolution["difference"] > 0
    assert pop.sentence.startswith("Votre commune") and "Insee" in pop.sentence
    assert pop.source and pop.vintage
    tp = res["taux_pauvrete"]
    assert tp.value == pytest.approx(17.0) and "Filosofi 2016" in tp.sentence
    peers = next(g for g in pop.groups if g.group == "peers")
    assert peers.name.startswith("10 000 à 19 999 habitants")
    unavailable = [i for i in res.indicators if not i.available]
    assert all(i.reason for i in unavailable)
    d = res.to_dict()
    assert d["indicators"][0]["groups"]
    assert not res.to_frame().empty


@pytest.mark.bundle
def test_sentence_agrees_with_its_figures(cube):
    """The sentence's reference is the median of the group the percentile is computed in (hand-checked on
    the group's values); a rate also quotes the parent's aggregate, a count its share of the parent."""
    from planeco_kernel.indicators.comparison import compare

    res = compare("69123", cube=cube)
    tp = res["taux_pauvrete"]
    epci = next(g for g in tp.groups if g.group == "epci")
    _, _, pct, _, median = naive_rank_percentile(cube, "commune", "69123", "taux_pauvrete", "epci", tp.year)
    above = pct > 50
    assert (tp.value > median) == above
    assert f"contre {fr.format_value(median, '%')} pour la commune médiane de l'EPCI" in tp.sentence
    assert f"ensemble de l'EPCI : {fr.format_value(epci.value, '%')}" in tp.sentence
    pop = res["population"]
    epci = next(g for g in pop.groups if g.group == "epci")
    share = round(100 * pop.value / epci.value)
    assert f"{share}{NB}% de la population municipale de l'EPCI" in pop.sentence
    assert "pour l'EPCI" not in pop.sentence
    var = res["variation_population_5ans"]
    assert "de l'EPCI ;" not in var.sentence.split("médiane de l'EPCI", 1)[1]  # no share of a change
    # Filosofi 2021 gives Paris, Lyon and Marseille by arrondissement only (a median is not summed):
    # Lyon has no 2021 median, so the evolution is checked on Saint-Étienne
    assert res["niveau_vie_median"].value is None and res["niveau_vie_median"].year == 2021
    nv = compare("42218", cube=cube)["niveau_vie_median"]
    assert nv.evolution["text"].startswith("+") and "par an entre" not in nv.evolution["text"] and "%/an" in nv.evolution["text"]
    scot = next(g for g in nv.groups if g.group == "scot")
    assert scot.value is None and scot.value_note == "médiane non calculable par agrégation des communes"
    d = res.to_dict()["indicators"][0]["groups"][0]
    assert {"rank_from_top", "rank_from_bottom", "n", "percentile", "median", "rank_text"} <= set(d)
    sph = res["surface_par_habitant"]
    assert "populations municipales 2023 ; contours COG 2025" in sph.sentence


@pytest.mark.bundle
def test_peer_groups_are_declared_classes(cube):
    from planeco_kernel.indicators.comparison import comparator

    tab = comparator(cube).tables("commune")
    keys = {k for k in tab.groups["peers"] if k is not None}
    n_size, n_dens = len(cube.catalogue.size_classes), len(cube.catalogue.density_classes)
    assert keys <= {f"t{s}-d{d}" for s in range(n_size) for d in range(n_dens)} | {f"t{s}" for s in range(n_size)}
    assert len(keys) > 10


@pytest.mark.bundle
def test_unknown_territory(cube):
    from planeco_kernel.errors import TerritoryNotFoundError
    from planeco_kernel.indicators.comparison import compare

    with pytest.raises(TerritoryNotFoundError, match="Territoire inconnu"):
        compare("99999", cube=cube)
    with pytest.raises(TerritoryNotFoundError, match="Territoire inconnu"):
        compare("01004", "epci", cube=cube)


@pytest.mark.bundle
def test_france_compares_without_parents(cube):
    from planeco_kernel.indicators.comparison import compare

    res = compare("FR", cube=cube)
    assert res.level == "france" and res.parents == {}
    assert res["population"].value > 6e7
    assert np.isfinite(res["population"].value)


@pytest.mark.bundle
def test_views(cube):
    from planeco_kernel.indicators import views

    av = views.availability(cube, "revenus_pauvrete")
    assert (av["statut"] == "disponible").all() and len(av) == 9  # with the share of minimum benefits (Filosofi 2021)
    text = views.theme_summary(cube, "mobilites")
    assert "indisponibles" in text and "planeco data build" in text
    top = views.ranking(cube, "taux_pauvrete", "commune", within="01", n=3)
    assert list(top["code"]) == ["01269", "01283", top["code"][2]] and top["valeur"].is_monotonic_decreasing
    # no commuting data in this bundle (census dossier complet only online): no invented ranking
    assert views.ranking(cube, "part_navetteurs_voiture", "commune").empty
    s = views.series(cube, "population", ["01004"], "commune")
    assert list(s.index)[:1] == [2018] and s.iloc[-1, 0] == 15934
    prof = views.profile(cube, "01004", "revenus_pauvrete")
    assert prof["phrase"].str.startswith("Votre commune").all()
    assert prof["position"].str.contains(r"valeur la plus (?:élevée|basse) sur \d+ \(département\)").all()
    nv = prof.set_index("indicateur").loc["Niveau de vie médian"]
    assert nv["departement"] == "médiane non calculable par agrégation des communes"


def test_package_compare_stays_a_function_after_importing_the_module():
    """The comparison module is not named `compare`: importing it must not shadow `indicators.compare()`."""
    import planeco_kernel.indicators as indicators
    import planeco_kernel.indicators.comparison  # noqa: F401

    assert callable(indicators.compare) and not hasattr(indicators.compare, "__file__")


@pytest.mark.bundle
def test_ranks_medians_and_counts_equal_a_pandas_reference(cube):
    """Group statistics are computed per group on first use (sorted columns, binary search); the
    reference ranks every commune of every département with pandas, as the engine once did."""
    import random

    from planeco_kernel.indicators.comparison import comparator

    comp = comparator(cube)
    tab = comp.tables("commune")
    frame = pd.DataFrame(tab.latest)
    keys = pd.Series(tab.groups["departement"], dtype=object)
    grouped = frame.groupby(keys.to_numpy(), dropna=True)
    ref = {
        "rank": grouped.rank(method="min", ascending=False).to_numpy(),
        "rank_from_bottom": grouped.rank(method="min", ascending=True).to_numpy(),
        "percentile": (grouped.rank(method="max", pct=True) * 100).to_numpy(),
        "median": grouped.transform("median").to_numpy(),
        "count": frame.notna().groupby(keys.to_numpy()).transform("sum").to_numpy(),
    }
    random.seed(7)
    codes = random.sample(sorted(tab.row), 40) + ["01004", "69123", "2A004"]
    checked = 0
    for code in codes:
        res = comp.compare(code, "commune")
        i = tab.row[code]
        for item in res.indicators:
            if not item.available:
                continue
            k = tab.ids.index(item.id)
            (dep,) = [g for g in item.groups if g.group == "departement"]
            for field, want in ((f, ref[f][i, k]) for f in ref):
                got = getattr(dep, field)
                if np.isnan(want):
                    assert got is None, (code, item.id, field)
                else:
                    assert got == pytest.approx(want, rel=1e-9), (code, item.id, field)
                    checked += 1
    assert checked > 5_000


@pytest.mark.bundle
def test_precomputed_group_statistics_are_those_computed_on_use(cube):
    """``precompute`` (a preheated kernel) sorts every group of at least ``min_members`` territories
    ahead, the same statistics a comparison would compute on first use; smaller groups stay lazy."""
    from planeco_kernel.indicators.comparison import PRECOMPUTED_GROUP_SIZE, Comparator

    ahead, lazy = Comparator(cube).tables("commune"), Comparator(cube).tables("commune")
    n = ahead.precompute()
    sizes = {g: pd.Series(keys, dtype=object).value_counts(dropna=True) for g, keys in ahead.groups.items()}
    big = {(g, k) for g, s in sizes.items() for k, c in s.items() if c >= PRECOMPUTED_GROUP_SIZE}
    assert n == len(big) and set(ahead._stats) == big
    assert ("france", "FR") in big and any(g == "region" for g, _ in big)
    for g, k in sorted(big, key=str)[:12]:
        a, b = ahead._stats[(g, k)], lazy.stats(g, k)
        assert np.array_equal(a.sorted, b.sorted, equal_nan=True) and np.array_equal(a.count, b.count)
        assert np.array_equal(a.median, b.median, equal_nan=True)
