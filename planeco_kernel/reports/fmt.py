"""French formatting of numbers for reports (``12 345``, ``3,4 %``, ``+0,8 %/an``)."""

from __future__ import annotations

import math

NBSP = "\u00a0"
NNBSP = "\u202f"


def number_fr(value: float | int | None, decimals: int = 0) -> str:
    """``12 345``, ``3,4``; ``–`` for a missing value. Thousands separated by a non-breaking space."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",").replace("-", "−")


def percent_fr(value: float | None, decimals: int = 1, *, signed: bool = False) -> str:
    """A ratio already in percent: ``3,4 %`` (``+3,4 %`` with ``signed``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{number_fr(value, decimals)}{NBSP}%"


def rate_fr(value: float | None, decimals: int = 2) -> str:
    """An annual growth rate in percent: ``+0,45 %/an``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{percent_fr(value, decimals, signed=True)}/an"
