"""GroupIndex fast paths (identity order, coarser and partly nested levels, the transposed layout)
against a naive loop (invented data)."""

import numpy as np

from planeco_kernel.indicators.rollup import GroupIndex, PartlyNested


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


def test_sum_over_columns_is_bitwise_the_sum_over_rows():
    """``axis=1`` (members along columns, the cube's layout) adds the same values in the same order."""
    rng = np.random.default_rng(2)
    idx = rng.integers(-1, 30, 2000)
    x = rng.random((2000, 7)) * 1e6
    for g in (GroupIndex.from_index(idx, 33), GroupIndex.from_index(np.sort(idx[idx >= 0]), 33)):
        rows = x[: g.n_members]
        by_rows = g.sum(rows)
        by_cols = g.sum(np.ascontiguousarray(rows.T), axis=1)
        assert by_cols.shape == (7, 33)
        assert np.array_equal(by_rows, by_cols.T)
        np.testing.assert_allclose(by_rows, _naive(idx[: g.n_members] if not g.identity else np.sort(idx[idx >= 0]), rows, 33))


def test_partly_nested_equals_the_direct_sum():
    """SCoT over EPCI: fine groups wholly inside one coarse group give their sums, the others'
    members (and members without a fine group) are summed directly."""
    rng = np.random.default_rng(3)
    n = 3000
    fine = rng.integers(0, 120, n)
    up_of_fine = rng.integers(-1, 15, 120)  # -1: a fine group outside every coarse group
    coarse = up_of_fine[fine]
    straddling = np.flatnonzero(fine == 7)[::2]  # fine group 7 straddles two coarse groups
    coarse[straddling] = (up_of_fine[7] + 1) % 15
    fine[:25] = -1  # members without a fine group, some in a coarse group
    coarse[:10] = rng.integers(0, 15, 10)
    coarse[10:25] = -1
    fine_g = GroupIndex.from_index(fine, 120)
    nested = PartlyNested.build(fine, coarse, 120, 15)
    assert GroupIndex.coarser(fine, coarse, 120, 15) is None  # not an exact nesting
    assert set(nested.rest_rows) >= set(np.flatnonzero(fine == 7)) | set(range(10))
    x = rng.random((n, 4)) * 1e3
    expected = _naive(coarse, x, 15)
    np.testing.assert_allclose(nested.sum(fine_g.sum(x), x), expected, rtol=1e-12)
    xt = np.ascontiguousarray(x.T)
    np.testing.assert_allclose(nested.sum(fine_g.sum(xt, axis=1), xt, axis=1), expected.T, rtol=1e-12)
