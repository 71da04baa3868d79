"""Hostile pass on the data build (#15), on real processes and invented sources (test data, not real):
``kill -9`` of a build, two builds at once, a full disk. The previous bundle always stays whole and readable."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.bundle import build as b
from planeco_kernel.bundle import manifest as mf
from planeco_kernel.errors import BundleError

from test_bundle_build import _snapshot, sources  # noqa: F401  (fixture)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import pytest
    import test_bundle_build as t
    from planeco_kernel.bundle import build as b

    mp = pytest.MonkeyPatch()
    opts = t.make_sources(Path(sys.argv[1]), mp)
    opts.data_dir = Path(sys.argv[2])
    real = b._write_tables

    def hang(st, out_dir):  # tables half-way on disk, then stop before the swap
        res = real(st, out_dir)
        print("WRITTEN", flush=True)
        time.sleep(600)
        return res

    mp.setattr(b, "_write_tables", hang)
    b.build(opts)
""")


def _readable(d: Path) -> None:
    man = mf.read(d)
    for t in man["tables"].values():
        assert len(pd.read_parquet(d / t["path"])) == t["rows"]


def _start_hanging_build(tmp_path: Path, data_dir: Path) -> subprocess.Popen:
    script = tmp_path / "child_build.py"
    script.write_text(CHILD, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "child"), str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if "WRITTEN" not in line:
        proc.kill()
        pytest.fail(f"child build did not reach the write step: {line!r} {proc.stderr.read()[-2000:]}")
    return proc


def test_kill9_build_and_a_second_build_at_once(sources, tmp_path):  # noqa: F811
    """A build killed (-9) after writing its tables: the previous bundle is intact and readable; while it
    ran, a second build refused with the holder's pid; after it, the stale lock does not block the next build."""
    b.build(sources)
    before = _snapshot(sources.data_dir)
    (tmp_path / "child").mkdir()
    proc = _start_hanging_build(tmp_path, sources.data_dir)
    try:
        with pytest.raises(BundleError, match=rf"en cours \(processus {proc.pid}\)"):
            b.build(sources)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _snapshot(sources.data_dir) == before
    _readable(sources.data_dir)
    assert list(sources.data_dir.parent.glob(f".{sources.data_dir.name}.building-{proc.pid}"))  # its leftovers
    assert b.lock_path(sources.data_dir).read_text().strip() == str(proc.pid)  # stale lock file
    b.build(sources)  # not blocked, and cleans up
    _readable(sources.data_dir)
    assert not list(sources.data_dir.parent.glob(f".{sources.data_dir.name}.building-*"))


def test_kill9_between_the_two_renames_of_the_swap(sources, monkeypatch):  # noqa: F811
    """Killed after moving the old bundle aside and before moving the new one in: the next build
    (even a failing one) puts the previous bundle back."""
    from planeco_kernel.errors import SourceUnavailableError
    from planeco_kernel.sources import etalab

    b.build(sources)
    before = _snapshot(sources.data_dir)
    aside = sources.data_dir.with_name(f".{sources.data_dir.name}.old-999999")
    os.replace(sources.data_dir, aside)  # the state a kill -9 between the renames leaves

    def unreachable(versions=None, cache=None):
        raise SourceUnavailableError("npm injoignable (test)")

    monkeypatch.setattr(etalab, "fetch_versions", unreachable)
    with pytest.raises(SourceUnavailableError):
        b.build(sources)
    assert _snapshot(sources.data_dir) == before and not aside.exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a small tmpfs")
def test_full_disk_keeps_the_previous_bundle(sources, tmp_path, monkeypatch, capsys):  # noqa: F811
    from planeco_kernel.cli import main

    """A real full file system (small tmpfs) during the build: ENOSPC, a clear error, the previous bundle intact."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    try:
        sources.data_dir = mnt / "bundle"
        b.build(sources)
        before = _snapshot(sources.data_dir)
        free = shutil.disk_usage(mnt).free
        (mnt / "filler").write_bytes(b"\0" * max(0, free - 64 * 1024))  # leave 64 KiB: less than a bundle
        monkeypatch.setenv("PLANECO_DATA_DIR", str(sources.data_dir))
        monkeypatch.setenv("PLANECO_MIRROR", str(sources.mirror))
        assert main(["data", "build", "--quiet"]) == 2  # the real command: a failure exits non-zero
        err = capsys.readouterr().err
        assert "Plus de place sur le disque" in err and "existant est conservé" in err
        with pytest.raises(BundleError) as exc:
            b.build(sources)
        assert isinstance(exc.value.__cause__, OSError) and exc.value.__cause__.errno == errno.ENOSPC
        assert _snapshot(sources.data_dir) == before
        _readable(sources.data_dir)
        assert not list(mnt.glob(".bundle.building-*"))
        (mnt / "filler").unlink()
        b.build(sources)  # space back: the next build works
        _readable(sources.data_dir)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
