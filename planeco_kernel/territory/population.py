"""Population series of the territories: a direct look-up for the first few, then a grouped index."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from planeco_kernel.bundle.territory_index import TerritoryIndex

_Series = tuple[list[int], list[int | None], list[str | None], list[str | None]]


class SeriesDicts:
    """A territory's series as the dictionaries :class:`~planeco_kernel.territory.objects.Territory`
    hands out; subclasses give :meth:`_series`."""

    def _series(self, row: int, *, labels: bool) -> _Series:
        raise NotImplementedError

    def values(self, row: int) -> dict[int, int] | None:
        """Census year → population of a row (missing values omitted); ``None`` if the row has no series."""
        years, values, _src, _flags = self._series(row, labels=False)
        if not years:
            return None
        return {y: v for y, v in zip(years, values) if v is not None}

    def sources(self, row: int) -> dict[int, str]:
        years, values, sources, _flags = self._series(row, labels=True)
        return {y: src for y, v, src in zip(years, values, sources) if v is not None}  # type: ignore[misc]

    def flags(self, row: int) -> dict[int, str]:
        years, _values, _src, flags = self._series(row, labels=True)
        return {y: f for y, f in zip(years, flags) if f}


class PopulationIndex(SeriesDicts):
    """The ``population`` table by territory row.

    The first :attr:`DIRECT` territories asked are looked up directly (the row positions of one
    ``level``/``code`` pair in the dictionary-encoded key columns ``keys``, compared with numpy: a
    millisecond, and no ``pyarrow.compute`` or pandas import — ``planeco territory show`` asks for
    one); after that the whole table is
    grouped by territory row in a few vectorized steps (key matching with
    :func:`pyarrow.compute.index_in`, a stable sort, :func:`numpy.searchsorted`) and a
    territory's series is a slice. Both ways give the same series, years in ascending order.
    """

    DIRECT = 16
    """How many territories are looked up directly before the table is grouped."""

    def __init__(self, pop: pa.Table, territories: pa.Table, keys: pa.Table | None = None):
        """``keys``: the ``level`` and ``code`` columns of ``pop`` read dictionary-encoded (without
        them, or with nulls in them, every look-up goes through the grouped index)."""
        self._pop = pop
        self._keys = keys
        self._territories = territories
        self._lock = threading.Lock()
        self._direct: dict[int, _Series] = {}
        self._grouped: tuple[list[int], list[int], list[int | None], pa.ChunkedArray, pa.ChunkedArray] | None = None

    def _group(self) -> tuple[list[int], list[int], list[int | None], pa.ChunkedArray, pa.ChunkedArray]:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        pop, territories = self._pop, self._territories

        def keys(t: pa.Table) -> pa.ChunkedArray:
            ls = pa.large_string()
            return pc.binary_join_element_wise(pc.cast(t.column("level"), ls), pc.cast(t.column("code"), ls),
                                               pa.scalar("\x1f", ls))

        pkeys, tkeys = keys(pop), keys(territories)
        rowid = pc.fill_null(pc.index_in(pkeys, value_set=tkeys), -1).to_numpy().astype(np.int64)
        years = pop.column("census_year").to_numpy().astype(np.int64)
        order = np.lexsort((years, rowid))
        rowid = rowid[order]
        bounds = np.searchsorted(rowid, np.arange(territories.num_rows + 1)).tolist()
        take = pa.array(order)
        values = pop.column("population").take(take).to_pylist()
        return (bounds, years[order].tolist(), values, pop.column("source").take(take),
                pop.column("flag").take(take))

    def _source(self, row: int) -> _Series | tuple[int, int]:
        """One row's series (direct look-up), or its span ``(start, end)`` in the grouped index."""
        grouped = self._grouped
        if grouped is None:
            hit = self._direct.get(row)
            if hit is not None:
                return hit
            with self._lock:
                if self._grouped is None and len(self._direct) < self.DIRECT:
                    hit = self._lookup(row)
                    if hit is not None:
                        self._direct[row] = hit
                        return hit
                if self._grouped is None:
                    self._grouped = self._group()
                grouped = self._grouped
        bounds = grouped[0]
        return bounds[row], bounds[row + 1]

    def _series(self, row: int, *, labels: bool) -> _Series:
        """Years (ascending), values and, when ``labels``, sources and flags of one territory row."""
        found = self._source(row)
        if len(found) == 4:
            return found
        s, e = found
        grouped = self._grouped
        assert grouped is not None
        _bounds, years, values, sources, flags = grouped
        if not labels:
            return years[s:e], values[s:e], [], []
        return years[s:e], values[s:e], sources[s:e].to_pylist(), flags[s:e].to_pylist()

    def _lookup(self, row: int) -> _Series | None:
        """One row's series from the key columns (``None``: not possible, use the grouped index)."""
        import numpy as np

        if self._keys is None:
            return None
        level = self._territories.column("level")[row].as_py()
        code = self._territories.column("code")[row].as_py()
        positions: list[int] = []
        start = 0
        for lv, cd in zip(self._keys.column("level").chunks, self._keys.column("code").chunks):
            if lv.indices.null_count or cd.indices.null_count or len(lv) != len(cd):
                return None
            try:
                li, ci = lv.dictionary.to_pylist().index(level), cd.dictionary.to_pylist().index(code)
            except ValueError:
                start += len(lv)
                continue
            mask = (_indices(lv) == li) & (_indices(cd) == ci)
            positions.extend(int(p) + start for p in np.flatnonzero(mask))
            start += len(lv)
        pop = self._pop
        years = [int(pop.column("census_year")[p].as_py()) for p in positions]
        order = sorted(range(len(positions)), key=years.__getitem__)  # stable, as the grouped index's lexsort
        at = [positions[k] for k in order]
        return ([years[k] for k in order], [pop.column("population")[p].as_py() for p in at],
                [pop.column("source")[p].as_py() for p in at], [pop.column("flag")[p].as_py() for p in at])



def _indices(chunk: pa.DictionaryArray):
    """The dictionary indices of a chunk as a numpy array, straight from its buffer (``to_numpy``
    would import pandas)."""
    import numpy as np

    ind = chunk.indices
    width = ind.type.bit_width // 8
    return np.frombuffer(ind.buffers()[1], dtype=np.dtype(f"int{ind.type.bit_width}"), count=len(ind),
                         offset=ind.offset * width)


class IndexedPopulation(SeriesDicts):
    """The population series read from the territory index (:mod:`planeco_kernel.bundle.territory_index`):
    one query per territory for the first :attr:`DIRECT` asked, then every series in one query."""

    DIRECT = 64

    def __init__(self, index: TerritoryIndex, n_rows: int):
        self._index = index
        self._n = n_rows
        self._lock = threading.Lock()
        self._direct: dict[int, _Series] = {}
        self._all: list[_Series] | None = None

    def _series(self, row: int, *, labels: bool) -> _Series:
        everything = self._all
        if everything is not None:
            return everything[row]
        with self._lock:
            hit = self._direct.get(row)
            if hit is None and self._all is None:
                if len(self._direct) < self.DIRECT:
                    hit = self._direct[row] = self._index.series(row)
                else:
                    self._all = self._index.all_series(self._n)
            return hit if hit is not None else self._all[row]  # type: ignore[index]
