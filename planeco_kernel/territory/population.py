"""Population series of the territories, grouped for constant-time access."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


class PopulationIndex:
    """The ``population`` table grouped by territory row: columnar arrays plus row boundaries.

    Built in a few vectorized steps (key matching with :func:`pyarrow.compute.index_in`, a
    stable sort, :func:`numpy.searchsorted`); a territory's series is then a slice.
    """

    def __init__(self, pop: pa.Table, territories: pa.Table):
        import numpy as np

        def keys(t: pa.Table) -> pa.ChunkedArray:
            ls = pa.large_string()
            return pc.binary_join_element_wise(pc.cast(t.column("level"), ls), pc.cast(t.column("code"), ls),
                                               pa.scalar("\x1f", ls))

        pkeys, tkeys = keys(pop), keys(territories)
        rowid = pc.fill_null(pc.index_in(pkeys, value_set=tkeys), -1).to_numpy().astype(np.int64)
        years = pop.column("census_year").to_numpy().astype(np.int64)
        order = np.lexsort((years, rowid))
        rowid = rowid[order]
        self._bounds = np.searchsorted(rowid, np.arange(territories.num_rows + 1)).tolist()
        take = pa.array(order)
        values = pop.column("population").take(take)
        self._years: list[int] = years[order].tolist()
        self._values: list[int | None] = values.to_pylist()
        self._sources = pop.column("source").take(take)
        self._flags = pop.column("flag").take(take)

    def _span(self, row: int) -> tuple[int, int]:
        return self._bounds[row], self._bounds[row + 1]

    def values(self, row: int) -> dict[int, int] | None:
        """Census year → population of a row (missing values omitted); ``None`` if the row has no series."""
        s, e = self._span(row)
        if s == e:
            return None
        return {y: v for y, v in zip(self._years[s:e], self._values[s:e]) if v is not None}

    def sources(self, row: int) -> dict[int, str]:
        s, e = self._span(row)
        return {y: src for y, v, src in zip(self._years[s:e], self._values[s:e], self._sources[s:e].to_pylist())
                if v is not None}

    def flags(self, row: int) -> dict[int, str]:
        s, e = self._span(row)
        return {y: f for y, f in zip(self._years[s:e], self._flags[s:e].to_pylist()) if f}
