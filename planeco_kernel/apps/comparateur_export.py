"""Exports of the « Comparateur territorial »: the side-by-side table as CSV or XLSX, the chart as PNG.

Missing values stay missing (empty cells, no bar): never a zero. Re-exported by
:mod:`planeco_kernel.apps.comparateur_data`.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory


def column_name(t: Territory) -> str:
    """Column of a territory in the comparison table: ``"Saint-Étienne (42218)"``."""
    return f"{t.name} ({t.code})"


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as CSV for French spreadsheets: ``;`` separator, decimal comma, UTF-8 with BOM.

    Missing values are empty cells (never zero).
    """
    return table.to_csv(sep=";", decimal=",", index=False, float_format="%.12g").encode("utf-8-sig")


def xlsx_bytes(table: pd.DataFrame, sheet: str = "Comparaison") -> bytes:
    """The table as an Excel workbook (one sheet; missing values are empty cells)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        table.to_excel(xl, index=False, sheet_name=sheet)
    return buf.getvalue()


def chart_png(labels: list[str], values: list[float | None], unit: str, title: str,
              highlight: int | None = 0) -> bytes:
    """A horizontal bar chart of one indicator across territories (PNG).

    Missing values get no bar and the words « donnée non disponible » (never a zero bar; see
    :func:`planeco_kernel.charts.comparison_chart`).
    """
    from planeco_kernel import charts

    return charts.comparison_chart(labels, values, unit, title, highlight=highlight)
