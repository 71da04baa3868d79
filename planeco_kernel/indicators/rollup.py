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

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum rows of ``values`` (communes × k, NaN-free) per territory → (n_groups × k); 0 for empty groups."""
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
