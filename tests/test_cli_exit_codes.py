"""Every command exits non-zero when it fails: measured on the real process, as cron or systemd sees it.

``planeco_kernel.cli.main`` runs Typer with ``standalone_mode=False``; Click then *returns* the
code of ``typer.Exit(n)`` and the entry point must pass it on (issue 15, item 4: ``kb check`` and
``reports run`` used to exit 0 whatever happened). Each case runs ``python -m planeco_kernel`` in
a subprocess and checks the exit status and that the message is French text, not a traceback.
Knowledge bases and report parameters here are invented test data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "reports" / "tiny_report.ipynb"


def planeco(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for k in ("JUPYTERHUB_USER", "PLANECO_KB_USER"):
        full.pop(k, None)
    return subprocess.run([sys.executable, "-m", "planeco_kernel", *argv], env=full, cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Hors planeco", "GIT_AUTHOR_EMAIL": "x@test.invalid",
           "GIT_COMMITTER_NAME": "Hors planeco", "GIT_COMMITTER_EMAIL": "x@test.invalid"}  # fmt: skip
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


@pytest.fixture()
def broken_kb(tmp_path) -> Path:
    """A knowledge base where a plain ``git commit`` added an unreadable post file."""
    root = tmp_path / "kb"
    r = planeco("kb", "init", str(root), "--admin", "marie", "--name", "Marie Test", "--role", "elu", "--email", "marie@test.invalid")
    assert r.returncode == 0, r.stderr
    bad = root / "discussions" / "app" / "zan" / "t-20261124-1a2b3c4d" / "p-20261124T010203-1a2b3c4d.md"
    bad.parent.mkdir(parents=True)
    bad.write_text("pas d'en-tête\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ajout hors planeco")
    return root


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["commande-inconnue"], 2, "No such command"),
        (["territory", "show"], 2, "Missing argument"),
        (["indicators", "export", "--level", "canton", "--out", "{tmp}/x.csv"], 2, "Niveau inconnu"),
        (["indicators", "export", "--level", "commune", "--out", "{tmp}/x.txt"], 2, "non prise en charge"),
        (["data", "build", "--mirror", "{tmp}/absent", "--offline", "-q"], 2, "miroir de données"),
        (["reports", "run", "--level", "epci", "--out", "{tmp}/r"], 2, "Aucun territoire demandé"),
        (["reports", "schedule", "--level", "epci", "--at", "lundi 06:00"], 2, "Aucun territoire"),
        (["kb", "list", "--kb", "{tmp}/absent"], 2, "planeco kb init"),
        (["kb", "check", "--kb", "{tmp}/absent"], 2, "planeco kb init"),
    ],
)
def test_failing_commands_exit_non_zero(tmp_path, argv, code, message):
    r = planeco(*(a.format(tmp=tmp_path) for a in argv))
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr


def test_data_build_with_a_required_source_missing_from_the_mirror(tmp_path):
    """Offline, an empty mirror and an empty cache: the build stops, exits 2 and keeps what exists."""
    (tmp_path / "mirror").mkdir()
    r = planeco("data", "build", "--mirror", str(tmp_path / "mirror"), "--offline", "-q",
                env={"PLANECO_DATA_DIR": str(tmp_path / "bundle"), "PLANECO_CACHE": str(tmp_path / "cache")})  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "Source requise" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "bundle" / "manifest.json").exists()


def test_kb_check_on_a_broken_repository_exits_1(broken_kb):
    r = planeco("kb", "check", "--kb", str(broken_kb))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "fichier illisible" in r.stdout and "saine" not in r.stdout


def test_kb_check_on_a_sound_repository_exits_0(tmp_path):
    root = tmp_path / "kb"
    assert planeco("kb", "init", str(root), "--admin", "marie", "--name", "Marie Test").returncode == 0
    r = planeco("kb", "check", "--kb", str(root))
    assert r.returncode == 0 and "saine" in r.stdout


def test_version_exits_0():
    r = planeco("--version")
    assert r.returncode == 0 and r.stdout.startswith("planeco ")


@pytest.mark.bundle
def test_territory_show_unknown_code_exits_2(small_bundle_dir):
    r = planeco("territory", "show", "99999", env={"PLANECO_DATA_DIR": str(small_bundle_dir)})
    assert r.returncode == 2 and "Territoire inconnu" in r.stderr


@pytest.mark.bundle
@pytest.mark.slow
def test_reports_run_exits_1_when_a_report_failed(tmp_path, small_bundle_dir):
    """A weekly batch (cron, systemd timer) must see its failures: one report fails, the batch exits 1."""
    r = planeco("reports", "run", "--level", "commune", "-t", "01001", "-t", "01004", "--template", str(TINY),
                "-p", "fail_on=01004", "--out", str(tmp_path), "--no-progress",
                env={"PLANECO_DATA_DIR": str(small_bundle_dir)})  # fmt: skip
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "1 en échec" in r.stdout and "échec demandé pour 01004" in r.stderr
    ok = planeco("reports", "run", "--level", "commune", "-t", "01001", "--template", str(TINY), "--out", str(tmp_path),
                 "--no-progress", env={"PLANECO_DATA_DIR": str(small_bundle_dir)})  # fmt: skip
    assert ok.returncode == 0, ok.stderr
