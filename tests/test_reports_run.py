"""Report batches on real kernels and the real bundle: templates on a commune, an EPCI and a SCoT;
unknown territories and failing cells in the manifest; incremental reruns and "what changed";
kill -9 and resume; a Dask LocalCluster.

The kill/resume and Dask tests use ``tests/fixtures/reports/tiny_report.ipynb`` (a test template).
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planeco_kernel.reports import executor
from planeco_kernel.reports.runner import RunOptions, run_reports

pytestmark = [pytest.mark.bundle, pytest.mark.usefixtures("use_small_bundle")]

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "reports" / "tiny_report.ipynb"
REAL = [("commune", "42218"), ("epci", "200046977"), ("scot", "256901612")]  # Saint-Étienne, Métropole de Lyon, SEPAL
TEMPLATES = ["diagnostic_territoire", "dossier_logement_energie"]


@pytest.fixture(scope="module")
def kernels():
    """One kernel factory for the whole module (each report still gets a fresh kernel)."""
    yield
    executor.close_pool()


def _body(html: str) -> str:
    return html[html.index("<body"):]


def _manifest(out: Path) -> dict[tuple[str, str], dict]:
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {(e["level"], e["code"]): e for e in doc["reports"]}


@pytest.fixture(scope="module")
def real_batch(tmp_path_factory, small_bundle_dir, kernels):
    out = tmp_path_factory.mktemp("reports")
    results = {}
    for template in TEMPLATES:
        for level, code in REAL:
            results[(template, level)] = run_reports(RunOptions(
                level=level, territories=[code], template=template, out=out / template, progress=False,
                keep_kernels=True))
    return out, results


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize(("level", "code"), REAL)
def test_templates_on_real_territories(real_batch, template, level, code):
    from planeco_kernel.territory import load_model

    out, results = real_batch
    res = results[(template, level)]
    assert [(o.code, o.status, o.error) for o in res.outcomes] == [(code, "ok", None)]
    folder = out / template / level / code
    assert {"rapport.html", "rapport.ipynb", "annexe_chiffres.csv", "report.json"} <= {p.name for p in folder.iterdir()}
    body = _body((folder / "rapport.html").read_text(encoding="utf-8"))
    t = load_model().get(code, level=level)
    assert t.name in body
    assert "Premier rapport pour ce territoire" in body
    for absent in ("highlight", 'class="input', "output_stderr", "output_error", "Traceback", "DiagnosticReport",
                   "file://", "territoires comparables", "level = ", "+00:00"):
        visible = re.sub(r"<details.*?</details>", "", body, flags=re.S)  # technical provenance is folded
        assert absent not in visible, absent
    if template == "diagnostic_territoire":
        assert f"Diagnostic territorial — {html.escape(t.name, quote=False)}" in body
        if level == "commune":
            assert "Parmi les communes comparables" in body  # the catalogue's peer group (size, density)
    with (folder / "annexe_chiffres.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    key = next(r for r in rows if r["section"] == "Chiffres clés" and r["indicateur"] == "Population municipale")
    year, pop = t.population_latest
    assert (int(float(key["valeur"])), int(key["annee"]), key["territoire_code"]) == (pop, year, code)
    meta = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert meta["inputs_hash"] == res.outcomes[0].inputs_hash and meta["template"] == template
    entry = _manifest(out / template)[(level, code)]
    assert entry["status"] == "ok" and entry["duration"] > 0
    assert f'href="{level}/{code}/rapport.html"' in (out / template / "index.html").read_text(encoding="utf-8")


def test_rerun_skips_then_force_reports_changes(real_batch):
    out, _ = real_batch
    d = out / "diagnostic_territoire"
    res = run_reports(RunOptions(level="epci", territories=["200046977"], out=d, progress=False, keep_kernels=True))
    assert [o.status for o in res.outcomes] == ["skipped"]
    # The previous run's appendix, edited to look like an older vintage (test data): the forced rerun must say so.
    appendix = d / "epci" / "200046977" / "annexe_chiffres.csv"
    text = appendix.read_text(encoding="utf-8-sig")
    text = re.sub(r"Chiffres clés;Population municipale;200046977;epci;([^;]*);\d+;hab;\d+",
                  r"Chiffres clés;Population municipale;200046977;epci;\1;1400000;hab;2022", text)
    appendix.write_text("\ufeff" + text, encoding="utf-8")
    res = run_reports(RunOptions(level="epci", territories=["200046977"], out=d, force=True, progress=False,
                                 keep_kernels=True))
    assert [(o.status, o.error) for o in res.outcomes] == [("ok", None)] and res.outcomes[0].changes >= 1
    body = _body((d / "epci" / "200046977" / "rapport.html").read_text(encoding="utf-8"))
    assert "Nouveau millésime pour Population municipale (Chiffres clés) : 2023 (au lieu de 2022)" in body
    history = list((d / ".history" / "epci" / "200046977").iterdir())
    assert len(history) == 2


def test_unknown_territory_and_failing_cell(tmp_path, small_bundle_dir, kernels):
    res = run_reports(RunOptions(level="commune", territories=["99999", "01001", "01004"], template=str(TINY),
                                 out=tmp_path, parameters={"fail_on": "01004"}, progress=False, keep_kernels=True))
    by = {o.code: o for o in res.outcomes}
    assert by["01001"].status == "ok"
    assert by["99999"].status == "failed"
    assert "Territoire inconnu au niveau « commune » : « 99999 »" in by["99999"].error
    assert by["01004"].status == "failed" and by["01004"].failed_cell == 3  # 0-based, in the executed notebook (after the injected parameters)
    assert "cellule 3 du notebook exécuté" in by["01004"].error and "ValueError : échec demandé pour 01004" in by["01004"].error
    assert (tmp_path / "_echecs" / "commune" / "01004.ipynb").is_file()
    assert not (tmp_path / "commune" / "01004").exists()
    entries = _manifest(tmp_path)
    assert entries[("commune", "99999")]["status"] == "failed"
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "dont 2 en échec" in index and "échec demandé pour 01004" in index


def test_kill_and_resume(tmp_path, small_bundle_dir):
    """kill -9 in the middle of a batch; the restarted batch skips what was finished and completes."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLANECO_DATA_DIR=str(small_bundle_dir))
    cmd = [sys.executable, "-m", "planeco_kernel", "reports", "run", "--level", "commune", "--within", "246900765",
           "--template", str(TINY), "-p", "delay=0.3", "--out", str(tmp_path), "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    published: list[Path] = []
    while time.monotonic() < deadline:
        published = list(tmp_path.glob("commune/*/report.json"))
        if len(published) >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.parent.name for p in tmp_path.glob("commune/*/report.json")}
    assert 2 <= len(done) < 7, done
    for folder in (tmp_path / "commune").iterdir():  # nothing half-written is visible
        assert {"report.json", "rapport.html", "annexe_chiffres.csv"} <= {p.name for p in folder.iterdir()}, folder
    time.sleep(1.0)
    orphans = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert orphans == []
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    entries = _manifest(tmp_path)
    assert len(entries) == 7
    status = {code: e["status"] for (_lvl, code), e in entries.items()}
    assert {c for c, s in status.items() if s == "skipped"} == done
    assert all(s == "ok" for c, s in status.items() if c not in done)
    assert not any((tmp_path / ".staging").iterdir()) if (tmp_path / ".staging").exists() else True


