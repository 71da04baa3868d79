"""Why a commune has no value: the fold's reasons, the bundle's ``missing_reasons`` table, the Fiche and
the Comparateur (:mod:`planeco_kernel.indicators.missing`).

The first tests use INVENTED tiny frames (codes are real INSEE codes or made up, values and reasons
are invented test data). The tests marked ``bundle`` read the real bundle (PLANECO_DATA_DIR), built
with the ``missing_reasons`` table.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from planeco_kernel.bundle import schema
from planeco_kernel.errors import SchemaError
from planeco_kernel.indicators import missing as M
from planeco_kernel.indicators.catalogue import load_catalogue
from planeco_kernel.sources.merged_communes import RateRule, fold_rates

EVIL = "Saint-<script>alert(1)</script>'\"><img src=x onerror=alert(2)>"
LOVAC = "taux_vacance_lovac_pct"

# Invented: 00001 absorbed 00002 after the file's geography (2024); 00005 is untouched.
HISTORY = pd.DataFrame([
    ("00001", 2024, "commune-actuelle", "00001"), ("00002", 2024, "commune-actuelle", "00001"),
    ("00001", 2025, "commune-actuelle", "00001"), ("00002", 2025, "commune-deleguee", "00001"),
    ("00005", 2024, "commune-actuelle", "00005"), ("00005", 2025, "commune-actuelle", "00005"),
], columns=["code", "vintage", "type", "current_code"])


def _tidy(var: str, values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"commune_code": list(values), "year": 2024, "variable": var,
                         "value": list(values.values()), "unit": "%"})


def test_the_fold_records_one_reason_row_per_commune_left_missing():
    tidy = pd.concat([_tidy(LOVAC, {"00001": 10.0, "00002": 30.0, "00005": 5.0}),
                      _tidy("niveau_vie_median_eur", {"00001": 20000.0, "00002": 22000.0, "00005": 21000.0})],
                     ignore_index=True)
    rules = [RateRule(LOVAC, "share", None, missing_why="le dénominateur manque (invention de test)"),
             RateRule("niveau_vie_median_eur", "median")]
    folded = fold_rates(tidy, HISTORY, file_vintage=2024, current={"00001", "00005"}, rules=rules)
    rows = folded.reasons("invented")
    assert list(rows.columns) == ["source", "variable", "commune_code", "reason"]
    got = {(r.source, r.variable, r.commune_code): r.reason for r in rows.itertuples()}
    assert set(got) == {("invented", LOVAC, "00001"), ("invented", "niveau_vie_median_eur", "00001")}
    assert got[("invented", LOVAC, "00001")].startswith("le dénominateur manque (invention de test)")
    assert "médiane" in got[("invented", "niveau_vie_median_eur", "00001")]
    # the same reasons as the manifest's text notes, which stay as they are
    notes = " ".join(folded.notes("invented"))
    assert all(why in notes for why in got.values())
    schema.validate(rows, "missing_reasons")  # the bundle table's contract


def test_nothing_missing_gives_an_empty_valid_table():
    folded = fold_rates(_tidy(LOVAC, {"00005": 5.0}), HISTORY, file_vintage=2024, current={"00001", "00005"},
                        rules=[RateRule(LOVAC, "share", None, missing_why="x")])
    rows = folded.reasons("invented")
    assert rows.empty
    schema.validate(rows, "missing_reasons")


@pytest.mark.parametrize("change, message", [
    (lambda df: df.drop(columns="reason"), "missing columns"),
    (lambda df: pd.concat([df, df], ignore_index=True), "duplicated primary keys"),
    (lambda df: df.assign(reason=pd.Series([None], dtype="string")), "null values"),
])
def test_schema_rejects_a_broken_table(change, message):
    ok = pd.DataFrame({"source": ["lovac"], "variable": [LOVAC], "commune_code": ["01187"], "reason": ["x"]},
                      dtype="string")
    schema.validate(ok, "missing_reasons")
    with pytest.raises(SchemaError, match=message):
        schema.validate(change(ok), "missing_reasons")


def test_reason_lookup_maps_components_to_indicators():
    cat = load_catalogue()
    reasons = M.index_reasons(pd.DataFrame({
        "source": ["lovac", "lovac", "sru"], "variable": [LOVAC, "taux_vacance_longue_lovac_pct", "taux_logements_sociaux_sru_pct"],
        "commune_code": ["00001", "00001", "00002"], "reason": ["raison A (test)", "raison B (test)", "raison C (test)"]}))
    assert M.reason_for(reasons, cat, "taux_vacance_lovac", "00001") == "raison A (test)"
    assert M.reason_for(reasons, cat, "taux_vacance_longue_lovac", "00001") == "raison B (test)"
    assert M.reason_for(reasons, cat, "taux_vacance_lovac", "00002") is None  # another indicator's reason
    assert M.reason_for(reasons, cat, "taux_logements_sociaux_sru", "00002") == "raison C (test)"
    assert M.reason_for(reasons, cat, "taux_vacance_lovac", "99999") is None
    # a reason recorded for the variable by a source the component does not read is not this indicator's
    other = M.index_reasons(pd.DataFrame({"source": ["sru"], "variable": [LOVAC], "commune_code": ["00001"],
                                          "reason": ["autre source (test)"]}))
    assert M.reason_for(other, cat, "taux_vacance_lovac", "00001") is None
    assert M.missing_text("raison A (test)") == "non disponible : raison A (test)"
    assert M.missing_text(None) == "non disponible pour ce territoire"


def test_cells_withheld_by_the_publisher_are_recorded_not_kept(tmp_path):
    import copy

    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.bundle.sources_step import LoadedSource, _withheld_reasons, write_missing_reasons
    from planeco_kernel.sources import lovac
    from planeco_kernel.sources.tidy import withheld

    # invented LOVAC rates: 00005 has its long-term rate withheld, 00002 (absorbed, not current) both
    wide = pd.DataFrame({"commune_code": ["00005", "00002", "00007"], "taux_vacance_25_pct": [8.0, None, 6.0],
                         "taux_vacance_long_25_pct": [None, None, 2.0]})
    tidy = lovac.tidy(wide)
    assert tidy["value"].notna().all() and len(tidy) == 3
    cells = withheld(tidy)
    assert cells is not None and cells.reason == lovac.SECRET_REASON
    assert set(cells.rows) == {("00005", "taux_vacance_longue_lovac_pct"), ("00002", LOVAC),
                               ("00002", "taux_vacance_longue_lovac_pct")}
    assert copy.deepcopy(cells) is cells and withheld(tidy[tidy["value"] > 0]) is cells
    got = LoadedSource({"lovac": tidy}, "test")
    rows = _withheld_reasons("lovac", got, {"00001", "00005", "00007"})
    assert rows is not None
    assert rows[["variable", "commune_code"]].values.tolist() == [["taux_vacance_longue_lovac_pct", "00005"]]
    assert withheld(got.frames["lovac"]) is None  # popped: the frame is written to Parquet as any other
    got.frames["lovac"].to_parquet(tmp_path / "lovac.parquet")
    # the table: the fold's reason (first) wins over the secret for the same commune and variable
    fold = pd.DataFrame({"source": ["lovac"], "variable": ["taux_vacance_longue_lovac_pct"], "commune_code": ["00005"],
                         "reason": ["raison du pliage (test)"]}, dtype="string")
    pd.DataFrame({"level": ["commune"], "code": ["00005"]}).to_parquet(tmp_path / "territories.parquet")
    table = write_missing_reasons(Bundle(tmp_path), [fold, rows])
    assert table["reason"].tolist() == ["raison du pliage (test)"]
    assert pd.read_parquet(tmp_path / "sources" / "missing_reasons.parquet").equals(table)


# --------------------------------------------------------------------------- the real bundle


def _manifest_examples(bundle, source: str, variable: str) -> list[str]:
    """The commune codes the manifest's text note lists for ``source`` / ``variable`` (up to 5)."""
    import re

    for entry in bundle.manifest_dict().get("indicator_sources", []):
        for note in entry.get("notes", []):
            if note.startswith(f"{source} : {variable} : ") and "valeurs non disponibles" in note:
                return re.findall(r"(?:: | ; )(\d[0-9AB]\d{3}) \(", note)
    return []


