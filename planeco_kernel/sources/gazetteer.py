"""What the per-commune aggregates of national files share (mirror: sdes/, insee/, logement/, …).

The offline mirror holds, for all of France, per-commune aggregates of eight national files
(Sit@del, census RP 2021 housing, Filosofi 2021, LOVAC 2025, SRU 2024, CatNat, Cartofriches,
ANCT programmes), made from the official open files (Licence Ouverte) by the public open-source
project bpineau/gazetteer (MIT, snapshot 2026-07-23, commit 2cb0ab3, ``sources/*/data/``) and
copied byte for byte (see ``../shared/data/README.md``, « Per-commune aggregates of national
files »). Each has its own connector module; this one holds what they share:

- :func:`read_json`: a JSON (optionally gzip) document, with errors naming the file;
- :func:`check_published_total`: the build-time check against the totals written in the mirror
  README — a mismatch raises :class:`PublishedTotalError`, which stops ``planeco data build``
  (the previous bundle stays in place) instead of skipping the source;
- :func:`commune_map`: the ``{"<code>": {...}}`` mapping of a document, codes checked;
- :func:`obtain`: the file from the mirror (sha256 declared in the source registry), or a clear French
  error: the publishers' own files have other layouts that these connectors do not read.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import base
from planeco_kernel.sources.base import Release

GAZETTEER = "bpineau/gazetteer (MIT), instantané du 2026-07-23 (commit 2cb0ab3)"


class PublishedTotalError(SchemaError):
    """A file's total differs from the published one: the build stops, the old bundle is kept."""


def read_json(path: Path, *, name: str) -> Any:
    """Parse a JSON file, gzip-compressed when its name ends in ``.gz``.

    Raises
    ------
    SchemaError
        The file is not valid (gzip) JSON; the message names it.
    """
    try:
        if str(path).endswith(".gz") or Path(path).read_bytes()[:2] == b"\x1f\x8b":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                return json.load(fh)
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise SchemaError(f"{name}: not a readable JSON document ({exc}); the file is damaged or its format changed.") from None


def commune_map(doc: Any, *, name: str, key: str = "communes") -> dict[str, Any]:
    """``doc[key]`` as ``{commune_code: record}``, with codes checked (5 characters, 2A/2B kept)."""
    if not isinstance(doc, dict) or not isinstance(doc.get(key), dict):
        raise SchemaError(f"{name}: expected an object with a {key!r} mapping of commune codes; found "
                          f"{type(doc.get(key) if isinstance(doc, dict) else doc).__name__}.")
    rows = doc[key]
    base.check_codes(pd.Series(list(rows), dtype="string"), name=name, column=key)
    return rows


def check_published_total(actual: float, expected: float | None, *, name: str, what: str, tolerance: float = 0.0) -> None:
    """Raise :class:`PublishedTotalError` when ``actual`` differs from the published ``expected``.

    ``expected`` is ``None`` for releases without a published total (test fixtures).
    """
    if expected is None:
        return
    if abs(float(actual) - float(expected)) > tolerance:
        raise PublishedTotalError(
            f"{name}: {what} = {actual:,.0f}, the published total is {expected:,.0f}. The file is not the "
            "release the mirror README describes (truncated, another vintage, or its layout changed): the "
            "bundle is not rebuilt with it; check the file or update the release's declared totals."
        )


def obtain(release: Release, *, mirror: str | Path | None = None, url: str | None = None, cache=None) -> Path:
    """The release's file (mirror, or ``url`` for tests), checked against the sha256 that the source
    registry declares for its mirror path (``files:`` in ``sources/registry.yaml``)."""
    from planeco_kernel.sources.catalog import declared_identity

    declared = declared_identity(release.mirror_path or "") if url is None else None
    sha = declared[1].sha256 if declared is not None else None
    return base.obtain(release, mirror=mirror, url=url, cache=cache, sha256=sha).path


def tidy(rows: list[tuple[str, int, str, float, str]], *, name: str) -> pd.DataFrame:
    """The tidy frame (:data:`~planeco_kernel.sources.base.TIDY_COLUMNS`) from plain tuples."""
    df = pd.DataFrame(rows, columns=list(base.TIDY_COLUMNS))
    return base.validate_tidy(df, name=name)
