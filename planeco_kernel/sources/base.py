"""What every source connector shares: releases, fetching, strict CSV reading, validation, tidy frames.

One module per official source (``filosofi``, ``insee_rp``, ``cerema_conso``, ``ademe_dpe``,
``sitadel``, ``energy``, ``ghg``) fetches, parses and validates its files with the helpers here,
PUDL style: each connector declares its releases and its columns once, and an upstream format
change fails loudly with :class:`~planeco_kernel.errors.SchemaError` naming the file and the
columns, e.g. ``"filosofi_com_2016.csv: missing columns ['MED16'] (expected …)"``.

The tidy output every ``load()`` returns (:data:`TIDY_COLUMNS`, one row per territory, year and
variable) is declared in :mod:`planeco_kernel.sources.tidy`, with the checks and reshaping helpers;
strict CSV reading is in :mod:`planeco_kernel.sources.reading`. This module holds what a connector
declares and gets — :class:`Release`, :func:`obtain`, vintage warnings — and re-exports both, so
that connectors use ``base.<name>`` for all of them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planeco_kernel import config
from planeco_kernel.errors import SourceUnavailableError
from planeco_kernel.sources.reading import (  # noqa: F401  (re-exported for the connectors)
    TableFile,
    TruncatedFileError,
    peek_header,
    read_csv,
    read_csv_text,
)
from planeco_kernel.sources.tidy import (  # noqa: F401  (re-exported for the connectors)
    COMMUNE_CODE_PATTERN,
    EPCI_SIREN_PATTERN,
    TIDY_COLUMNS,
    YEAR_RANGE,
    check_codes,
    check_ranges,
    drop_withheld,
    melt,
    require_columns,
    to_numeric,
    validate_tidy,
    year_prefix_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    from planeco_kernel.sources.fetch import Artifact, Cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    """One published file of a source, for one vintage.

    Attributes
    ----------
    source_id
        The connector's id (``filosofi``, ``cerema_conso`` …).
    vintage
        Reference year of the data it holds; ``0`` for a file the publisher replaces in place
        (the year is then read from the file itself: census year, ``annee`` column …).
    url
        The publisher's official URL (``https://``) for this file.
    filename
        The official file name, used in every error message.
    mirror_path
        Where the file lies inside an offline mirror (``PLANECO_MIRROR``), if it is mirrored.
    member
        For a ZIP archive: the member to read (an exact name or an ``fnmatch`` pattern).
    sep, encodings
        CSV separator and the encodings tried in order (the first that decodes wins).
    note
        What a user must know about this vintage (e.g. that it is old), shown as a warning.
    extra
        Connector-specific facts: ``layout`` (``wide``/``long``), ``mirror_only`` (the publisher's
        own format is not readable, e.g. XLS), ``geo_object`` …
    """

    source_id: str
    vintage: int
    url: str
    filename: str
    mirror_path: str | None = None
    member: str | None = None
    sep: str = ";"
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- fetching


def resolve_mirror(mirror: str | Path | None) -> Path | None:
    """The mirror directory to use: the argument, else ``PLANECO_MIRROR``, else none."""
    return config.mirror_dir(mirror)


def obtain(
    release: Release,
    *,
    mirror: str | Path | None = None,
    url: str | None = None,
    cache: Cache | None = None,
    sha256: str | None = None,
) -> Artifact:
    """Get a release's file: from the mirror when it holds it, else from the publisher (cached).

    Parameters
    ----------
    release
        The file to get.
    mirror
        Mirror directory (default ``PLANECO_MIRROR``); used when it contains ``release.mirror_path``.
    url
        Override of the official URL (another vintage, a test server, a ``file://`` copy).

    Raises
    ------
    SourceUnavailableError
        Neither the mirror nor the cache holds the file and the publisher cannot be reached.
    """
    from planeco_kernel.sources.fetch import fetch_url
    from planeco_kernel.sources.identity import verify

    if url is None:
        root = resolve_mirror(mirror)
        if root is not None and release.mirror_path:
            candidate = root / release.mirror_path
            if candidate.is_file():
                art = fetch_url(candidate.resolve().as_uri(), sha256=sha256, cache=cache)
                verify(release.mirror_path, art.sha256, where=str(candidate))  # declared identity (registry)
                return art
    if url is None and release.extra.get("mirror_only"):
        raise SourceUnavailableError(
            f"{release.source_id} {release.vintage} : « {release.filename} » n'est lisible que depuis le miroir hors "
            f"ligne ({release.mirror_path}) ; l'éditeur ne le publie pas dans un format que planeco lit "
            f"({release.url}). Indiquez le miroir avec --mirror / PLANECO_MIRROR."
        )
    target = url or release.url
    try:
        art = fetch_url(target, sha256=sha256, cache=cache)
        verify(target, art.sha256, where=target)
        return art
    except SourceUnavailableError as exc:
        hint = (
            f" Sans accès à {release.url}, placez le fichier officiel « {release.filename} » dans "
            f"le miroir ({release.mirror_path or release.filename}) et indiquez-le avec --mirror / PLANECO_MIRROR."
        )
        raise SourceUnavailableError(str(exc) + hint) from exc


def warn_vintage(release: Release) -> None:
    """Emit a visible warning when a release carries a vintage note (old data, provisional …)."""
    if release.note:
        warnings.warn(f"{release.source_id} {release.vintage} : {release.note}", VintageWarning, stacklevel=3)


class VintageWarning(UserWarning):
    """The data loaded is an old or special vintage; the message says which and what is newer."""