@pytest.fixture(scope="module")
def real_bundle(bundle_dir):
    from planeco_kernel.bundle.reader import Bundle

    b = Bundle(bundle_dir)
    if not b.has("missing_reasons"):
        pytest.fail(f"{bundle_dir} has no missing_reasons table: rebuild it (planeco data build).")
    return b


@pytest.mark.bundle
def test_real_table_has_the_manifest_reasons(real_bundle):
    table = schema.validate(real_bundle.read("missing_reasons"), "missing_reasons")
    for source, var in (("lovac", LOVAC), ("filosofi_2021", "niveau_vie_median_eur")):
        listed = _manifest_examples(real_bundle, source, var)
        assert "01187" in listed, listed
        rows = table[(table["source"] == source) & (table["variable"] == var)]
        assert set(listed) <= set(rows["commune_code"])
        assert rows["reason"].str.len().min() > 10
    why = table.set_index(["source", "variable", "commune_code"]).loc[("lovac", LOVAC, "01187"), "reason"]
    assert "parc privé" in why and "01330" in why
    paris = table.set_index(["source", "variable", "commune_code"]).loc[("lovac", LOVAC, "75056"), "reason"]
    assert paris.startswith("non disponible à l'échelle de la commune, voir les arrondissements")
    assert M.missing_reason(real_bundle, "taux_vacance_lovac", "commune", "01187") == why
    assert M.missing_reason(real_bundle, "taux_vacance_lovac", "epci", "01187") is None


