"""ZEN levers on real rows of the SGPE simulateur: kt ↔ physical, scenarios, commitments, declension."""

from __future__ import annotations

import pandas as pd
import pytest

from planeco_kernel import config
from planeco_kernel.sources import sgpe_barometre, sgpe_leviers
from planeco_kernel.trajectories import edition
from planeco_kernel.trajectories.levers import (
    LeverError,
    check_commitments,
    coverage,
    declension,
    inventory_key,
    levers_of,
    national_sectors,
    sector_coverage,
)
from planeco_kernel.trajectories.scenarios import ScenarioError, closing_levers, gap_by_sector, parse_scenario


@pytest.fixture(scope="module")
def mirror():
    m = config.mirror_dir() or next((p for p in config.default_mirror_candidates() if (p / "sgpe").is_dir()), None)
    if m is None:
        pytest.fail("No mirror with sgpe/ (set PLANECO_MIRROR).")
    return m


@pytest.fixture(scope="module")
def ara(mirror):
    return {lv.lever_id: lv for lv in levers_of(sgpe_leviers.load(mirror=mirror), "84")}


def test_conversion_both_ways_real_rows(ara):
    ev = ara["augm_voitelec"]  # README: 13.754 + 1379.8 × 0.4677 ≈ 659 thousand EVs
    assert ev.obj_phys == pytest.approx(13.754 + 1379.8038 * 0.4677) and round(ev.obj_phys) == 659
    assert ev.phys_to_kt(ev.obj_phys) == pytest.approx(ev.obj_kt)
    gas = ara["reduc_rgaz"]  # negative ratio: fewer gas-heated homes, bounded to [0, start]
    assert gas.ratio < 0
    assert gas.kt_to_phys(gas.obj_kt) == pytest.approx(max(0, gas.start_2019 + gas.obj_kt * gas.ratio))
    assert gas.phys_to_kt(gas.kt_to_phys(100.0)) == pytest.approx(100.0)
    assert gas.kt_to_phys(1e9) == 0.0 and gas.kt_to_phys(-1e3) == gas.start_2019
    with pytest.raises(LeverError, match="pas de traduction"):
        next(lv for lv in ara.values() if not lv.translatable).kt_to_phys(1.0)


SCEN = """format: planeco-cop-scenario
version: 1
name: Test
territory: "84"
levers:
  - lever: augm_voitelec
    value: 2000
    unit: ktCO2e
  - lever: reduc_rgaz
    value: {phys}
    unit: {unit}
"""


def test_scenario_gap_by_sector(ara):
    gas = ara["reduc_rgaz"]
    phys = gas.kt_to_phys(100.0)
    s = parse_scenario(SCEN.format(phys=phys, unit=gas.unit_phys), ara)
    kt = s.kt(ara)
    assert kt["augm_voitelec"] == 2000 and kt["reduc_rgaz"] == pytest.approx(100.0)
    g = gap_by_sector(s, ara).set_index("sector")
    tv = [lv for lv in ara.values() if lv.sector == "Transport de voyageurs"]
    assert g.loc["Transport de voyageurs", "gap_kt"] == pytest.approx(sum(lv.obj_kt for lv in tv) - sum(kt[lv.lever_id] for lv in tv))
    assert g.loc["Résidentiel", "gap_kt"] == pytest.approx(gas.obj_kt - 100.0)
    assert closing_levers(s, ara)["lever_id"].tolist() == ["augm_voitelec"]


@pytest.mark.parametrize("patch, message", [
    (("augm_voitelec", "augm_foo"), "ligne 6 : levier inconnu « augm_foo »"),
    (("value: 2000", "value: -5"), "ligne 6 : valeur négative"),
    (("unit: ktCO2e", "unit: tCO2e"), "ligne 6 : unité « tCO2e » invalide"),
    (("version: 1", "version: 1\nyear: 2070"), "ligne 3 : année 2070 hors de 2019–2050"),
    (("format: planeco-cop-scenario", "format: autre"), "ligne 1 : format « autre » inconnu"),
    (("    value: 2000\n", ""), "ligne 6 : champ « value » manquant"),
    (("levers:", "levers: [\n"), "YAML invalide"),
])
def test_bad_scenarios_name_the_line(ara, patch, message):
    text = SCEN.format(phys=1, unit="ktCO2e").replace(*patch)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text, ara, origin="s.yaml")


def _commitments(**over):
    row = {"territory_code": "69123", "lever_id": "augm_voitelec", "quantity": 100.0, "unit": "ktCO2e", "year": 2030,
           "actor": "Métropole", "actor_type": "collectivite", "source": "plan d'actions", "action_id": ""}
    row.update(over)
    first = {**row, "lever_id": "reduc_rgaz", "quantity": 10.0, "unit": "ktCO2e", "year": 2030, "actor_type": "collectivite"}
    return pd.DataFrame([first, row])


