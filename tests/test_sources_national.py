"""The per-commune aggregates of national files (Sit@del, RP 2021, Filosofi 2021, LOVAC, SRU, CatNat,
Cartofriches, ANCT) on the REAL files of the offline mirror, plus INVENTED fixtures for bad input.

The real files are read from the shared mirror (``PLANECO_MIRROR``, else ``../shared/data`` beside
the checkout). The published totals they are checked against are those of the mirror README.
Fixtures written by these tests (``tmp_path``) are invented test data, not real values.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel import config
from planeco_kernel.errors import ChecksumError, SchemaError
from planeco_kernel.sources import (
    anct_programmes,
    cartofriches,
    catnat,
    filosofi_2021,
    gazetteer,
    insee_rp_logement,
    lovac,
    sitadel_communes,
    sru,
)

CONNECTORS = (sitadel_communes, insee_rp_logement, filosofi_2021, lovac, sru, catnat, cartofriches, anct_programmes)


def _mirror() -> Path | None:
    env = config.mirror_dir()
    candidates = ([env] if env else []) + config.default_mirror_candidates()
    return next((p for p in candidates if p and (p / sitadel_communes.RELEASE.mirror_path).is_file()), None)


MIRROR = _mirror()
needs_mirror = pytest.mark.skipif(MIRROR is None, reason="offline mirror with the national aggregates not found (set PLANECO_MIRROR)")


def _path(mod) -> Path:
    return MIRROR / mod.RELEASE.mirror_path


def _no_totals(mod):
    """The module's release without published totals nor checksum (for invented fixtures)."""
    extra = {k: v for k, v in mod.RELEASE.extra.items() if k not in ("totals", "sha256")}
    return dataclasses.replace(mod.RELEASE, extra=extra)


@pytest.fixture(scope="module")
def sitadel_wide() -> pd.DataFrame:
    return sitadel_communes.parse(_path(sitadel_communes))


# --------------------------------------------------------------------------- real files


@needs_mirror
def test_sitadel_published_totals_and_blank_is_not_zero(sitadel_wide):
    by_year = sitadel_wide.groupby("year")[["a", "s"]].sum(min_count=1)
    assert by_year.loc[2022, "a"] == 451_889
    assert by_year.loc[2023, "a"] == 354_879
    # the latest started year is provisional: blank for every commune, never 0
    assert sitadel_communes.latest_started_year(sitadel_wide) == 2025
    assert sitadel_wide.loc[sitadel_wide["year"] == 2025, "s"].isna().all()
    assert math.isnan(by_year.loc[2025, "s"])
    tidy = sitadel_communes.tidy(sitadel_wide)
    started_2025 = tidy[(tidy["year"] == 2025) & (tidy["variable"] == "logements_commences")]
    assert len(started_2025) > 30_000 and started_2025["value"].isna().all()
    assert not (tidy["value"] < 0).any()  # -1 never reaches a sum


@needs_mirror
def test_sitadel_known_commune_values(sitadel_wide):
    row = sitadel_wide[(sitadel_wide["commune_code"] == "01001") & (sitadel_wide["year"] == 2013)].iloc[0]
    assert (row["a"], row["s"], row["c"]) == (5, 4, 0)
    codes = set(sitadel_wide["commune_code"])
    assert {"75056", "69123", "13055"} <= codes
    assert not any(c.startswith("751") and c != "75056" for c in codes)  # arrondissements folded


@needs_mirror
def test_rp2021_totals_without_arrondissements():
    wide = insee_rp_logement.parse(_path(insee_rp_logement))
    arr = insee_rp_logement.is_arrondissement(wide["commune_code"])
    assert int(arr.sum()) == 45
    whole = wide[~arr]
    assert whole["log"].sum() == 37_153_192
    assert round(100 * whole["vac"].sum() / whole["log"].sum(), 2) == 8.08
    # the arrondissements add up to their commune: summing both would count Paris twice
    paris = wide[wide["commune_code"].str.startswith("751") & arr]["log"].sum()
    assert abs(paris - wide.loc[wide["commune_code"] == "75056", "log"].iloc[0]) <= 20


@needs_mirror
def test_filosofi_2021_and_minima_label():
    df = filosofi_2021.load(mirror=MIRROR)
    med = df[df["variable"] == "niveau_vie_median_eur"].set_index("commune_code")["value"]
    assert len(med) == 31_322 and med["01001"] == 25_820
    minima = df[df["variable"] == "part_minima_sociaux_pct"]
    assert len(minima) == 5_343 and "taux_pauvrete_pct" not in set(df["variable"])


@needs_mirror
def test_lovac_rates():
    df = lovac.load(mirror=MIRROR).pivot(index="commune_code", columns="variable", values="value")
    assert df.loc["01004", "taux_vacance_lovac_pct"] == 6.29
    assert df.loc["01004", "taux_vacance_longue_lovac_pct"] == 3.48
    assert "01001" not in df.index  # secret: no row, never 0


