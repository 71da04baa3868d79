"""The batch manifest (``OUT/manifest.json``) and the batch lock.

The manifest has one entry per territory ever reported in ``OUT`` (code, level, name, status
of its last run ``ok``/``failed``/``skipped``, duration, error with the failing cell, inputs
hash, files); each run updates the entries of the territories it touched. It is rewritten
atomically (temporary file + rename), so readers never see half a file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from planeco_kernel.atomic import atomic_write
from planeco_kernel.errors import ConfigError

MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"


def load_entries(out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Existing manifest entries by ``(level, code)`` (empty when there is none or it is unreadable)."""
    p = out / MANIFEST_FILE
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {(e["level"], e["code"]): e for e in data.get("reports", []) if "level" in e and "code" in e}


def write_manifest(out: Path, entries: dict[tuple[str, str], dict[str, Any]], header: dict[str, Any]) -> Path:
    """Write ``OUT/manifest.json`` atomically: header fields, counts, and the entries sorted by level and code."""
    reports = [entries[k] for k in sorted(entries)]
    counts: dict[str, int] = {}
    for e in reports:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    doc = {**header, "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "counts": counts,
           "reports": reports}
    return atomic_write(out / MANIFEST_FILE, json.dumps(doc, ensure_ascii=False, indent=1))


class BatchLock:
    """An exclusive lock on an output folder (``OUT/.lock``), released even on ``kill -9``."""

    def __init__(self, out: Path):
        self.path = out / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> BatchLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(f"Un autre lot de rapports écrit déjà dans {self.path.parent} : attendez sa fin "
                              "ou choisissez un autre dossier (--out).") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
