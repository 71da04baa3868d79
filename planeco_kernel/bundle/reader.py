"""The one reader of a data bundle: :class:`Bundle` and its typed :class:`Manifest`.

Every module that reads the bundle (the territory model, :mod:`planeco_kernel.geo`, the
indicator components and cube, the apps and reports) goes through :func:`open_bundle`:

- the manifest is parsed and validated once per build (:class:`Manifest`: a missing or
  malformed field is a clear :class:`~planeco_kernel.errors.BundleError`, never a silent
  default such as a COG vintage guessed as 2025);
- every path comes from the declared schema (:mod:`planeco_kernel.bundle.schema`);
- tables read through :meth:`Bundle.read` share one cache keyed by the build stamp
  (:attr:`Bundle.stamp`): a rebuilt bundle is a new stamp, so nothing stale is served.

This module imports pandas lazily: ``planeco data build --if-needed`` stays instant.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planeco_kernel.bundle import schema
from planeco_kernel.errors import BundleError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MANIFEST_FILE = schema.MANIFEST_PATH
_REQUIRED = ("format", "built_at", "current_cog", "tables")


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``, parsed and validated once.

    Attributes
    ----------
    format
        Manifest format (:data:`planeco_kernel.bundle.manifest.FORMAT`).
    built_at
        ISO time of the build (UTC); with the directory, the bundle's stamp.
    current_cog
        COG vintage of the current geography (``territories``).
    tables
        ``{table name: {"path", "rows", "bytes", "sha256"}}``.
    sources, skipped, indicator_sources
        What the build read, what it skipped and why, and the indicator sources' entries.
    geometry, scot, population
        Reports of the geometry, SCoT and population steps (``None``/empty when absent).
    editions
        Files accepted with ``--accept-edition`` although their sha256 differs from the declared
        one (source registry): ``{"source", "file", "declared_sha256", "sha256"}``.
    checks
        Results of the build-time checks against published totals (``{"id", "status", …}``).
    headline
        Headline counts (territories per level, SCoT carriers, population per level) compared
        with the next build's (see :mod:`planeco_kernel.bundle.checks`).
    raw
        The whole JSON object, for fields without a typed accessor.
    """

    format: int
    built_at: str
    current_cog: int
    tables: dict[str, dict[str, Any]]
    sources: tuple[dict[str, Any], ...] = ()
    skipped: tuple[dict[str, Any], ...] = ()
    indicator_sources: tuple[dict[str, Any], ...] = ()
    geometry: dict[str, Any] | None = None
    scot: dict[str, Any] | None = None
    population: dict[str, Any] = field(default_factory=dict)
    editions: tuple[dict[str, Any], ...] = ()
    checks: tuple[dict[str, Any], ...] = ()
    headline: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, raw: Any, *, where: str = MANIFEST_FILE) -> Manifest:
        """Validate a parsed ``manifest.json``.

        Raises
        ------
        BundleError
            Naming the missing or malformed fields and how to fix it (rebuild).
        """
        if not isinstance(raw, dict):
            raise BundleError(f"{where} : le manifeste n'est pas un objet JSON ; relancez `planeco data build --force`.")
        missing = [k for k in _REQUIRED if k not in raw]
        bad = []
        if "current_cog" in raw and not (isinstance(raw["current_cog"], int) and 2000 < raw["current_cog"] < 2100):
            bad.append(f"current_cog={raw['current_cog']!r}")
        if "tables" in raw and not isinstance(raw["tables"], dict):
            bad.append("tables")
        if missing or bad:
            raise BundleError(
                f"{where} : manifeste incomplet ou invalide (champs manquants {missing}, invalides {bad}) ; "
                "il a été écrit par une version plus ancienne de planeco ou modifié à la main. "
                "Relancez `planeco data build --force`.")

        def seq(key: str) -> tuple[dict[str, Any], ...]:
            return tuple(x for x in (raw.get(key) or []) if isinstance(x, dict))

        return cls(
            format=int(raw["format"]), built_at=str(raw["built_at"]), current_cog=int(raw["current_cog"]),
            tables=dict(raw["tables"]), sources=seq("sources"), skipped=seq("skipped"),
            indicator_sources=seq("indicator_sources"), geometry=raw.get("geometry") or None,
            scot=raw.get("scot") or None, population=dict(raw.get("population") or {}), editions=seq("editions"),
            checks=seq("checks"), headline=dict(raw.get("headline") or {}), raw=raw,
        )

    def source_vintage(self, name: str) -> int | None:
        """Vintage recorded for a bundle source (``geometry`` → 2025), or ``None``."""
        for s in self.sources:
            if s.get("name") == name and s.get("vintage"):
                return int(s["vintage"])
        return None

    @property
    def split_overlaps(self) -> list[str]:
        """Communes whose contour still covers split-off communes (geometry report)."""
        items = (self.geometry or {}).get("split_overlaps") or []
        return [str(i["code"]) for i in items if isinstance(i, dict) and i.get("code")]

    def skipped_indicator_sources(self) -> dict[str, dict[str, Any]]:
        """``{source id: entry}`` of the indicator sources the build could not read."""
        return {str(s.get("source")): s for s in self.indicator_sources if not s.get("included")}