@needs_mirror
def test_sru_rates():
    df = sru.load(mirror=MIRROR).set_index("commune_code")["value"]
    assert len(df) == 35_228 and df["75056"] == 21.0


@needs_mirror
def test_catnat_published_total_and_categories():
    df, ref, window = catnat.parse(_path(catnat))
    assert (ref, window) == (2025, 10)
    assert df["total"].sum() == 260_799 and len(df) == 34_704
    r = df.set_index("commune_code").loc["01053"]
    assert (r["total"], r["recent"], r["inond"], r["sech"], r["mvt"], r["temp"]) == (13, 4, 6, 4, 1, 1)
    assert (df[list(catnat.CATEGORIES)].sum(axis=1) <= df["total"]).all()


@needs_mirror
def test_cartofriches_total_sites():
    df = cartofriches.parse(_path(cartofriches))
    assert df["friches_sites"].sum() == 27_983 and len(df) == 9_138
    r = df.set_index("commune_code").loc["61214"]
    assert (r["friches_sites"], r["friches_sans_projet"], r["friches_avec_projet"], r["surface_m2"]) == (28, 17, 11, 160_728)


@needs_mirror
def test_anct_programme_counts_and_dates():
    df = anct_programmes.parse(_path(anct_programmes))
    assert (int(df["acv"].sum()), int(df["pvd"].sum()), int(df["ort"].sum())) == (245, 1_646, 2_265)
    tidy = anct_programmes.tidy(df)
    badges = anct_programmes.badges(tidy[tidy["commune_code"] == "01053"])
    assert [(b.key, str(b.signed_at)) for b in badges] == [("acv", "2024-01-25"), ("ort", "2019-10-07")]


@needs_mirror
@pytest.mark.parametrize("mod", CONNECTORS, ids=lambda m: m.SOURCE_ID)
def test_every_connector_loads_the_real_file(mod):
    df = mod.load(mirror=MIRROR)
    assert len(df) > 1000 and df["commune_code"].str.fullmatch(r"[0-9][0-9AB][0-9]{3}").all()


# --------------------------------------------------------------------------- bad input (INVENTED fixtures)


def _write_json(path: Path, doc, *, gz: bool) -> Path:
    raw = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def test_published_total_mismatch_is_a_build_error(tmp_path):
    # INVENTED data: one commune, 10 dwellings authorised in 2022, against a declared total of 451,889
    doc = {"meta": {}, "communes": {"01001": {"y0": 2022, "a": [10], "s": [-1], "c": [2]}}}
    path = _write_json(tmp_path / "sitadel.json.gz", doc, gz=True)
    with pytest.raises(gazetteer.PublishedTotalError, match="communes = 1, the published total is 34,746"):
        sitadel_communes.parse(path)
    only_2022 = dataclasses.replace(sitadel_communes.RELEASE, extra={"totals": {"authorised": {2022: 451_889}}})
    with pytest.raises(gazetteer.PublishedTotalError, match="autorisés 2022 = 10, the published total is 451,889"):
        sitadel_communes.parse(path, only_2022)
    wide = sitadel_communes.parse(path, _no_totals(sitadel_communes))
    assert wide["a"].tolist() == [10.0] and math.isnan(wide["s"].iloc[0])


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"y0": 2013, "a": [1, 2], "s": [1], "c": [0, 0]}, "different lengths"),
        ({"y0": 2013, "a": [1, -2], "s": [1, 1], "c": [0, 0]}, "not counts nor -1"),
        ({"y0": 2013, "a": [1, 1], "s": [1, 1], "c": [3, 0]}, "collective dwellings exceed"),
        ({"y0": 2013, "a": [1]}, "expected keys"),
    ],
)
def test_sitadel_bad_records(tmp_path, record, match):
    path = _write_json(tmp_path / "s.json.gz", {"communes": {"01001": record}}, gz=True)  # INVENTED
    with pytest.raises(SchemaError, match=match):
        sitadel_communes.parse(path, _no_totals(sitadel_communes))


def test_bad_commune_codes_are_refused(tmp_path):
    path = _write_json(tmp_path / "s.json.gz", {"communes": {"1001": {"y0": 2013, "a": [1], "s": [1], "c": [0]}}}, gz=True)
    with pytest.raises(SchemaError, match="invalid codes"):
        sitadel_communes.parse(path, _no_totals(sitadel_communes))


def test_rp2021_parts_must_add_up(tmp_path):
    doc = {"meta": {"data_year": 2021}, "communes": {"01001": {"log": 100, "rp": 50, "rsec": 10, "vac": 5, "vacancy_rate_pct": 5.0}}}
    path = _write_json(tmp_path / "rp.json.gz", doc, gz=True)  # INVENTED
    with pytest.raises(SchemaError, match="rp \\+ rsec \\+ vac"):
        insee_rp_logement.parse(path, _no_totals(insee_rp_logement))
    doc["meta"]["data_year"] = 2020
    _write_json(tmp_path / "rp.json.gz", doc, gz=True)
    with pytest.raises(SchemaError, match="data_year"):
        insee_rp_logement.parse(path, _no_totals(insee_rp_logement))


