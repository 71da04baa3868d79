"""The SGPE, baromètre, Écolab and ZAN-target connectors on the real mirror files (and bad inputs)."""

from __future__ import annotations

import json

import pytest

from planeco_kernel import config
from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import sgpe_barometre, sgpe_leviers, zan_targets


@pytest.fixture(scope="module")
def mirror():
    m = config.mirror_dir() or next((p for p in config.default_mirror_candidates() if (p / "sgpe").is_dir()), None)
    if m is None or not (m / "sgpe").is_dir():
        pytest.fail("No mirror with sgpe/ (set PLANECO_MIRROR to ../shared/data).")
    return m


@pytest.mark.parametrize("text, expected", [
    ("1\u202f667,38", 1667.38), ("-0,34", -0.34), ("51 919", 51919.0), ("\xa0\xa0 51\xa0919\xa0\xa0 ", 51919.0),
    ("12", 12.0), ("", None), ("  ", None), ("-11\u202f506", -11506.0),
])
def test_parse_fr_number(text, expected):
    assert sgpe_barometre.parse_fr_number(text) == expected


@pytest.mark.parametrize("text", ["1.5", "12 %", "n.d.", "1,2,3", "1 66,3"])
def test_parse_fr_number_refuses_to_guess(text):
    with pytest.raises(SchemaError, match="format français"):
        sgpe_barometre.parse_fr_number(text, where="x")


def test_levers_real_file(mirror):
    df = sgpe_leviers.load(mirror=mirror)
    assert len(df) == 444 and df["lever_id"].nunique() == 42
    assert "Région exemple" not in set(df["region_name"])
    assert df["region_code"].nunique() == 18
    assert df["obj_kt"].sum() == pytest.approx(201953.7745, abs=1e-3)  # README: ≈ 202 MtCO2e
    ara = df[(df["region_code"] == "84") & (df["lever_id"] == "augm_voitelec")].iloc[0]
    assert (ara["obj_kt"], ara["ratio_co2_to_phys"], ara["start_2019"]) == (1379.8038, 0.4677, 13.754)


def test_levers_bad_rows(tmp_path):
    p = tmp_path / "data.json"
    p.write_text(json.dumps([{"id": "x"}]), encoding="utf-8")
    with pytest.raises(SchemaError, match="objet n° 1: champs manquants"):
        sgpe_leviers.parse(p)
    row = {k: 0 for k in sgpe_leviers.REQUIRED} | {"id": "a", "leverName": "A", "regionName": "Atlantide",
                                                     "sector": "s", "group": "g", "relative": False}
    p.write_text(json.dumps([row]), encoding="utf-8")
    with pytest.raises(SchemaError, match="région inconnue « Atlantide »"):
        sgpe_leviers.parse(p)


def test_barometre_indicators_real_file(mirror):
    df = sgpe_barometre.load_indicators(mirror=mirror)
    ges = df[(df["indicator"] == "Émissions nationales de gaz à effet de serre (hors secteur UTCATF et puits)")]
    assert ges[(ges["kind"] == "target") & (ges["year"] == 2030)]["value"].tolist() == [276.0]
    assert ges["target_source"].iloc[0] == "3e stratégie nationale bas-carbone"
    assert ges[(ges["kind"] == "value") & (ges["year"] == 2019)]["value"].tolist() == [437.7]
    enaf = df[(df["indicator"] == "Consommation d'espaces naturels, agricoles et forestiers") & (df["year"] == 2021)]
    # three sub-series, the unit written on the first row only and inherited by the others
    assert len(enaf) == 3 and set(enaf["unit"]) == {"milliers d'hectares"}
    assert enaf["value"].sum() == pytest.approx(20.851)
    assert not df.duplicated(["indicator_uid", "kind", "year"]).any()


def test_barometre_bad_number_names_line(tmp_path):
    p = tmp_path / "grist-indicators.csv"
    p.write_text("ID,Indicateur,Sous-niveau (graphique),Unité,Sources,2019,cible_2030,Source de la cible\n"
                 "a,X,,t,S,\"1,5\",2.5,SNBC\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="ligne 2, colonne cible_2030"):
        sgpe_barometre.parse_indicators(p)


def test_ecolab_real_series_and_national_check(mirror):
    from planeco_kernel.bundle.planning import check_enaf

    e = sgpe_barometre.load_ecolab(mirror=mirror)
    enaf = e[e["indicator_id"] == "611"]
    assert sorted(enaf["year"].unique()) == list(range(2009, 2024))
    assert enaf["region_code"].nunique() == 17  # Mayotte not published
    assert set(e["region_code"]) <= sgpe_barometre.REGION_CODES
    check = check_enaf(e, sgpe_barometre.load_indicators(mirror=mirror))
    # Σ régions equals the national series within 0.1 % except 2020 (0.34 %: reported, not hidden)
    assert check["mismatch_years"] == [2020]
    assert {r["year"] for r in check["years"]} == set(range(2017, 2024))


def test_zan_targets_real_file(mirror):
    df = zan_targets.load(mirror=mirror)
    assert len(df) == 47
    r = df[df["land_id"] == "REGION_32"].iloc[0]
    assert (r["reduction_pct"], r["document"], r["status"]) == (54.47, "SRADDET", "réglementaire")
    assert set(df["land_level"]) == {"region", "epci", "scot_sparte"}
    assert df[df["land_id"] == "EPCI_240200592"]["status"].iloc[0] == "suggéré"


def test_zan_targets_bad(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps([{"fields": {"land": "EPCI_12", "parent": None, "objectif_de_reduction": "50",
                                         "nom_document": "PLUi", "is_in_document": True}}]), encoding="utf-8")
    with pytest.raises(SchemaError, match="SIREN d'EPCI invalide"):
        zan_targets.parse(p)
    p.write_text(json.dumps([{"fields": {"land": "REGION_32", "parent": None, "objectif_de_reduction": "150",
                                         "nom_document": "SRADDET", "is_in_document": True}}]), encoding="utf-8")
    with pytest.raises(SchemaError, match="hors de"):
        zan_targets.parse(p)


def test_france_commitments(mirror):
    c = sgpe_barometre.load_commitments(mirror=mirror)
    assert len(c) == 11 and c["commitment"].str.contains("neutralité carbone en 2050").any()


def test_a_file_that_differs_from_its_declared_identity_is_refused(mirror, tmp_path):
    import shutil

    from planeco_kernel.sources.identity import IdentityError

    copy = tmp_path / "mirror"
    shutil.copytree(mirror / "zan", copy / "zan")
    f = copy / "zan" / "objectifs_territorialises_hauts_de_france.json"
    f.write_bytes(f.read_bytes().replace(b'"54.47"', b'"50.00"'))  # a plausible edit
    with pytest.raises(IdentityError, match="diffère de celui que déclare le registre des sources"):
        zan_targets.load(mirror=copy)
