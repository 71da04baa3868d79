"""French formatting of numbers for what users see (``12 345``, ``3,4 %``, ``+0,8 % par an``).

Thousands are separated by a narrow no-break space (U+202F), as in INSEE publications; the
decimal mark is a comma. Missing values are never shown as zero: they become ``MISSING``.
"""

from __future__ import annotations

import math

NNBSP = "\u202f"
"""Narrow no-break space: thousands separator and space before ``%``."""

MISSING = "non disponible"
"""What is shown in place of a missing value."""


def _is_missing(value: float | int | None) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:  # pandas.NA and friends
        return True


def format_int(value: float | int | None) -> str:
    """``12345`` → ``"12 345"`` (narrow no-break space); ``None``/NaN → :data:`MISSING`."""
    if _is_missing(value):
        return MISSING
    n = round(float(value))
    sign = "−" if n < 0 else ""
    return sign + f"{abs(n):,}".replace(",", NNBSP)


def format_decimal(value: float | None, digits: int = 1) -> str:
    """``1234.56`` → ``"1 234,6"``; ``None``/NaN → :data:`MISSING`."""
    if _is_missing(value):
        return MISSING
    v = float(value)
    sign = "−" if v < 0 and round(abs(v), digits) != 0 else ""
    text = f"{abs(v):,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return sign + text


def format_percent(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """``3.4`` → ``"3,4 %"`` (value already in percent); ``signed`` adds ``+`` to positive values."""
    if _is_missing(value):
        return MISSING
    text = format_decimal(value, digits)
    if signed and float(value) > 0 and text.strip("0,") != "":
        text = "+" + text
    return text + NNBSP + "%"


def annual_growth_percent(first: tuple[int, float], last: tuple[int, float]) -> float | None:
    """Mean annual growth rate, in percent, between two ``(year, value)`` points.

    Returns ``None`` when it cannot be computed (same year, missing or non-positive values).

    Notes
    -----
    Compound rate ``((last / first) ** (1 / years) - 1) * 100``, the "taux de variation annuel
    moyen" used by INSEE for population change between two censuses.
    """
    (y0, v0), (y1, v1) = first, last
    if y1 <= y0 or _is_missing(v0) or _is_missing(v1) or v0 <= 0 or v1 <= 0:
        return None
    return ((float(v1) / float(v0)) ** (1.0 / (y1 - y0)) - 1.0) * 100.0
