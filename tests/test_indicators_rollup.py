"""GroupIndex fast paths (identity order, coarser levels) against a naive loop (invented data)."""

import numpy as np

from planeco_kernel.indicators.rollup import GroupIndex


def _naive(idx, values, n):
    out = np.zeros((n, values.shape[1]))
    for i, g in enumerate(idx):
        if g >= 0:
            out[g] += values[i]
    return out


def test_identity_order_skips_nothing():
    rng = np.random.default_rng(0)
    idx = np.sort(rng.integers(0, 7, 200))
    g = GroupIndex.from_index(idx, 9)
    assert g.identity
    x = rng.random((200, 5))
    np.testing.assert_allclose(g.sum(x), _naive(idx, x, 9))
    shuffled = GroupIndex.from_index(rng.permutation(idx), 9)
    assert not shuffled.identity
    with_gap = GroupIndex.from_index(np.r_[idx[:-1], -1], 9)
    assert not with_gap.identity
    np.testing.assert_allclose(with_gap.sum(x), _naive(np.r_[idx[:-1], -1], x, 9))


def test_coarser_sums_of_sums_equal_member_sums():
    rng = np.random.default_rng(1)
    fine = rng.integers(0, 20, 500)
    up_of_fine = rng.integers(0, 4, 20)
    coarse = up_of_fine[fine]
    fine_g = GroupIndex.from_index(fine, 20)
    over = GroupIndex.coarser(fine, coarse, 20, 4)
    assert over is not None
    x = rng.random((500, 3))
    np.testing.assert_allclose(over.sum(fine_g.sum(x)), _naive(coarse, x, 4))


def test_coarser_refuses_levels_that_do_not_nest():
    fine = np.array([0, 0, 1, 1])
    assert GroupIndex.coarser(fine, np.array([0, 1, 1, 1]), 2, 2) is None  # fine group 0 split
    assert GroupIndex.coarser(np.array([0, -1, 1, 1]), np.array([0, 0, 1, 1]), 2, 2) is None  # member outside
