"""``planeco territory show|search`` on the INVENTED test bundle (tests/fixtures/territory)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures.territory.fake_bundle import write_fake_bundle
from planeco_kernel.cli import app, main
from planeco_kernel.errors import AmbiguousTerritoryError, TerritoryNotFoundError

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module", params=[False, True], ids=["tables", "index"])
def fake_dir(request, tmp_path_factory) -> Path:
    """The invented bundle, without and with its territory index: every command behaves the same."""
    return write_fake_bundle(tmp_path_factory.mktemp("fake_bundle_cli"), index=request.param)


@pytest.fixture(autouse=True)
def _data_dir(fake_dir, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(fake_dir))


@pytest.mark.parametrize(
    ("args", "code", "level", "note"),
    [
        (["01001"], "01001", "commune", None),
        (["st etienne"], "42218", "commune", None),
        (["75"], "75", "departement", "region:75"),
        (["75", "--level", "region"], "75", "region", None),
        (["region:75"], "75", "region", None),
        (["01340"], "01015", "commune", "Saint-Bois"),
        (["Saint-Denis", "-d", "974"], "97411", "commune", None),
        (["247200132", "--level", "scot"], "247200132", "scot", None),
    ],
)
def test_show_json(args, code, level, note):
    result = runner.invoke(app, ["territory", "show", *args, "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert (d["code"], d["level"]) == (code, level)
    assert {"code", "level", "name", "population", "parents", "members_count"} <= set(d)
    assert all(isinstance(k, str) and k.isdigit() for k in d["population"])
    assert all(isinstance(v, int) for v in d["population"].values())
    assert d.get("note") is None if note is None else note in d["note"]


def test_show_json_parents_cover_every_level_above():
    d = json.loads(runner.invoke(app, ["territory", "show", "01001", "--json"]).stdout)
    assert d["parents"] == {"epci": "200069193", "scot": "250100001", "departement": "01", "region": "84",
                            "france": "FR"}
    assert d["population"]["2023"] == 810 and d["members_count"] == 1


def test_show_text_is_french():
    result = runner.invoke(app, ["territory", "show", "Paris"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Paris — Commune 75056")
    assert "2023 : 2\u202f130\u202f000 hab." in out
    assert "source : communes.json@5.3.0" in out
    assert "Intercommunalité (EPCI) : Métropole du Grand Paris (200054781)" in out
    assert "Département : Paris (75)" in out and "Région : Île-de-France (11)" in out
    assert "Note : Le nom désigne aussi : Paris (département 75)" in out
    assert "COG 2026" in out


def test_show_text_commune_without_epci_and_aggregate():
    out = runner.invoke(app, ["territory", "show", "29083"]).stdout
    assert "Intercommunalité (EPCI) : aucun" in out and "Drapeaux : no_epci" in out
    out = runner.invoke(app, ["territory", "show", "250100001"]).stdout
    assert "Nature juridique : SMF" in out and "Communes membres : 2" in out
    assert "dont les plus peuplées : L'Abergement-Clémenciat (810), Arboys en Bugey (665)" in out


def test_search_text_and_json():
    result = runner.invoke(app, ["territory", "search", "saint denis", "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("97411") and "155\u202f500 hab. (2023)" in lines[0]
    items = json.loads(runner.invoke(app, ["territory", "search", "lyon", "--json", "-l", "commune"]).stdout)
    assert [i["code"] for i in items] == ["69123", "69202"]
    assert items[0]["departement"] == "69" and items[0]["population_latest"]["census_year"] == 2023


def test_search_nothing():
    result = runner.invoke(app, ["territory", "search", "qqqqq"])
    assert result.exit_code == 0 and "Aucun territoire" in result.stdout
    assert json.loads(runner.invoke(app, ["territory", "search", "qqqqq", "--json"]).stdout) == []


@pytest.mark.parametrize(
    ("args", "exc", "message"),
    [
        (["show", "Saint-Denis"], AmbiguousTerritoryError, "Saint-Denis \\(commune 93066, Seine-Saint-Denis\\)"),
        (["show", "Saint-Denys"], TerritoryNotFoundError, "Vouliez-vous dire : Saint-Denis"),
        (["show", "zzzzzz"], TerritoryNotFoundError, "planeco territory search"),
    ],
)
def test_errors_exit_2_with_suggestions(args, exc, message, capsys):
    result = runner.invoke(app, ["territory", *args])
    assert isinstance(result.exception, exc)
    assert main(["territory", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ")
    assert re.search(message, err), err


def test_bad_level_exit_2(capsys):
    assert main(["territory", "show", "01001", "--level", "canton"]) == 2
    assert "Niveau inconnu : « canton »" in capsys.readouterr().err


def test_python_m_subprocess(fake_dir):
    env = dict(os.environ, PLANECO_DATA_DIR=str(fake_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "planeco_kernel", "territory", "show", "st etienne", "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["code"] == "42218" and d["name"] == "Saint-Étienne" and d["population"]["2023"] == 173500
    proc = subprocess.run([sys.executable, "-m", "planeco_kernel", "territory", "show", "Saint-Denis"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "désigne plusieurs territoires" in proc.stderr