def test_catnat_categories_above_total(tmp_path):
    doc = {"ref_year": 2025, "window_years": 10,
           "communes": [{"insee": "01001", "total": 1, "recent": 0, "last_year": 2000, "inond": 2}]}  # INVENTED
    path = _write_json(tmp_path / "c.json.gz", doc, gz=True)
    with pytest.raises(SchemaError, match="exceed the total"):
        catnat.parse(path, _no_totals(catnat))
    doc["communes"][0].update(inond=1, avalanche=1)
    _write_json(path, doc, gz=True)
    with pytest.raises(SchemaError, match="new category"):
        catnat.parse(path, _no_totals(catnat))


def test_cartofriches_unknown_status_and_sums(tmp_path):
    rec = {"n": 2, "by_type": {"autre": 2}, "by_status": {"friche démolie": 2}, "total_surface_m2": 10}  # INVENTED
    path = _write_json(tmp_path / "f.json.gz", {"communes": {"01001": rec}}, gz=True)
    with pytest.raises(SchemaError, match="unknown types"):
        cartofriches.parse(path, _no_totals(cartofriches))
    rec["by_status"] = {"friche sans projet": 1}
    _write_json(path, {"communes": {"01001": rec}}, gz=True)
    with pytest.raises(SchemaError, match="do not add up"):
        cartofriches.parse(path, _no_totals(cartofriches))


def test_anct_bad_dates(tmp_path):
    doc = {"communes": {"01001": {"pvd": True, "pvd_signed_at": "08/09/2021"}}}  # INVENTED
    path = _write_json(tmp_path / "a.json", doc, gz=False)
    with pytest.raises(SchemaError, match="unreadable dates"):
        anct_programmes.parse(path, _no_totals(anct_programmes))


def test_lovac_long_term_above_vacancy(tmp_path):
    path = tmp_path / "lovac.csv"
    path.write_text("INSEE_C;taux_vacance_25_pct;taux_vacance_long_25_pct\n01001;2.0;5.0\n", encoding="utf-8")  # INVENTED
    with pytest.raises(SchemaError, match="swapped"):
        lovac.parse(path, _no_totals(lovac))


def test_damaged_json_names_the_file(tmp_path):
    path = tmp_path / "x.json.gz"
    path.write_bytes(gzip.compress(b"{not json"))
    with pytest.raises(SchemaError, match="taux_logements_sociaux_sru_2024.json.gz: not a readable JSON"):
        sru.parse(path, _no_totals(sru))


@needs_mirror
def test_pinned_checksum_detects_a_changed_mirror_file(tmp_path):
    fake = tmp_path / "mirror"
    target = fake / sru.RELEASE.mirror_path
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(b'{"meta": {"data_year": 2024}, "communes": {}}'))  # INVENTED
    with pytest.raises(ChecksumError):
        sru.load(mirror=fake)


# --------------------------------------------------------------------------- Lyon extract = national file


@needs_mirror
def test_lyon_extract_agrees_with_the_national_file(sitadel_wide):
    """The Métropole de Lyon Sit@del extract (sparte fixture, an older millésime) against the national
    series (millésime 2026-06) for its communes, 2019–2023: the Métropole's totals agree within 4 %
    (SDES revises recent years), and most commune-years are identical. 2024 starts are 0 for every
    commune in the extract — blanks written as 0 by the republisher — while the national file has them:
    a reason to take the national file, never the extract's zeros."""
    import csv

    path = MIRROR / "cerema_lyon" / "sitadel_metropole_lyon_2019_2024.csv"
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["land_type"] == "COMM"]
    assert len({r["land_id"] for r in rows}) == 57  # of the Métropole's 58 communes: one has no row in this extract
    nat = sitadel_wide.set_index(["commune_code", "year"])
    same = total = 0
    for year in range(2019, 2024):
        here = [r for r in rows if int(r["year"]) == year]
        for col, key in (("a", "logements_autorises"), ("s", "logements_commences")):
            lyon = sum(float(r[key]) for r in here)
            national = sum(nat.loc[(r["land_id"], year), col] for r in here)
            assert abs(national - lyon) <= 0.04 * lyon, (year, key, lyon, national)
            same += sum(nat.loc[(r["land_id"], year), col] == float(r[key]) for r in here)
            total += len(here)
    assert same / total >= 0.6
    started_2024 = [r for r in rows if int(r["year"]) == 2024]
    assert all(float(r["logements_commences"]) == 0 for r in started_2024)
    assert sum(nat.loc[(r["land_id"], 2024), "s"] for r in started_2024) > 1000
