"""The build's lock, recovery and swap: what makes ``planeco data build`` atomic and exclusive.

One build at a time per bundle (an ``flock`` beside it, :func:`_build_lock`); the new bundle is
written to a temporary sibling and swapped in with two renames (:func:`_swap`); what a killed build
left (a bundle moved aside, a half-written sibling) is put back or removed under the next build's
lock (:func:`_recover`). Used by :mod:`planeco_kernel.bundle.build`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from planeco_kernel.errors import BundleError


def lock_path(data_dir: Path) -> Path:
    """The build lock beside the bundle (holds the building process's pid)."""
    return data_dir.with_name(f".{data_dir.name}-build.lock")


@contextlib.contextmanager
def _build_lock(data_dir: Path) -> Iterator[None]:
    """One build at a time per bundle; a second one refuses at once, naming the holder's pid.

    The lock is an ``flock`` on :func:`lock_path`: the system releases it when its holder dies,
    ``kill -9`` included, so a stale lock never blocks the next build. Under the lock, what a
    killed build left is recovered (:func:`_recover`).
    """
    import fcntl

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(data_dir), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "inconnu"
            raise BundleError(
                f"Une autre construction du paquet de données {data_dir} est en cours (processus {holder}). "
                "Attendez qu'elle se termine (ou arrêtez ce processus), puis relancez `planeco data build`."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _recover(data_dir)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recover(target: Path) -> None:
    """After a killed build: put back a bundle moved aside by an unfinished swap, remove leftovers."""
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists() and olds:
        os.replace(olds.pop(), target)
    for p in [*olds, *target.parent.glob(f".{target.name}.building-*")]:
        shutil.rmtree(p, ignore_errors=True)


def _swap(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` with two renames (the old bundle survives until the last one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        if old.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
