"""The territory index: ``territories`` and ``population`` in one SQLite file, for the command line.

``planeco territory show 86194`` needs one territory's row, its population series and a few parent
names. Reading them from the Parquet tables costs the import of pyarrow (and numpy), several
times the rest of the command; this index holds the same rows in a file the standard library
reads (:mod:`sqlite3`), so that the command line's look-ups import neither.

It is *derived*: written by the bundle build (and by :mod:`planeco_kernel.bundle.subset`) from the
Parquet files just written, never edited; the Parquet tables stay the bundle's contract. The
manifest records it under ``territory_index`` (path, rows, bytes, sha256, format, and the sha256
of the two tables it was derived from); :func:`open_index` serves it only when those match the
manifest's tables and its format and columns are this version's, otherwise it returns ``None``
and the caller reads the Parquet tables (an older bundle, a hand-edited table, a subset cut
before the index existed).

Layout (format :data:`FORMAT`):

- ``meta(key, value)``: ``format``, ``territories_sha256``, ``population_sha256``, ``columns``
  (the ``territories`` columns, JSON), ``levels`` and ``codes`` (the two key columns, one value a
  line: the store loads them whole, and splitting a string is ten times faster than fetching rows);
- ``territories(i INTEGER PRIMARY KEY, <every column of territories>)``: ``i`` is the row of
  ``territories.parquet`` (same order), indexed on ``code``;
- ``population(i, census_year, population, source, flag)``: the ``population`` rows whose
  ``(level, code)`` is a territory, ``i`` its row; primary key ``(i, census_year)``.

This module imports pyarrow only to write the index.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from planeco_kernel.bundle import schema

FORMAT = 1
"""Version of the index layout; an index of another format is not read."""
PATH = schema.TERRITORY_INDEX_PATH
MANIFEST_KEY = "territory_index"
"""Key of the index's entry in ``manifest.json``."""
_SOURCES = ("territories", "population")

Series = tuple[list[int], list["int | None"], list["str | None"], list["str | None"]]
"""Years (ascending), values, sources and flags of one territory."""


# -- writing (the build) -----------------------------------------------------------------------

