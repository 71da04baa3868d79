"""planeco_kernel.atomic: unique temporary files, readers never see half a file, failures leave no trace."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

import pytest

from planeco_kernel.atomic import atomic_path, atomic_write

SIZE = 512 * 1024
ROUNDS = 20


def _writer(path: str, byte: int, rounds: int) -> None:
    payload = bytes([byte]) * SIZE
    for _ in range(rounds):
        atomic_write(path, payload)


def _check_whole(data: bytes) -> None:
    assert len(data) == SIZE and data in (b"A" * SIZE, b"B" * SIZE), (len(data), data[:1], data[-1:])


def test_two_concurrent_writer_processes(tmp_path):
    """Two processes rewrite the same file; a reader always finds one whole version; no temp file stays."""
    target = tmp_path / "shared.bin"
    atomic_write(target, b"A" * SIZE)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(target), b, ROUNDS)) for b in b"AB"]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs):
        _check_whole(target.read_bytes())
        reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    _check_whole(target.read_bytes())
    assert reads > 0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["shared.bin"]


def test_two_concurrent_writer_threads(tmp_path):
    target = tmp_path / "shared.bin"
    threads = [threading.Thread(target=_writer, args=(target, b, ROUNDS)) for b in b"AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_whole(target.read_bytes())
    assert [x.name for x in tmp_path.iterdir()] == ["shared.bin"]


def test_text_folder_creation_and_mode(tmp_path):
    p = atomic_write(tmp_path / "a" / "b.txt", "Évolution : 3,4 %")
    assert p.read_text(encoding="utf-8") == "Évolution : 3,4 %"
    assert p.stat().st_mode & 0o044  # readable by others like a plain open() (not mkstemp's 0600)


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.parquet"
    atomic_write(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old" and [x.name for x in tmp_path.iterdir()] == ["t.parquet"]
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".t.parquet.")
        Path(tmp).write_bytes(b"new")
    assert target.read_bytes() == b"new"


def test_unique_temp_names(tmp_path):
    with atomic_path(tmp_path / "x") as a, atomic_path(tmp_path / "x") as b:
        assert a != b
        a.write_text("1")
        b.write_text("2")
    assert (tmp_path / "x").read_text() in ("1", "2")