@pytest.fixture(scope="module")
def cube(real_bundle):
    from planeco_kernel.indicators.cube import load_cube

    return load_cube(real_bundle)


@pytest.mark.bundle
def test_real_fiche_figure_shows_the_reason(cube):
    from planeco_kernel.apps import fiche_figures as F

    vacance = {s.key: s for s in F.sections(cube, "commune", "01187")}["vacance"]
    fig = {f.indicator: f for f in vacance.figures}["taux_vacance_lovac"]
    assert fig.value_text == "non disponible"
    assert fig.note.startswith("non disponible : ") and "parc privé" in fig.note and "01330" in fig.note
    # a commune with a LOVAC value has no note; one without a known reason keeps the general words
    ok = {f.indicator: f for s in F.sections(cube, "commune", "01004") for f in s.figures}["taux_vacance_lovac"]
    assert ok.note == "" and ok.value_text != "non disponible"
    no_reason = dataclasses.replace(cube, missing_reasons={})
    fig2 = {f.indicator: f for s in F.sections(no_reason, "commune", "01187") for f in s.figures}["taux_vacance_lovac"]
    assert fig2.note == "non disponible pour ce territoire"


@pytest.mark.bundle
def test_real_comparateur_card_shows_the_reason(cube):
    from planeco_kernel.apps.comparateur_data import card_of
    from planeco_kernel.apps.comparateur_html import card_html
    from planeco_kernel.indicators.comparison import Comparator

    item = next(i for i in Comparator(cube).compare("01187", "commune").indicators if i.id == "taux_vacance_lovac")
    card = card_of(item)
    assert not card.has_value
    assert card.note.startswith("non disponible : ") and "01330" in card.note
    assert "parc privé" in card_html(card)


@pytest.mark.bundle
def test_real_hostile_reason_is_escaped_on_the_fiche(cube):
    from planeco_kernel.apps import fiche_figures as F
    from planeco_kernel.apps import templates

    evil = dataclasses.replace(cube, missing_reasons={"01187": [("lovac", LOVAC, EVIL)]})
    html = templates.macro("fiche_figures.html", "figures", "commune:01187", [], "", F.sections(evil, "commune", "01187"))
    assert "&lt;script&gt;" in html and "<script>" not in html and "<img" not in html


@pytest.mark.bundle
def test_real_lovac_secret_cell_is_said_on_the_fiche(real_bundle, cube):
    """A commune the mirrored LOVAC file lists with an empty rate (statistical secret): the table and the Fiche say so."""
    from planeco_kernel.apps import fiche_figures as F
    from planeco_kernel.sources import base, lovac

    wide = lovac.parse(base.resolve_mirror(None) / lovac.RELEASE.mirror_path)
    communes = set(cube.components.codes)
    secret = [c for c in wide.loc[wide["taux_vacance_25_pct"].isna(), "commune_code"] if c in communes]
    assert secret
    code = sorted(secret)[0]
    table = real_bundle.read("missing_reasons")
    row = table[(table["source"] == "lovac") & (table["variable"] == LOVAC) & (table["commune_code"] == code)]
    assert row["reason"].tolist() == [lovac.SECRET_REASON]
    fig = {f.indicator: f for s in F.sections(cube, "commune", code) for f in s.figures}["taux_vacance_lovac"]
    assert fig.value_text == "non disponible" and fig.note == f"non disponible : {lovac.SECRET_REASON}"