def test_commitments_roll_up(ara):
    gas = ara["reduc_rgaz"]
    c = check_commitments(_commitments(), ara)
    c2 = check_commitments(_commitments(unit=ara["augm_voitelec"].unit_phys, quantity=4.677), ara)
    assert c2["kt"].iloc[1] == pytest.approx(10.0)  # +4.677 thousand EVs / 0.4677 = 10 kt
    cov = coverage(list(ara.values()), c).set_index("lever_id")
    ev = ara["augm_voitelec"]
    assert cov.loc["augm_voitelec", "committed_kt"] == 100 and cov.loc["augm_voitelec", "gap_kt"] == pytest.approx(ev.obj_kt - 100)
    assert cov.loc["reduc_rgaz", "coverage"] == pytest.approx(10 / gas.obj_kt)
    sec = sector_coverage(cov.reset_index()).set_index("sector")
    assert sec.loc["Résidentiel", "committed_kt"] == 10


@pytest.mark.parametrize("over, message", [
    ({"lever_id": "nope"}, "ligne 2 : levier inconnu"), ({"quantity": -1}, "ligne 2 : quantité négative"),
    ({"unit": "voitures"}, "ligne 2 : unité « voitures » invalide"), ({"year": 2080}, "ligne 2 : année 2080"),
    ({"actor_type": "lobby"}, "ligne 2 : type d'acteur"), ({"quantity": "beaucoup"}, "non numérique"),
])
def test_bad_commitments_name_the_line(ara, over, message):
    with pytest.raises(LeverError, match=message):
        check_commitments(_commitments(**over), ara)


def test_national_sectors_from_barometre(mirror):
    n = national_sectors(sgpe_barometre.load_indicators(mirror=mirror)).set_index("sector")
    assert n.loc["Total national", "target_2030"] == 276.0
    assert n.loc["Total national", "target_source"] == "3e stratégie nationale bas-carbone"
    assert n.loc["Transports", "target_2030"] == 90.3 and n["available"].all()


def test_declension_and_inventory():
    d = declension(300.0, pd.Series({"01": 1.0, "07": 2.0}), key_name="logements")
    assert d["obj_kt"].tolist() == [100.0, 200.0] and d.attrs["method"] == "estimation par clé de répartition : parc de logements"
    inv = pd.DataFrame({"territory_code": ["01", "07", "01"], "sector": ["Résidentiel"] * 3, "year": [2021, 2021, 2019],
                        "tco2e": [30.0, 10.0, 99.0]})
    k = inventory_key(inv, "Résidentiel")
    assert k.to_dict() == {"01": 30.0, "07": 10.0}
    bad = inv.assign(tco2e=[1.0, -2.0, 1.0])
    with pytest.raises(LeverError, match="ligne 2"):
        inventory_key(bad, "Résidentiel")


def test_edition_changes(ara):
    c1 = _commitments()
    c2 = pd.concat([_commitments(quantity=150.0).iloc[[1]], _commitments(actor="Région", lever_id="augm_haies")])
    a, b = edition.snapshot("84", "2025", commitments=c1), edition.snapshot("84", "2026", commitments=c2)
    b = edition.from_yaml(edition.to_yaml(b))
    ch = edition.changes(a, b).set_index(["lever_id", "actor"])["change"].to_dict()
    assert ch[("augm_voitelec", "Métropole")] == "modifié" and ch[("reduc_rgaz", "Métropole")] == "retiré"
    assert ch[("augm_haies", "Région")] == "nouveau"


def test_commitment_file_errors_name_the_file_line(ara):
    from planeco_kernel.trajectories.levers import read_commitments

    good = _commitments().to_csv(index=False, sep=";").encode()
    assert len(read_commitments(good, "engagements.csv", ara)) == 2
    bad = _commitments(quantity=-3).to_csv(index=False, sep=";").encode()
    with pytest.raises(LeverError, match="engagements.csv, ligne 3 : quantité négative"):
        read_commitments(bad, "engagements.csv", ara)
    with pytest.raises(LeverError, match="colonnes manquantes \\['lever_id'"):
        read_commitments(b"territory_code;quantity\n69;1\n", "e.csv", ara)


def test_distance_to_national_target(mirror):
    from planeco_kernel.trajectories.national import distance_to_target

    ind = sgpe_barometre.load_indicators(mirror=mirror)
    d = distance_to_target(ind, "Émissions nationales de gaz à effet de serre (hors secteur UTCATF et puits)")
    # 2025: 359.4 MtCO2e, target 276 (SNBC-3): (276 − 359.4) / 5 per year needed; 2023→2025 pace (359.4 − 378.2) / 2
    assert (d["last_year"], d["last_value"], d["target"]) == (2025, 359.4, 276.0)
    assert d["required_pace"] == pytest.approx((276 - 359.4) / 5) and d["observed_pace"] == pytest.approx((359.4 - 378.2) / 2)
    assert d["target_source"] == "3e stratégie nationale bas-carbone" and d["on_track"] is False
    enaf = distance_to_target(ind, "Consommation d'espaces naturels, agricoles et forestiers")
    assert enaf["last_value"] == pytest.approx(12.842 + 4.584 + 1.837) and enaf["target"] is None
    with pytest.raises(Exception, match="inconnue"):
        distance_to_target(ind, "Nombre de licornes")
