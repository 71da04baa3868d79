"""LOVAC official per-commune file (:func:`lovac.parse_official`), and the rates of merged communes and of
Paris computed from its counts.

``tests/fixtures/sources/test-data_Lovac_opendata_Communes.csv`` and the files written here are
INVENTED test data in the documented layout (codes are real INSEE codes, counts are made up).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.errors import SchemaError, SourceUnavailableError
from planeco_kernel.sources import lovac
from planeco_kernel.sources import merged_communes as mc

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "test-data_Lovac_opendata_Communes.csv"
REL = dataclasses.replace(lovac.OFFICIAL_RELEASE, filename=FIXTURE.name)


def test_parse_official_keeps_counts_and_computes_the_rates():
    df = lovac.parse_official(FIXTURE, REL).set_index("commune_code")
    assert df.loc["01187", ["pp_vacant", "pp_vacant_plus_2ans", "total"]].tolist() == [30, 12, 300]
    assert df.loc["01187", "taux_vacance_25_pct"] == pytest.approx(10.0)
    assert df.loc["01187", "taux_vacance_long_25_pct"] == pytest.approx(4.0)
    assert pd.isna(df.loc["61214", "pp_vacant"]) and df.loc["61214", "total"] == 4000  # « s » is missing, not 0
    assert pd.isna(df.loc["61214", "taux_vacance_25_pct"])


def test_tidy_official_has_the_mirror_variables_and_the_counts():
    tidy = lovac.tidy_official(lovac.parse_official(FIXTURE, REL))
    assert {"taux_vacance_lovac_pct", "taux_vacance_longue_lovac_pct", "parc_prive_lovac",
            "logements_vacants_prives_lovac", "logements_vacants_longs_prives_lovac"} == set(tidy["variable"])
    assert (tidy["year"] == 2025).all()


def _write(tmp_path, text):
    p = tmp_path / "lovac.csv"
    p.write_bytes(text.encode("latin-1"))
    return p


@pytest.mark.parametrize("text, match", [
    ("CODGEO_26;pp_vacant_24;pp_vacant_plus_2ans_24;ff_pp_total_24\n01001;1;1;10\n", "for 2025"),
    ("LIBGEO_26;pp_vacant_25;pp_vacant_plus_2ans_25;ff_pp_total_25\nX;1;1;10\n", "CODGEO"),
    ("CODGEO_26;pp_vacant_25;pp_vacant_plus_2ans_25;ff_pp_total_25\n01001;douze;1;10\n", "count"),
    ("CODGEO_26;pp_vacant_25;pp_vacant_plus_2ans_25;ff_pp_total_25\n01001;1;5;10\n", "long-term vacant > vacant"),
    ("CODGEO_26;pp_vacant_25;pp_vacant_plus_2ans_25;ff_pp_total_25\n01001;20;5;10\n", "vacant > private stock"),
])
def test_bad_official_files_are_refused(tmp_path, text, match):
    with pytest.raises(SchemaError, match=match):
        lovac.parse_official(_write(tmp_path, text), REL)


def test_older_editions_name_the_stock_pp_total(tmp_path):
    text = "CODGEO_25;pp_vacant_25;pp_vacant_plus_2ans_25;pp_total_25\n01001;2;1;20\n"
    assert lovac.parse_official(_write(tmp_path, text), REL)["taux_vacance_25_pct"].iloc[0] == pytest.approx(10.0)


def test_resolve_official_url_from_the_data_gouv_api_json():
    dataset = {"resources": [
        {"title": "Lovac_opendata_Departements", "format": "csv", "url": "https://example.invalid/dep.csv"},
        {"title": "Lovac_opendata_Communes", "format": "csv", "url": "https://example.invalid/com.csv"}]}
    assert lovac.resolve_official_url(dataset) == "https://example.invalid/com.csv"
    with pytest.raises(SourceUnavailableError, match="logement/Lovac_opendata_Communes.csv"):
        lovac.resolve_official_url({"resources": [dataset["resources"][0]]})


HISTORY = pd.DataFrame([("01187", 2024, "commune-actuelle", "01187"), ("01330", 2024, "commune-actuelle", "01187"),
                        ("75056", 2024, "commune-actuelle", "75056"),
                        ("75101", 2024, "arrondissement-municipal", "75056"),
                        ("75102", 2024, "arrondissement-municipal", "75056"),
                        ("61214", 2024, "commune-actuelle", "61214")],
                       columns=["code", "vintage", "type", "current_code"])


def test_merged_commune_and_paris_rates_are_the_ratio_of_summed_counts():
    tidy = lovac.tidy_official(lovac.parse_official(FIXTURE, REL))
    vintage, rules = mc.rules_for("lovac", {"lovac": tidy})
    folded = mc.fold_rates(tidy, HISTORY, file_vintage=vintage, current={"01187", "75056", "61214"}, rules=rules)
    got = folded.tidy[folded.tidy["variable"] == "taux_vacance_lovac_pct"].set_index("commune_code")["value"]
    assert got["01187"] == pytest.approx((30 + 10) / (300 + 100) * 100)
    assert got["75056"] == pytest.approx((1500 + 1800) / (10000 + 14000) * 100)
    assert "estimation" not in folded.computed[("75056", "taux_vacance_lovac_pct")]
    assert "61214" not in got.index  # secret stays missing


def test_load_official_from_a_mirror_copy(tmp_path):
    (tmp_path / "logement").mkdir()
    (tmp_path / "logement" / "Lovac_opendata_Communes.csv").write_bytes(FIXTURE.read_bytes())
    tidy = lovac.load_official(mirror=tmp_path)
    assert set(tidy["commune_code"]) >= {"01187", "75101"}
