"""Vectorised roll-up of commune arrays to a parent level: sums through a group index.

A :class:`GroupIndex` sorts the communes once by their parent (``territories`` parent codes) so
that every roll-up is a single :func:`numpy.add.reduceat` over a stacked 2-D array: all
numerators, denominators and coverage weights of an indicator, all years, in one call. When the
communes are already sorted by parent (départements: INSEE codes begin with the département's)
the gather is skipped, and :meth:`GroupIndex.coarser` sums a coarser level over the sums of a
finer one that nests in it (régions over départements, France over régions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class GroupIndex:
    """Membership of communes in the territories of one level.

    Attributes
    ----------
    n_groups
        Number of territories of the level.
    order
        Indices of the communes that belong to some territory, sorted by territory.
    starts
        Start of each non-empty territory's run within ``order``.
    present
        The territory index of each run (territories without any commune are absent).
    """

    n_groups: int
    order: np.ndarray
    starts: np.ndarray
    present: np.ndarray
    n_members: int = -1
    """Number of rows of the arrays summed (``-1``: unknown); with it, :meth:`sum` skips the gather
    when ``order`` is the identity (communes already sorted by parent: départements, France)."""
    _identity: bool = field(init=False, repr=False, compare=False, default=False)

    @classmethod
    def from_codes(cls, member_parent: np.ndarray, parent_codes: np.ndarray) -> GroupIndex:
        """Build from each commune's parent code (``None``/NaN when it has none) and the level's codes."""
        import pandas as pd

        parents = pd.Series(member_parent, dtype=object)
        idx = pd.Index(parent_codes, dtype=object).get_indexer(parents.where(parents.notna(), "\0"))
        return cls.from_index(np.asarray(idx, dtype=np.int64), len(parent_codes))

    @classmethod
    def from_index(cls, idx: np.ndarray, n_groups: int) -> GroupIndex:
        keep = np.flatnonzero(idx >= 0)
        order = keep[np.argsort(idx[keep], kind="stable")]
        sorted_idx = idx[order]
        if len(order) == 0:
            return cls(n_groups, order, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), len(idx))
        starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        return cls(n_groups, order, starts, sorted_idx[starts], len(idx))

    @property
    def identity(self) -> bool:
        """Whether every member belongs to a group and the members are already sorted by group."""
        n = len(self.order)
        return n == self.n_members and (n == 0 or bool((self.order == np.arange(n)).all()))

    def sum(self, values: np.ndarray, axis: int = 0) -> np.ndarray:
        """Sum the members of each territory (NaN-free values) → 0 for empty groups.

        ``axis=0``: ``values`` is (members × k) → (n_groups × k). ``axis=1``: ``values`` is
        (k × members), each row contiguous → (k × n_groups); three times faster on wide arrays
        (each row is gathered and reduced in one contiguous run), with the same additions in the
        same order, hence bitwise the same sums."""
        if axis == 1:
            out = np.zeros((values.shape[0], self.n_groups), dtype=np.float64)
            if len(self.order):
                rows = values if self._identity and values.shape[1] == len(self.order) else np.take(values, self.order, axis=1)
                out[:, self.present] = np.add.reduceat(rows, self.starts, axis=1)
            return out
        out = np.zeros((self.n_groups, *values.shape[1:]), dtype=np.float64)
        if len(self.order):
            rows = values if self._identity and values.shape[0] == len(self.order) else values[self.order]
            out[self.present] = np.add.reduceat(rows, self.starts, axis=0)
        return out

    def __post_init__(self) -> None:
        object.__setattr__(self, "_identity", self.identity)

    @classmethod
    def coarser(cls, fine: np.ndarray, coarse: np.ndarray, n_fine: int, n_coarse: int) -> GroupIndex | None:
        """The groups of a coarser level over the groups of a finer one (départements → régions),
        given each member's fine and coarse group index (``-1``: none); ``None`` unless the levels
        nest exactly (every member of a fine group in the same coarse group, every member of a
        coarse group in some fine group), so that summing the fine sums gives the same totals."""
        if ((coarse >= 0) & (fine < 0)).any():
            return None
        has = fine >= 0
        up = np.full(n_fine, -1, dtype=np.int64)
        up[fine[has]] = coarse[has]
        if (up[fine[has]] != coarse[has]).any():
            return None
        return cls.from_index(up, n_coarse)

    def size(self) -> np.ndarray:
        """Number of communes in each territory."""
        out = np.zeros(self.n_groups, dtype=np.int64)
        out[self.present] = np.diff(np.r_[self.starts, len(self.order)])
        return out


@dataclass(frozen=True)
class PartlyNested:
    """Sums of a coarse level taken from the sums of a finer level that almost nests in it (SCoT over
    EPCI: the EPCI wholly inside one SCoT, or outside every SCoT, give their sums; the members of the
    other EPCI, and those without one, are summed directly). The totals are those of a direct sum
    over the coarse level's members, in another order of addition."""

    over: GroupIndex
    """The fine groups wholly inside one coarse group → that group."""
    rest_rows: np.ndarray
    """Members of a coarse group not covered by such a fine group."""
    rest: GroupIndex
    """``rest_rows`` → their coarse group."""

    @classmethod
    def build(cls, fine: np.ndarray, coarse: np.ndarray, n_fine: int, n_coarse: int) -> PartlyNested:
        """From each member's fine and coarse group index (``-1``: none)."""
        has = fine >= 0
        lo = np.full(n_fine, np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(n_fine, np.iinfo(np.int64).min, dtype=np.int64)
        np.minimum.at(lo, fine[has], coarse[has])
        np.maximum.at(hi, fine[has], coarse[has])
        clean = lo == hi  # every member of the fine group in the same coarse group (or none)
        up = np.where(clean, lo, -1)
        covered = np.zeros(len(fine), dtype=bool)
        covered[has] = clean[fine[has]]
        rest_rows = np.flatnonzero((coarse >= 0) & ~covered)
        return cls(GroupIndex.from_index(up, n_coarse), rest_rows,
                   GroupIndex.from_index(coarse[rest_rows], n_coarse))

    def sum(self, fine_sums: np.ndarray, values: np.ndarray, axis: int = 0) -> np.ndarray:
        """Coarse sums from the fine level's sums (``fine_sums``) and the members' ``values``
        (members along ``axis``, as :meth:`GroupIndex.sum`)."""
        out = self.over.sum(fine_sums, axis)
        if len(self.rest_rows):
            out += self.rest.sum(np.take(values, self.rest_rows, axis=axis), axis)
        return out