def write(data_dir: Path, tables: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Write the index of the bundle being built in ``data_dir``; return its manifest entry.

    ``tables`` is the manifest's ``tables`` entry (the sha256 of ``territories`` and
    ``population`` are recorded in the index). ``None`` (nothing written) when the bundle has no
    ``territories`` or ``population`` table.
    """
    import pyarrow.parquet as pq

    from planeco_kernel.sources.fetch import sha256_file

    if any(name not in tables for name in _SOURCES):
        return None
    data_dir = Path(data_dir)
    columns = list(schema.TERRITORIES.column_names)
    terr = pq.ParquetFile(data_dir / schema.TERRITORIES.path).read(columns=columns)
    pop = pq.ParquetFile(data_dir / schema.POPULATION.path).read(
        columns=["level", "code", "census_year", "population", "source", "flag"])
    path = data_dir / PATH
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        cols_sql = ", ".join(f'"{c}"' for c in columns)
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute(f"CREATE TABLE territories (i INTEGER PRIMARY KEY, {cols_sql})")
        con.execute("CREATE TABLE population (i INTEGER NOT NULL, census_year INTEGER NOT NULL, "
                    "population INTEGER, source TEXT, flag TEXT, PRIMARY KEY (i, census_year)) WITHOUT ROWID")
        values = [terr.column(c).to_pylist() for c in columns]
        rows = list(zip(range(terr.num_rows), *values))
        con.executemany(f"INSERT INTO territories VALUES ({', '.join('?' * (len(columns) + 1))})", rows)
        row_of = {(lv, cd): i for i, lv, cd in zip(range(terr.num_rows), values[0], values[1])}
        p = {c: pop.column(c).to_pylist() for c in pop.schema.names}
        prow = sorted(
            ((row_of[(lv, cd)], y, v, s, f) for lv, cd, y, v, s, f in
             zip(p["level"], p["code"], p["census_year"], p["population"], p["source"], p["flag"])
             if (lv, cd) in row_of),
            key=lambda r: (r[0], r[1]))
        con.executemany("INSERT INTO population VALUES (?, ?, ?, ?, ?)", prow)
        con.execute("CREATE INDEX territories_code ON territories(code)")
        if any("\n" in x for x in [*values[0], *values[1]]):
            raise ValueError("territories: a level or a code contains a line break")
        meta = {"format": str(FORMAT), "columns": json.dumps(columns),
                "levels": "\n".join(values[0]), "codes": "\n".join(values[1]),
                **{f"{name}_sha256": str(tables[name]["sha256"]) for name in _SOURCES}}
        con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)
    return {"path": PATH, "format": FORMAT, "rows": terr.num_rows, "population_rows": len(prow),
            "bytes": path.stat().st_size, "sha256": sha256_file(path),
            "derived_from": {name: tables[name]["sha256"] for name in _SOURCES}}


# -- reading (the command line) ----------------------------------------------------------------

class TerritoryIndex:
    """A read-only connection to the index (thread-safe: one lock around the connection)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # read-only; immutable: a bundle's files are replaced by renames, never rewritten in place
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def meta(self) -> dict[str, str]:
        """The ``meta`` table but the key columns."""
        return dict(self._all("SELECT key, value FROM meta WHERE key NOT IN ('levels', 'codes')"))

    def keys(self) -> tuple[list[str], list[str]]:
        """The ``level`` and ``code`` columns, in the rows' order."""
        found = dict(self._all("SELECT key, value FROM meta WHERE key IN ('levels', 'codes')"))
        levels, codes = found["levels"].split("\n"), found["codes"].split("\n")
        if len(levels) != len(codes):
            raise sqlite3.DatabaseError(f"{self.path}: levels and codes of different lengths")
        return levels, codes

    def column(self, name: str) -> list:
        """One column of ``territories``, in the rows' order."""
        _check(name)
        return [r[0] for r in self._all(f'SELECT "{name}" FROM territories ORDER BY i')]

    def value(self, name: str, row: int) -> Any:
        """One cell of ``territories``."""
        _check(name)
        found = self._all(f'SELECT "{name}" FROM territories WHERE i = ?', (row,))
        if not found:
            raise IndexError(row)
        return found[0][0]

    def rows_for_code(self, code: str) -> list[int]:
        return [r[0] for r in self._all("SELECT i FROM territories WHERE code = ? ORDER BY i", (code,))]

    def series(self, row: int) -> Series:
        """One territory's population series, years ascending."""
        rows = self._all("SELECT census_year, population, source, flag FROM population WHERE i = ? "
                         "ORDER BY census_year", (row,))
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]

    def all_series(self, n_rows: int) -> list[Series]:
        """Every territory's series, by row (``n_rows`` rows)."""
        out: list[Series] = [([], [], [], []) for _ in range(n_rows)]
        for i, y, v, s, f in self._all("SELECT i, census_year, population, source, flag FROM population "
                                       "ORDER BY i, census_year"):
            years, values, sources, flags = out[i]
            years.append(y)
            values.append(v)
            sources.append(s)
            flags.append(f)
        return out

    def close(self) -> None:
        with self._lock:
            self._con.close()


def _check(name: str) -> None:
    if name not in schema.TERRITORIES.column_names:
        raise KeyError(f"colonne inconnue de territories : {name!r}")


def open_index(data_dir: Path, manifest: dict[str, Any]) -> TerritoryIndex | None:
    """The bundle's index when it is there and agrees with its manifest, else ``None``.

    Agrees: the manifest's entry has this :data:`FORMAT` and the file's recorded size; the index
    was derived from the ``territories`` and ``population`` files the manifest lists (sha256),
    and those still have their recorded size; its columns are those of the schema.
    """
    entry = manifest.get(MANIFEST_KEY)
    tables = manifest.get("tables") or {}
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or not isinstance(tables, dict):
        return None
    data_dir = Path(data_dir)
    path = data_dir / str(entry.get("path") or PATH)
    try:
        if path.stat().st_size != entry.get("bytes"):
            return None
        for name in _SOURCES:
            t = tables.get(name) or {}
            if (data_dir / str(t.get("path"))).stat().st_size != t.get("bytes"):
                return None
    except (OSError, TypeError):
        return None
    index = None
    try:
        index = TerritoryIndex(path)
        meta = index.meta()
    except sqlite3.Error:
        if index is not None:
            index.close()
        return None
    ok = (meta.get("format") == str(FORMAT)
          and meta.get("columns") == json.dumps(list(schema.TERRITORIES.column_names))
          and all(meta.get(f"{name}_sha256") == (tables.get(name) or {}).get("sha256") for name in _SOURCES))
    if not ok:
        index.close()
        return None
    return index
