"""French formatting of every number a user sees — one implementation for apps, reports, CLI and maps.

Conventions (French typography, as in INSEE publications):

- thousands separated by a narrow no-break space (U+202F): ``12 345``;
- decimal comma: ``3,4``; a true minus sign (U+2212): ``−0,25``, and never ``−0``;
- a narrow no-break space before ``%`` and units: ``3,4 %``, ``12 345 habitants``;
- a missing value is never shown as zero: it becomes :data:`MISSING` (« non disponible »), or
  the text the caller passes as ``missing``.
"""

from __future__ import annotations

import math

NNBSP = "\u202f"
"""Narrow no-break space: thousands separator and space before ``%`` and units."""

MINUS = "\u2212"
"""The minus sign (not a hyphen)."""

MISSING = "non disponible"
"""What is shown in place of a missing value."""


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, ``pandas.NA`` and other non-numbers."""
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:  # pandas.NA and friends
        return True


def auto_decimals(value: float) -> int:
    """Decimals worth showing: 0 from 100 upward (and for zero), 1 from 1, 2 below 1."""
    a = abs(value)
    if a >= 100 or a == 0:
        return 0
    if a >= 1:
        return 1
    return 2


def number(value: float | int | None, decimals: int | None = 0, *, missing: str = MISSING) -> str:
    """``12345.6`` → ``"12 346"``; ``1234.56, 1`` → ``"1 234,6"``; ``decimals=None`` chooses them.

    Examples
    --------
    >>> number(-0.001, 1)
    '0,0'
    """
    if is_missing(value):
        return missing
    v = float(value)  # type: ignore[arg-type]
    d = auto_decimals(v) if decimals is None else decimals
    text = f"{abs(v):,.{d}f}".replace(",", NNBSP).replace(".", ",")
    negative = v < 0 and any(c not in "0," + NNBSP for c in text)
    return (MINUS if negative else "") + text


def integer(value: float | int | None, *, missing: str = MISSING) -> str:
    """``12345`` → ``"12 345"`` (rounded)."""
    return number(value, 0, missing=missing)


def signed(value: float | int | None, decimals: int | None = None, *, missing: str = MISSING) -> str:
    """A difference with its sign: ``"+1 730"``, ``"−0,8"``, ``"0"``."""
    text = number(value, decimals, missing=missing)
    if not is_missing(value) and float(value) > 0 and any(c not in "0," + NNBSP for c in text):  # type: ignore[arg-type]
        text = "+" + text
    return text


def percent(value: float | None, decimals: int = 1, *, signed: bool = False, missing: str = MISSING) -> str:
    """A value already in percent: ``3.4`` → ``"3,4 %"`` (``"+3,4 %"`` with ``signed``)."""
    if is_missing(value):
        return missing
    text = _signed(value, decimals) if signed else number(value, decimals)
    return text + NNBSP + "%"


def rate(value: float | None, decimals: int = 2, *, missing: str = MISSING) -> str:
    """An annual growth rate in percent: ``0.4521`` → ``"+0,45 %/an"``."""
    if is_missing(value):
        return missing
    return percent(value, decimals, signed=True) + "/an"


def with_unit(value: float | int | None, unit: str, decimals: int | None = None, *, missing: str = MISSING) -> str:
    """A number with its unit: ``"3,4 %"``, ``"12 345 habitants"``; unit ``ratio`` (or none) shows no unit."""
    text = number(value, decimals, missing=missing)
    if is_missing(value) or not unit or unit == "ratio":
        return text
    return f"{text}{NNBSP}{unit}"


def annual_growth_percent(first: tuple[int, float | None], last: tuple[int, float | None]) -> float | None:
    """Mean annual growth rate, in percent, between two ``(year, value)`` points.

    Returns ``None`` when it cannot be computed (same year, missing or non-positive values).

    Notes
    -----
    Compound rate ``((last / first) ** (1 / years) - 1) * 100``, the « taux de variation annuel
    moyen » used by INSEE for population change between two censuses.
    """
    (y0, v0), (y1, v1) = first, last
    if y1 <= y0 or is_missing(v0) or is_missing(v1) or v0 <= 0 or v1 <= 0:  # type: ignore[operator]
        return None
    return ((float(v1) / float(v0)) ** (1.0 / (y1 - y0)) - 1.0) * 100.0  # type: ignore[arg-type]


_signed = signed


def plural(n: float | int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun agreed (French rule: plural from 2): ``"1 rapport"``, ``"0 rapport"``, ``"53 rapports"``.

    ``plural_form`` defaults to ``singular + "s"``; every word of ``singular`` is not changed
    (pass ``plural_form`` for « territoire en gris » → « territoires en gris »).
    """
    word = singular if abs(float(n)) < 2 else (plural_form or singular + "s")
    return f"{number(n, 0)} {word}"