class Bundle:
    """A data bundle directory, read through its declared schema.

    Parameters
    ----------
    data_dir
        The bundle directory (``PLANECO_DATA_DIR``, ``data/build``).

    Raises
    ------
    BundleError
        There is no bundle there (no ``territories`` table), in French with how to build one.
    """

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        if not self.path("territories").is_file():
            raise BundleError(
                f"Le paquet de données est introuvable : {self.path('territories')} n'existe pas. "
                "Construisez-le avec `planeco data build` (ou `make data`), ou indiquez son dossier avec "
                "PLANECO_DATA_DIR.")
        self._lock = threading.RLock()
        self._tables: dict[tuple, Any] = {}
        self._manifest: Manifest | None = None
        self.stamp = _stamp(self.data_dir)
        """Identity of this build: (directory, manifest and territories file versions)."""

    def __repr__(self) -> str:
        return f"Bundle({self.data_dir})"

    # -- paths, all from the schema ----------------------------------------------------------------
    def path(self, table: str) -> Path:
        """Path of a declared table (:data:`planeco_kernel.bundle.schema.TABLES`)."""
        try:
            return self.data_dir / schema.TABLES[table].path
        except KeyError:
            raise KeyError(f"table inconnue du schéma du paquet : {table!r} ({', '.join(schema.TABLES)})") from None

    def has(self, table: str) -> bool:
        return self.path(table).is_file()

    def source_path(self, key: str) -> Path:
        """``sources/<key>.parquet``: a source's tidy frame written by the indicator step."""
        return self.data_dir / schema.SOURCE_FRAME_PATH.format(key=key)

    @property
    def components_path(self) -> Path:
        return self.data_dir / schema.COMPONENTS_PATH

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / MANIFEST_FILE

    # -- manifest ----------------------------------------------------------------------------------
    @property
    def manifest(self) -> Manifest:
        """The typed manifest (parsed once).

        Raises
        ------
        BundleError
            Absent, unreadable or invalid manifest.
        """
        if self._manifest is None:
            p = self.manifest_path
            if not p.is_file():
                raise BundleError(f"Aucun manifeste dans {self.data_dir} : lancez `planeco data build`.")
            try:
                raw = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise BundleError(f"{p} est illisible ({exc}) : relancez `planeco data build --force`.") from exc
            self._manifest = Manifest.parse(raw, where=str(p))
        return self._manifest

    def manifest_dict(self) -> dict[str, Any]:
        """The raw manifest (``{}`` when it is absent or invalid), for display only."""
        try:
            return self.manifest.raw
        except BundleError:
            return {}

    # -- tables ------------------------------------------------------------------------------------
    def read(self, table: str, columns: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """A declared table as a pandas frame (cached per build; callers must not modify it in place:
        take a ``.copy()`` first)."""
        import pandas as pd

        key = ("table", table, tuple(columns) if columns is not None else None)
        with self._lock:
            hit = self._tables.get(key)
            if hit is None:
                hit = pd.read_parquet(self.path(table), columns=list(columns) if columns is not None else None)
                self._tables[key] = hit
            return hit

    def read_arrow(self, table: str, columns: list[str] | None = None):
        """A declared table as a :class:`pyarrow.Table` (cached per build)."""
        import pyarrow.parquet as pq

        key = ("arrow", table, tuple(columns) if columns is not None else None)
        with self._lock:
            hit = self._tables.get(key)
            if hit is None:
                # ParquetFile, not read_table: no pyarrow.dataset (and pandas) import for a plain read
                hit = pq.ParquetFile(self.path(table)).read(columns=columns)
                self._tables[key] = hit
            return hit

    def read_source(self, key: str) -> pd.DataFrame | None:
        """A source's tidy frame from ``sources/<key>.parquet`` (``None`` when the build did not write it)."""
        import pandas as pd

        p = self.source_path(key)
        if not p.is_file():
            return None
        with self._lock:
            hit = self._tables.get(("source", key))
            if hit is None:
                hit = pd.read_parquet(p)
                self._tables[("source", key)] = hit
            return hit


def _stamp(d: Path) -> tuple:
    out: list[Any] = [str(d.resolve())]
    for rel in (MANIFEST_FILE, schema.TERRITORIES.path):
        try:
            st = (d / rel).stat()
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [0, 0]
    return tuple(out)


_OPEN: dict[str, Bundle] = {}
_OPEN_LOCK = threading.Lock()


def open_bundle(data_dir: str | Path | Bundle | None = None) -> Bundle:
    """The :class:`Bundle` of ``data_dir`` (default ``PLANECO_DATA_DIR``), shared while its build
    stamp is unchanged; a rebuilt bundle is opened afresh (its caches start empty)."""
    if isinstance(data_dir, Bundle):
        return data_dir
    from planeco_kernel import config

    d = Path(data_dir) if data_dir is not None else config.data_dir()
    key = str(d.resolve())
    with _OPEN_LOCK:
        b = _OPEN.get(key)
        if b is not None and b.stamp == _stamp(d):
            return b
        b = Bundle(d)
        _OPEN[key] = b
        return b


def clear_cache() -> None:
    """Forget every opened bundle (tests)."""
    with _OPEN_LOCK:
        _OPEN.clear()
