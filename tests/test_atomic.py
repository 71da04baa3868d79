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


def _components(fill: float):
    """Invented components (test data, not real figures): 2 000 communes, 3 years, one value."""
    import numpy as np

    from planeco_kernel.indicators.components import Components, SourceStatus

    codes = np.array([f"{i:05d}" for i in range(2000)], dtype=object)
    return Components(codes=codes, years=[2019, 2020, 2021],
                      values={"pop_municipale": np.full((2000, 3), fill)},
                      sources={"population": SourceStatus(True, "données inventées pour le test", [2019, 2020, 2021])})


def _components_writer(path: str, fill: float, rounds: int) -> None:
    comp = _components(fill)
    for _ in range(rounds):
        comp.to_parquet(Path(path))


def test_two_kernels_write_the_components_cache(tmp_path):
    """Two processes (two app kernels sharing the user cache) rewrite the components parquet at once:
    each read finds one whole, readable version, and no temporary file stays behind."""
    from planeco_kernel.indicators.components import Components

    target = tmp_path / "components.parquet"
    _components(1.0).to_parquet(target)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_components_writer, args=(str(target), v, 15)) for v in (1.0, 2.0)]
    for p in procs:
        p.start()
    reads = 0
    while any(p.is_alive() for p in procs):
        got = Components.from_parquet(target).values["pop_municipale"]
        assert float(got.min()) == float(got.max()) and float(got[0, 0]) in (1.0, 2.0)
        reads += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert reads > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["components.parquet"]
