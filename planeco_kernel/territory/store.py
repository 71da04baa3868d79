"""The territory store: the bundle's territory tables, read through the :class:`~planeco_kernel.bundle.reader.Bundle`.

One store per build (:func:`planeco_kernel.territory.load_model` keeps one per bundle stamp), so
its caches never outlive the files they were read from. Tables are read on first use, each with
only the columns asked (``territories`` up front: a few milliseconds), through
:meth:`Bundle.read_arrow <planeco_kernel.bundle.reader.Bundle.read_arrow>` (pyarrow only: no pandas,
no ``pyarrow.dataset``) — or, for the command line, from the bundle's territory index
(:mod:`planeco_kernel.bundle.territory_index`, SQLite: no pyarrow at all) when the model is opened
with ``use_index=True`` and the index agrees with the manifest. Everything derived from them (column lists, the population index, member
indexes, points, contours) goes through the one caching idiom :meth:`TerritoryStore.cached`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from planeco_kernel.bundle import schema
from planeco_kernel.bundle.schema import LEVELS
from planeco_kernel.errors import BundleError, SchemaError
from planeco_kernel.levels import LEVEL

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.bundle.territory_index import TerritoryIndex
    from planeco_kernel.territory.population import SeriesDicts

T = TypeVar("T")

PARENT_COLUMNS: dict[str, str] = {k: lv.parent_column for k, lv in LEVEL.items() if lv.parent_column}
"""Column of ``territories`` holding the parent code at each level."""
SCALAR_READS = 64
"""Cells of one column read one by one before the whole column is converted to a list."""


class TerritoryStore:
    """The ``territories`` table as columnar lists, and the other territory tables on demand.

    Attributes
    ----------
    bundle : Bundle
        The bundle read (its stamp identifies the build).
    index : TerritoryIndex or None
        The territory index the rows are read from, or ``None``: the Parquet tables.
    table : pyarrow.Table
        ``territories``, all columns (read up front without an index, on first use with one).
    levels, codes : list of str
        The ``level`` and ``code`` columns, one entry per row.
    by_key : dict
        ``(level, code)`` → row (built on first use; :meth:`row_of` and :meth:`rows_for_code`
        scan the code list for the first :data:`SCALAR_READS` look-ups instead).
    """

    def __init__(self, bundle: Bundle, index: TerritoryIndex | None = None):
        self.bundle = bundle
        self.data_dir: Path = bundle.data_dir
        self.index = index
        self._lock = threading.RLock()
        self._memo: dict[tuple, Any] = {}
        self._scalar_reads: dict[str, int] = {}
        self._table: pa.Table | None = None
        self.levels: list[str]
        self.codes: list[str]
        if index is not None:
            self.levels, self.codes = index.keys()
        else:
            self._table = self.read("territories")
            self.levels = self._table.column("level").to_pylist()
            self.codes = self._table.column("code").to_pylist()
        self._key_reads = 0
        # Fast views of two memo entries, for the per-call paths (get, a territory's cells):
        self._lists: dict[str, list] = {}  # the ("column", name) entries
        self._key_index: dict[tuple[str, str], int] | None = None  # the ("by_key",) entry

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def table(self) -> pa.Table:
        """``territories`` as a pyarrow table (read on first use when the rows come from the index)."""
        if self._table is None:
            with self._lock:
                if self._table is None:
                    self._table = self.read("territories")
        return self._table

    # -- the one caching idiom -------------------------------------------------------------------
    def cached(self, key: tuple, build: Callable[[], T]) -> T:
        """``build()`` once per store (that is, per build of the bundle), under the store's lock."""
        try:
            return self._memo[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._memo:
                self._memo[key] = build()
            return self._memo[key]

    # -- tables ------------------------------------------------------------------------------------
    def read(self, table_name: str, columns: list[str] | None = None) -> pa.Table:
        """A declared table (or some of its columns), checked for its column names.

        Raises
        ------
        BundleError
            The table is absent from the bundle.
        SchemaError
            A column is missing.
        """
        decl = schema.TABLES[table_name]
        path = self.bundle.path(table_name)
        if not path.is_file():
            raise BundleError(
                f"Table « {table_name} » absente du paquet de données ({path}). "
                "Reconstruisez-le avec `planeco data build`."
            )
        table = self.bundle.read_arrow(table_name, columns=columns)
        check_columns(table.schema.names, decl, path, subset=columns)
        return table

    def read_where(self, table_name: str, columns: list[str], equal: dict[str, str]) -> pa.Table | None:
        """Rows of a table whose columns equal the given values (``None`` when the file is absent).

        Read straight from the file with a filter (not cached): large tables (contours, the COG
        history) are read one level or one code at a time.
        """
        import pyarrow.parquet as pq

        path = self.bundle.path(table_name)
        if not path.is_file():
            return None
        return pq.read_table(path, columns=columns, filters=[(k, "=", v) for k, v in equal.items()])

    def column(self, name: str) -> list:
        """One column of ``territories`` as a Python list (converted once)."""
        col = self._lists.get(name)
        if col is None:
            col = self._lists[name] = self.cached(("column", name), lambda: self._read_column(name))
        return col

    def _read_column(self, name: str) -> list:
        if self.index is not None:
            return self.index.column(name)
        return self.table.column(name).to_pylist()

    def value(self, name: str, row: int) -> Any:
        """One cell of ``territories``: from the column's list once converted (or once asked for
        :data:`SCALAR_READS` cells of it), read alone before that (one territory shown on the
        command line converts no column)."""
        col = self._lists.get(name)
        if col is not None:
            return col[row]
        with self._lock:
            n = self._scalar_reads[name] = self._scalar_reads.get(name, 0) + 1
        if n > SCALAR_READS:
            return self.column(name)[row]
        if self.index is not None:
            return self.index.value(name, row)
        return self.table.column(name)[row].as_py()

    @property
    def names(self) -> list[str]:
        return self.column("name")

    def code_history(self) -> pa.Table:
        """The ``code_history`` table (every COG vintage's commune codes)."""
        return self.cached(("code_history",), lambda: self.read("code_history"))

    def population(self) -> SeriesDicts:
        """Population series by row (``population`` table, or the index)."""
        from planeco_kernel.territory.population import IndexedPopulation, PopulationIndex

        def build() -> SeriesDicts:
            if self.index is not None:
                return IndexedPopulation(self.index, len(self.codes))
            import pyarrow.parquet as pq

            table = self.read("population")
            keys = pq.ParquetFile(self.bundle.path("population"), read_dictionary=["level", "code"]).read(
                columns=["level", "code"])
            return PopulationIndex(table, self.table, keys)

        return self.cached(("population",), build)

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """Some columns of ``territories`` as a pandas frame (cached; do not modify it)."""
        cols = [c for c in columns if c in self.table.schema.names]
        return self.cached(("frame", tuple(cols)), lambda: self.table.select(cols).to_pandas())

    # -- look-ups ----------------------------------------------------------------------------------
    @property
    def by_key(self) -> dict[tuple[str, str], int]:
        index = self._key_index
        if index is None:
            index = self._key_index = self.cached(
                ("by_key",), lambda: dict(zip(zip(self.levels, self.codes), range(len(self.codes)))))
        return index

    def _by_level(self, c: str) -> dict[str, int] | None:
        """Level → row of the rows having code ``c``, by a scan of the code list while few look-ups
        were made (``None`` once the ``by_key`` dictionary is the cheaper way)."""
        if self._key_index is not None or ("by_key",) in self._memo:
            return None
        with self._lock:
            self._key_reads += 1
            if self._key_reads > SCALAR_READS:
                return None
        out: dict[str, int] = {}
        codes, levels, i = self.codes, self.levels, -1
        while True:
            try:
                i = codes.index(c, i + 1)
            except ValueError:
                return out
            out[levels[i]] = i  # the last row of a key, as in by_key

    def row_of(self, level: str, code: str) -> int | None:
        """The row of ``level:code``, or ``None``."""
        index = self._key_index
        if index is not None:
            return index.get((level, code))
        found = self._by_level(code)
        if found is None:
            return self.by_key.get((level, code))
        return found.get(level)

    def rows_for_code(self, c: str) -> list[int]:
        """Rows having this code, at any level, smallest level first."""
        found = self._by_level(c)
        if found is None:
            by_key = self.by_key
            return [r for r in (by_key.get((lvl, c)) for lvl in LEVELS) if r is not None]
        return [found[lvl] for lvl in LEVELS if lvl in found]

    def name_of(self, level: str, code: str) -> str | None:
        """Name of the territory ``level:code``, or ``None`` if unknown."""
        row = self.row_of(level, code)
        return self.value("name", row) if row is not None else None

    def member_index(self, parent_level: str) -> dict[str, list[int]]:
        """Parent code → rows of the territories whose parent at ``parent_level`` it is."""
        def build() -> dict[str, list[int]]:
            idx: dict[str, list[int]] = {}
            for row, value in enumerate(self.column(PARENT_COLUMNS[parent_level])):
                if value:
                    idx.setdefault(value, []).append(row)
            return idx

        return self.cached(("members", parent_level), build)


def pandas_types(t: Any) -> Any:
    """``types_mapper`` for :meth:`pyarrow.Table.to_pandas`: nullable strings and 64-bit integers."""
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t) and t.bit_width == 64:
        return pd.Int64Dtype()
    return None


def check_columns(names: list[str], decl: schema.Table, path: Path, subset: list[str] | None = None) -> None:
    """Cheap schema check at load time (column names only; ``schema.validate`` does the full check)."""
    expected = list(subset) if subset else list(decl.column_names)
    missing = [c for c in expected if c not in names]
    if missing:
        raise SchemaError(
            f"{decl.name} ({path}): missing columns {missing} (expected columns: {', '.join(decl.column_names)}). "
            "Reconstruisez le paquet de données avec `planeco data build`."
        )