def test_dask_local_cluster(tmp_path, small_bundle_dir, kernels):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        res = run_reports(RunOptions(level="commune", territories=["01001", "01002"], template=str(TINY), out=tmp_path,
                                     scheduler=cluster.scheduler_address, progress=False))
    assert sorted((o.code, o.status) for o in res.outcomes) == [("01001", "ok"), ("01002", "ok")]
    assert (tmp_path / "commune" / "01002" / "rapport.html").is_file()


def test_cli_errors(tmp_path, capsys):
    from planeco_kernel.cli import main

    assert main(["reports", "run", "--level", "epci", "--out", str(tmp_path)]) == 2
    assert "Aucun territoire demandé" in capsys.readouterr().err
    assert main(["reports", "run", "--level", "epci", "-t", "200046977", "--template", "nope", "--out", str(tmp_path)]) == 2
    assert "Modèle de rapport inconnu" in capsys.readouterr().err
    assert main(["reports", "schedule", "--level", "scot", "--all", "--at", "lundi 06:00", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("0 6 * * 1 ")


def test_pooled_kernels_are_fresh(tmp_path, small_bundle_dir, kernels):
    """Each report gets a never-used kernel: a global set by one notebook is absent from the next."""
    import nbformat
    import papermill as pm
    from nbformat.v4 import new_code_cell, new_notebook

    from planeco_kernel.reports import engine

    nb = new_notebook(cells=[new_code_cell('mark = ""', metadata={"tags": ["parameters"]}),
                             new_code_cell('assert "leak" not in globals(), leak\nleak = mark\n'
                                           'import sys\nassert "planeco_kernel.reports.notebook" in sys.modules')],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = tmp_path / "leak.ipynb"
    nbformat.write(nb, path)
    pool = executor.kernel_pool()
    for mark in ("first", "second"):
        km, kc = kernel = pool.acquire()
        try:
            pm.execute_notebook(str(path), str(tmp_path / f"{mark}.ipynb"), parameters={"mark": mark}, km=km, kc=kc,
                                engine_name=engine.register(), progress_bar=False)
        finally:
            pool.release(kernel)


def test_pool_survives_a_dead_kernel_factory(small_bundle_dir):
    """The kernel factory killed between reports: the pool starts a new one (transient failure, retried)."""
    from planeco_kernel.reports.pool import KernelPool, KernelStartError

    pool = KernelPool(size=1)
    try:
        first = pool.acquire()  # the next kernel is being started ahead from the current factory
        pool.release(first)
        old = pool._zygote.proc
        old.kill()
        old.wait()
        try:
            pool.release(pool.acquire())  # may have been forked before the kill, or fail: transient
        except KernelStartError:
            pass
        km, kc = kernel = pool.acquire()
        assert pool._zygote.proc is not old and kc.is_alive()
        pool.release(kernel)
    finally:
        pool.close()
