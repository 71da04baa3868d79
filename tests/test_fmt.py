"""French number formatting (planeco_kernel.fmt), used by every app, report, map legend and CLI."""

from __future__ import annotations

import math

import pytest

from planeco_kernel import fmt
from planeco_kernel.fmt import MISSING

N = "\u202f"
M = "\u2212"


@pytest.mark.parametrize(("value", "expected"), [
    (0, "0"), (7, "7"), (999, "999"), (1000, f"1{N}000"), (12345, f"12{N}345"), (2133111, f"2{N}133{N}111"),
    (-4500, f"{M}4{N}500"), (1234.6, f"1{N}235"), (999.5, f"1{N}000"), (None, MISSING), (float("nan"), MISSING),
])
def test_integer(value, expected):
    assert fmt.integer(value) == expected


def test_pandas_na_is_missing_not_zero():
    pd = pytest.importorskip("pandas")
    assert fmt.integer(pd.NA) == MISSING
    assert fmt.number(pd.NA, 1, missing="n.d.") == "n.d."


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (1234.56, 1, f"1{N}234,6"), (0.04, 1, "0,0"), (-0.04, 1, "0,0"), (-0.001, 1, "0,0"), (-2.25, 2, f"{M}2,25"),
    (-1234567.891, 2, f"{M}1{N}234{N}567,89"), (3.456, None, "3,5"), (0.4037, None, "0,40"), (1234.5, None, f"1{N}234"),
    (None, 1, MISSING),
])
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


@pytest.mark.parametrize(("value", "signed", "expected"), [
    (3.4, False, f"3,4{N}%"), (3.4, True, f"+3,4{N}%"), (-0.8, True, f"{M}0,8{N}%"), (0.0, True, f"0,0{N}%"),
    (0.04, True, f"0,0{N}%"), (None, True, MISSING),
])
def test_percent(value, signed, expected):
    assert fmt.percent(value, 1, signed=signed) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (0.4521, f"+0,45{N}%/an"), (-1.2, f"{M}1,20{N}%/an"), (None, MISSING),
])
def test_rate(value, expected):
    assert fmt.rate(value) == expected


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (3.4, "%", f"3,4{N}%"), (1234567.8, "", f"1{N}234{N}568"), (-1500, "habitants", f"{M}1{N}500{N}habitants"),
    (3.24, "ratio", "3,2"), (None, "%", MISSING),
])
def test_with_unit(value, unit, expected):
    assert fmt.with_unit(value, unit) == expected


@pytest.mark.parametrize(("value", "expected"), [(1730, f"+1{N}730"), (-0.8, f"{M}0,80"), (0, "0"), (None, MISSING)])
def test_signed(value, expected):
    assert fmt.signed(value) == expected


@pytest.mark.parametrize(("first", "last", "expected"), [
    ((2018, 100.0), (2023, 100.0), 0.0),
    ((2018, 100.0), (2019, 110.0), 10.0),
    ((2013, 1000.0), (2023, 1000.0 * 1.01 ** 10), 1.0),
    ((2023, 100.0), (2023, 120.0), None),      # same year
    ((2018, 0.0), (2023, 100.0), None),        # not defined from zero
    ((2018, None), (2023, 100.0), None),       # missing stays missing
])
def test_annual_growth_percent(first, last, expected):
    got = fmt.annual_growth_percent(first, last)
    if expected is None:
        assert got is None
    else:
        assert math.isclose(got, expected, abs_tol=1e-9)


@pytest.mark.parametrize(("n", "singular", "plural_form", "expected"), [
    (0, "rapport", None, "0 rapport"), (1, "rapport", None, "1 rapport"), (2, "rapport", None, "2 rapports"),
    (1200, "classe", None, "1\u202f200 classes"), (3, "territoire en gris", "territoires en gris", "3 territoires en gris"),
])
def test_plural(n, singular, plural_form, expected):
    assert fmt.plural(n, singular, plural_form) == expected


@pytest.mark.parametrize(("n", "text"), [(0, "0 indicateur"), (1, "1 indicateur"), (2, "2 indicateurs"),
                                         (1500, f"1{N}500 indicateurs")])
def test_plural(n, text):
    assert fmt.plural(n, "indicateur") == text


def test_plural_with_an_explicit_form():
    assert fmt.plural(3, "territoire en gris", "territoires en gris") == "3 territoires en gris"
