"""`planeco zan show|split` and `planeco cop levers`: French text, --json, exit codes (real bundle;
commune flows INVENTED for the split test, labelled as such)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.cli import main


@pytest.fixture(autouse=True)
def _data_dir(bundle_dir, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))


def test_zan_show_region_from_ecolab(capsys):
    assert main(["zan", "show", "region:32"]) == 0
    out = capsys.readouterr().out
    assert "Hauts-de-France" in out and "54,47" in out and "SRADDET" in out and "réglementaire" in out
    assert "Écolab 611" in out and "2031–2040" in out and "zéro artificialisation nette" in out


def test_zan_show_france_json(capsys):
    assert main(["zan", "show", "FR", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["level"] == "france" and d["target"]["status"] == "par défaut"
    assert d["sources_by_year"]["2017"].startswith("Baromètre") and d["sources_by_year"]["2011"].startswith("Écolab")
    assert d["envelope_ha"] == pytest.approx(d["reference_ha"] / 2)
    assert d["last_year"] == max(int(y) for y in d["flows"])


def test_zan_show_without_flows_exit_2(capsys):
    assert main(["zan", "show", "01001"]) == 2
    assert "non disponible" in capsys.readouterr().err


def test_cop_levers(capsys):
    assert main(["cop", "levers", "region:84"]) == 0
    out = capsys.readouterr().out
    assert "indicatives, non contraignantes" in out and "Véhicules électriques" in out and "659" in out
    assert main(["cop", "levers", "Auvergne-Rhône-Alpes", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    ev = next(x for x in d["levers"] if x["lever_id"] == "augm_voitelec")
    assert ev["obj_kt"] == 1379.8038 and round(ev["obj_phys_2030"]) == 659 and ev["gap_kt"] == ev["obj_kt"]


@pytest.fixture()
def invented_flows(bundle_dir, monkeypatch):
    """Real territories, INVENTED flows (test data) for the communes of one real EPCI."""
    import planeco_kernel.trajectories.data as data

    real = data.load_planning(bundle_dir)
    t = real.territories
    communes = t[(t["level"] == "commune") & (t["epci_code"] == "200069193")]["code"].tolist()
    rng = np.random.default_rng(1)
    flows = pd.DataFrame({y: rng.uniform(0, 4, len(communes)) for y in range(2011, 2024)}, index=communes)
    pdata = data.PlanningData(territories=t, commune_flows=flows, commune_flows_source="flux inventés (test)",
                              tables=real.tables, missing=real.missing, manifest=real.manifest)
    monkeypatch.setattr(data, "load_planning", lambda *a, **k: pdata)
    return pdata, communes


def test_zan_split_text_and_json(invented_flows, capsys):
    pdata, communes = invented_flows
    assert main(["zan", "split", "200069193", "--key", "conso_passee=0.7", "--key", "population=0.3"]) == 0
    out = capsys.readouterr().out
    assert "Contrôle : Σ communes" in out and "exact" in out
    assert main(["zan", "split", "200069193", "-k", "conso_passee=1", "--pool-floors", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["pooled"] and d["sum_check"]["ok"] and len(d["communes"]) == len(communes)
    assert sum(c["envelope_ha"] for c in d["communes"]) == pytest.approx(d["envelope_ha"])


def test_zan_split_errors(invented_flows, capsys):
    assert main(["zan", "split", "200069193", "--key", "inconnue=1"]) == 2
    assert "Clé inconnue « inconnue »" in capsys.readouterr().err
    assert main(["zan", "split", "01001", "--key", "egal=1"]) == 2
    assert "SCoT ou un EPCI" in capsys.readouterr().err
