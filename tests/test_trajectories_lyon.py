"""The real Métropole de Lyon extract (Cerema, via sparte) through the whole ZAN chain.

Connector checks (destinations sum to the total, communes to the EPCI), 2011–2020 = 827.7 ha →
2021–2030 envelope 413.9 ha before floors, the communes' dashboard and the split with its exact sum.
"""

from __future__ import annotations

import pandas as pd
import pytest

from planeco_kernel import config
from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import cerema_lyon
from planeco_kernel.trajectories.data import LYON_LABEL, PlanningData, lyon_flows
from planeco_kernel.trajectories.land import dashboard, zan_for
from planeco_kernel.trajectories.split import key_values, split_envelope

LYON = "200046977"


@pytest.fixture(scope="module")
def mirror():
    m = config.mirror_dir() or next((p for p in config.default_mirror_candidates() if (p / "cerema_lyon").is_dir()), None)
    if m is None or not (m / "cerema_lyon").is_dir():
        pytest.fail("No mirror with cerema_lyon/ (set PLANECO_MIRROR to ../shared/data).")
    return m


@pytest.fixture(scope="module")
def pdata(mirror, bundle_dir):
    territories = pd.read_parquet(bundle_dir / "territories.parquet")
    flows = lyon_flows(cerema_lyon.flows_table(cerema_lyon.load(mirror=mirror)))
    pop = pd.read_parquet(bundle_dir / "population.parquet")
    return PlanningData(territories=territories, commune_flows=flows, commune_flows_source=LYON_LABEL,
                        tables={"population": pop})


def test_connector_invariants(mirror):
    wide = cerema_lyon.parse(mirror / cerema_lyon.RELEASE.mirror_path)
    comm = wide[wide["land_type"] == "COMM"]
    assert comm["land_id"].nunique() == 58 and sorted(wide["year"].unique()) == list(range(2009, 2024))
    assert (comm["total"] == comm[list(cerema_lyon.DESTINATIONS)].sum(axis=1)).all()
    ref = comm[(comm["year"] >= 2011) & (comm["year"] <= 2020)]["total"].sum() / 10_000
    assert round(ref, 1) == 827.7


def test_connector_refuses_a_broken_total(mirror, tmp_path):
    text = (mirror / cerema_lyon.RELEASE.mirror_path).read_text(encoding="utf-8").splitlines()
    head, row = text[0], text[1].split(",")
    row[4] = str(float(row[4]) + 500)  # total no longer the sum of its destinations
    p = tmp_path / "lyon.csv"
    p.write_text("\n".join([head, ",".join(row), *text[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="somme des six destinations"):
        cerema_lyon.parse(p)


def test_lyon_whole_chain(pdata):
    t = zan_for(pdata, "epci", LYON)
    assert round(t.reference_ha, 1) == 827.7
    assert round(t.envelope_raw_ha, 1) == 413.9 and t.target.status == "par défaut"  # no target document in the file
    assert t.last_year == 2023 and t.source == LYON_LABEL
    assert t.used_ha == pytest.approx(float(pdata.commune_flows.loc[:, 2021:2023].sum().sum()))
    d = dashboard(pdata, "epci", LYON)
    assert len(d) == 58 and set(d["status"]) <= {"en bonne voie", "vont dépasser", "déjà dépassé"}
    assert (d["envelope_ha"] >= 1.0).all()  # the garantie communale in the table too
    assert d["envelope_raw_ha"].sum() == pytest.approx(t.envelope_raw_ha)
    communes = pdata.communes_of("epci", LYON)
    r = split_envelope(t.envelope_ha, key_values(pdata, communes, ["conso_passee", "population"]),
                       {"conso_passee": 0.7, "population": 0.3})
    assert r.sum_check["ok"] and r.table["envelope_ha"].sum() == pytest.approx(t.envelope_ha)
    assert (r.table["envelope_ha"] >= 1.0 - 1e-9).all()
    assert r.table["envelope_rounded_ha"].sum() == pytest.approx(round(t.envelope_ha, 2))
