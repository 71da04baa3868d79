"""French number formatting of the apps."""

from __future__ import annotations

import math

import pytest

from planeco_kernel.apps.formatting import MISSING, annual_growth_percent, format_decimal, format_int, format_percent

N = "\u202f"


@pytest.mark.parametrize(("value", "expected"), [
    (0, "0"), (7, "7"), (999, "999"), (1000, f"1{N}000"), (12345, f"12{N}345"), (2133111, f"2{N}133{N}111"),
    (-4500, f"−4{N}500"), (1234.6, f"1{N}235"), (None, MISSING), (float("nan"), MISSING),
])
def test_format_int(value, expected):
    assert format_int(value) == expected


def test_format_int_pandas_na_is_missing_not_zero():
    pd = pytest.importorskip("pandas")
    assert format_int(pd.NA) == MISSING


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (1234.56, 1, f"1{N}234,6"), (0.04, 1, "0,0"), (-0.04, 1, "0,0"), (-2.25, 2, "−2,25"), (None, 1, MISSING),
])
def test_format_decimal(value, digits, expected):
    assert format_decimal(value, digits) == expected


@pytest.mark.parametrize(("value", "signed", "expected"), [
    (3.4, False, f"3,4{N}%"), (3.4, True, f"+3,4{N}%"), (-0.8, True, f"−0,8{N}%"), (0.0, True, f"0,0{N}%"),
    (None, True, MISSING),
])
def test_format_percent(value, signed, expected):
    assert format_percent(value, 1, signed=signed) == expected


@pytest.mark.parametrize(("first", "last", "expected"), [
    ((2018, 100.0), (2023, 100.0), 0.0),
    ((2018, 100.0), (2019, 110.0), 10.0),
    ((2013, 1000.0), (2023, 1000.0 * 1.01 ** 10), 1.0),
    ((2023, 100.0), (2023, 120.0), None),      # same year
    ((2018, 0.0), (2023, 100.0), None),        # not defined from zero
    ((2018, None), (2023, 100.0), None),       # missing stays missing
])
def test_annual_growth_percent(first, last, expected):
    got = annual_growth_percent(first, last)
    if expected is None:
        assert got is None
    else:
        assert math.isclose(got, expected, abs_tol=1e-9)
