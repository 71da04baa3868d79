"""Population series of the territories: a direct look-up for the first few, then a grouped index."""

from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.compute as pc

_Series = tuple[list[int], list[int | None], list[str | None], list[str | None]]


class PopulationIndex:
    """The ``population`` table by territory row.

    The first :attr:`DIRECT` territories asked are looked up directly (one filter on the columnar
    table, a millisecond: ``planeco territory show`` asks for one); after that the whole table is
    grouped by territory row in a few vectorized steps (key matching with
    :func:`pyarrow.compute.index_in`, a stable sort, :func:`numpy.searchsorted`) and a
    territory's series is a slice. Both ways give the same series, years in ascending order.
    """

    DIRECT = 16
    """How many territories are looked up directly before the table is grouped."""

    def __init__(self, pop: pa.Table, territories: pa.Table):
        self._pop = pop
        self._territories = territories
        self._lock = threading.Lock()
        self._direct: dict[int, _Series] = {}
        self._grouped: tuple[list[int], list[int], list[int | None], pa.ChunkedArray, pa.ChunkedArray] | None = None

    def _group(self) -> tuple[list[int], list[int], list[int | None], pa.ChunkedArray, pa.ChunkedArray]:
        import numpy as np

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

    def _series(self, row: int) -> _Series:
        """Years (ascending), values, sources and flags of one territory row."""
        grouped = self._grouped
        if grouped is None:
            hit = self._direct.get(row)
            if hit is not None:
                return hit
            with self._lock:
                if self._grouped is None and len(self._direct) < self.DIRECT:
                    hit = self._direct[row] = self._lookup(row)
                    return hit
                if self._grouped is None:
                    self._grouped = self._group()
                grouped = self._grouped
        bounds, years, values, sources, flags = grouped
        s, e = bounds[row], bounds[row + 1]
        return years[s:e], values[s:e], sources[s:e].to_pylist(), flags[s:e].to_pylist()

    def _lookup(self, row: int) -> _Series:
        pop = self._pop
        level = self._territories.column("level")[row]
        code = self._territories.column("code")[row]
        sub = pop.filter(pc.and_(pc.equal(pop.column("level"), level), pc.equal(pop.column("code"), code)))
        sub = sub.sort_by([("census_year", "ascending")])  # stable, as the grouped index's lexsort
        return ([int(y) for y in sub.column("census_year").to_pylist()], sub.column("population").to_pylist(),
                sub.column("source").to_pylist(), sub.column("flag").to_pylist())

    def values(self, row: int) -> dict[int, int] | None:
        """Census year → population of a row (missing values omitted); ``None`` if the row has no series."""
        years, values, _src, _flags = self._series(row)
        if not years:
            return None
        return {y: v for y, v in zip(years, values) if v is not None}

    def sources(self, row: int) -> dict[int, str]:
        years, values, sources, _flags = self._series(row)
        return {y: src for y, v, src in zip(years, values, sources) if v is not None}  # type: ignore[misc]

    def flags(self, row: int) -> dict[int, str]:
        years, _values, _src, flags = self._series(row)
        return {y: f for y, f in zip(years, flags) if f}
