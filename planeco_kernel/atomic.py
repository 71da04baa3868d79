"""Atomic file writes: readers see the old file or the new one, never half of one.

One implementation for the package: the data is written to a temporary file with a unique
name *in the target's folder* (same file system, so the final rename is atomic; two writers,
threads or processes, never share a temporary file), flushed to disk (``fsync``), then renamed
over the target with :func:`os.replace`. When writing fails, the temporary file is removed and
the target is left as it was. The last writer wins; nobody sees a mix.

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> atomic_write(d / "a.txt", "bonjour").read_text()
'bonjour'
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def _reserve_temp(path: Path) -> tuple[Path, int]:
    """Create a new, unique temporary file beside ``path``; return it and its open descriptor.

    ``O_EXCL`` guarantees that no other writer has the same file; the mode follows the umask
    (like a plain ``open``), not ``mkstemp``'s private 0600.
    """
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits: practically never
            continue


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (best effort: some file systems refuse to open a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically; create the folder if needed. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    tmp, fd = _reserve_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def stale_temps(path: str | Path) -> list[Path]:
    """Temporary files a killed writer of ``path`` left beside it (to remove under the writer's lock)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write ``path`` with a library that wants a file name (parquet, zip...).

    The block writes the file at the yielded path; on success it is flushed and renamed over
    ``path``, on error removed::

        with atomic_path(out / "table.parquet") as tmp:
            pq.write_table(table, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _reserve_temp(path)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
