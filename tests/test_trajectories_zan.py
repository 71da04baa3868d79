"""ZAN trajectories: hand-checked small cases (invented flows), inheritance, garantie, dashboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.trajectories import zan
from planeco_kernel.trajectories.data import PlanningData
from planeco_kernel.trajectories.land import dashboard, flows_for, zan_for
from planeco_kernel.trajectories.targets import TargetBook
from planeco_kernel.trajectories.zan import Target, TrajectoryError, apply_garantie, trajectory


def flat(v, last=2023, first=2011):
    return {y: v for y in range(first, last + 1)}


def test_flat_ten_ha_per_year():
    # reference 10 × 10 = 100; envelope 50; used 2021–2023 = 30; pace 10; projection 30 + 7 × 10 = 100
    t = trajectory(flat(10.0), is_commune=False)
    assert (t.reference_ha, t.envelope_ha, t.used_ha, t.pace_ha_per_year) == (100, 50, 30, 10)
    assert t.projection_2030_ha == 100 and t.status == "vont dépasser"
    assert t.runout_year == 2025  # 20 ha left at 10 ha/year: used up during 2025
    assert t.allowed_pace_ha_per_year == pytest.approx(20 / 7)
    assert t.effort_pct == pytest.approx(100 * (1 - 2 / 7))
    assert [(d.period, d.envelope_ha) for d in t.decades] == [((2031, 2040), 25.0), ((2041, 2050), 12.5)]


def test_bounds_follow_last_year():
    t = trajectory(flat(10.0, last=2025))
    assert t.last_year == 2025 and t.used_ha == 50 and t.pace_years == (2023, 2025)
    assert t.status == "vont dépasser" and t.exceeded_year is None and t.runout_year == 2025
    t2 = trajectory({**flat(10.0, last=2020), 2021: 60.0})
    assert t2.status == "déjà dépassé" and t2.exceeded_year == 2021 and t2.runout_year is None


def test_on_track_and_target():
    f = {**flat(10.0, last=2020), 2021: 2.0, 2022: 2.0, 2023: 2.0}
    t = trajectory(f, Target(0.6, "réglementaire", "SCoT"))
    assert t.envelope_ha == pytest.approx(40) and t.projection_2030_ha == pytest.approx(20)
    assert t.status == "en bonne voie" and t.runout_year == 2023 + 17


def test_garantie_commune_only():
    t = trajectory(flat(0.1), is_commune=True)
    assert t.envelope_raw_ha == pytest.approx(0.5) and t.envelope_ha == 1.0 and t.garantie_applied
    assert t.decades[0].envelope_ha == 0.5  # decades halve the (guaranteed) envelope
    p = trajectory(flat(0.1), is_commune=False)
    assert p.envelope_ha == pytest.approx(0.5) and not p.garantie_applied
    v, a = apply_garantie(np.array([0.2, 3.0, 1.0]), np.array([True, True, False]))
    assert v.tolist() == [1.0, 3.0, 1.0] and a.tolist() == [True, False, False]


def test_incomplete_reference_refused():
    f = flat(1.0)
    del f[2015]
    with pytest.raises(TrajectoryError, match="incomplète .*2015"):
        trajectory(f)


def test_path_to_2050_sums_to_envelopes():
    t = trajectory(flat(10.0))
    p = zan.path_to_2050(t)
    assert p[(p.year >= 2021) & (p.year <= 2030)]["allowed_ha"].sum() == pytest.approx(t.envelope_ha)
    assert p[(p.year >= 2041)]["allowed_ha"].sum() == pytest.approx(12.5)


# ------------------------------------------------------------------ inheritance and territories (invented)

def _territories():
    rows = [
        ("commune", "00001", "Aval", "E1", "S1", "D1", "R1"), ("commune", "00002", "Bourg", "E1", "S1", "D1", "R1"),
        ("commune", "00003", "Combe", "E2", "S1", "D1", "R1"), ("commune", "00004", "Dune", "E3", None, "D1", "R1"),
        ("epci", "E1", "CC Un", None, "S1", "D1", "R1"), ("epci", "E2", "CC Deux", None, "S1", "D1", "R1"),
        ("epci", "E3", "CC Trois", None, None, "D1", "R1"), ("scot", "S1", "SCoT Un", None, None, "D1", "R1"),
        ("departement", "D1", "Dép", None, None, None, "R1"), ("region", "R1", "Région", None, None, None, None),
    ]
    return pd.DataFrame(rows, columns=["level", "code", "name", "epci_code", "scot_code", "departement_code", "region_code"])


def _targets():
    return pd.DataFrame([
        ("REGION_R1", "region", "R1", None, 60.0, "SRADDET", True, "réglementaire", None, None),
        ("EPCI_E2", "epci", "E2", "REGION_R1", 70.0, "PLUi", False, "suggéré", None, None),
        ("SCOT_9", "scot_sparte", "9", "REGION_R1", 65.0, "SCOT", False, "suggéré", None, None),
    ], columns=["land_id", "land_level", "land_code", "parent_id", "reduction_pct", "document", "in_document",
                "status", "document_url", "document_comment"])


@pytest.mark.parametrize("level, code, crosswalk, expected", [
    ("commune", "00001", None, (0.60, "SRADDET")),        # nothing below: the SRADDET
    ("commune", "00003", None, (0.70, "PLUi")),           # its EPCI's PLUi
    ("commune", "00001", {"SCOT_9": "S1"}, (0.65, "SCOT")),  # SCoT target once the sparte id is mapped
    ("epci", "E2", {"SCOT_9": "S1"}, (0.70, "PLUi")),      # its own before its SCoT's
    ("commune", "00004", {"SCOT_9": "S1"}, (0.60, "SRADDET")),
    ("departement", "D1", None, (0.60, "SRADDET")),
])
def test_inheritance(level, code, crosswalk, expected):
    t = _territories()
    book = TargetBook(_targets(), scot_crosswalk=crosswalk)
    row = t[(t.level == level) & (t.code == code)].iloc[0]
    got = book.inherited(row)
    assert (round(got.reduction, 2), got.document) == expected


def test_no_target_is_default_50():
    t = _territories()
    assert TargetBook(None).inherited(t.iloc[0]).status == "par défaut"
    assert TargetBook(_targets()).unresolved == ["SCOT_9"]


def _pdata(flows):
    return PlanningData(territories=_territories(), commune_flows=flows, commune_flows_source="flux inventés (test)",
                        tables={"zan_targets": _targets()})


def test_parent_sums_commune_flows_and_dashboard():
    years = list(range(2011, 2024))
    flows = pd.DataFrame({y: [1.0, 0.05, 3.0, 2.0] for y in years}, index=["00001", "00002", "00003", "00004"])
    flows.loc["00003", 2021] = 40.0  # Combe overran already
    pdata = _pdata(flows)
    s, src, by_year = flows_for(pdata, "scot", "S1")
    assert s[2011] == pytest.approx(4.05) and src == "flux inventés (test)" and by_year[2021] == src
    t = zan_for(pdata, "scot", "S1")
    assert t.reference_ha == pytest.approx(40.5) and t.envelope_ha == pytest.approx(40.5 * 0.4)
    d = dashboard(pdata, "scot", "S1").set_index("code")
    assert d.loc["00002", "envelope_ha"] == 1.0 and d.loc["00002", "garantie"]  # 0.5 × 0.4 = 0.2 → 1 ha
    assert d.loc["00002", "status"] == "en bonne voie"
    assert d.loc["00003", "status"] == "déjà dépassé"  # 40 ha used vs 30 × 0.3 = 9 ha
    assert d.loc["00001", "status"] == "vont dépasser"  # 10 projected vs 4


def test_missing_flows_say_how_to_get_them():
    with pytest.raises(TrajectoryError, match="non disponible.*planeco data build"):
        zan_for(_pdata(pd.DataFrame()), "epci", "E1")


def test_region_sum_checked_against_ecolab():
    years = list(range(2011, 2024))
    flows = pd.DataFrame({y: [1.0, 0.05, 3.0, 2.0] for y in years}, index=["00001", "00002", "00003", "00004"])
    ecolab = pd.DataFrame({"indicator_id": "611", "region_code": "R1", "year": years,
                           "value": [6.05] * 12 + [9.0], "dimension": None})
    pdata = _pdata(flows)
    pdata.tables["ecolab_series"] = ecolab
    t = zan_for(pdata, "region", "R1")
    assert t.source == "flux inventés (test)"
    assert any(n.startswith("Contrôle : en 2023, la somme des communes (6,") and "Écolab 611 (9,0" in n for n in t.notes)
    assert sum("Contrôle" in n for n in t.notes) == 1


def test_following_the_allowed_pace_hits_the_envelope():
    base = {**flat(10.0, last=2020), 2021: 8.0, 2022: 7.0, 2023: 6.0}
    t = trajectory(base, Target(0.5, "réglementaire", "SCoT"))
    future = {y: t.allowed_pace_ha_per_year for y in range(2024, 2031)}
    t2 = trajectory({**base, **future}, Target(0.5, "réglementaire", "SCoT"))
    assert t2.used_ha == pytest.approx(t.envelope_ha) and t2.status == "en bonne voie"
    assert t2.allowed_pace_ha_per_year is None  # the period is over: nothing left to plan
    assert sum(d.envelope_ha for d in t2.decades) == pytest.approx(t.envelope_ha * (0.5 + 0.25))


def test_dashboard_of_a_parent_without_any_flows_says_so():
    years = list(range(2011, 2024))
    flows = pd.DataFrame({y: [1.0] for y in years}, index=["99999"])  # flows elsewhere only
    with pytest.raises(TrajectoryError, match="aucune de ces communes"):
        dashboard(_pdata(flows), "scot", "S1")
