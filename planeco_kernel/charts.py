"""Static charts of the reports (matplotlib, object API, PNG): series, comparisons, member maps.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot global state, nothing
leaks between charts) and returned as PNG bytes, which nbconvert embeds in the self-contained
HTML report.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from planeco_kernel import fmt

DPI = 100
ACCENT = "#225ea8"
MUTED = "#9ecae1"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def series_chart(series: Mapping[int, float], title: str, unit: str = "hab") -> bytes:
    """A line chart of a yearly series (years on x, values with French thousands separators).

    The title gives the change between the first and the last year (« +0,3 % de 2018 à 2023 »);
    when the vertical axis does not start at zero the chart says so (« axe vertical tronqué »), so
    that a small change is not read as a steep one.
    """
    from matplotlib.ticker import FuncFormatter

    years = sorted(series)
    fig, ax = _figure(6.0, 2.6)
    ax.plot(years, [series[y] for y in years], marker="o", color=ACCENT)
    ax.set_xticks(years)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.number(v)))
    full = title
    first, last = series[years[0]], series[years[-1]]
    if len(years) > 1 and first:
        change = (last / first - 1.0) * 100.0
        full += f" : {fmt.percent(change, 2 if abs(change) < 1 else 1, signed=True)} de {years[0]} à {years[-1]}"
    low = ax.get_ylim()[0]
    if low > 0:
        full += "\n(axe vertical tronqué : il ne part pas de zéro)"
    ax.set_title(full, fontsize=10, loc="left")
    ax.set_ylabel(unit)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def bar_chart(labels: Sequence[str], values: Sequence[float | None], title: str, unit: str = "",
              highlight: int | None = None) -> bytes:
    """A horizontal bar chart, one bar per label, ``highlight`` (index) in the accent colour."""
    from matplotlib.ticker import FuncFormatter

    n = len(labels)
    fig, ax = _figure(6.0, max(1.4, 0.28 * n + 0.8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.number(v, 0 if abs(v) >= 10 or v == int(v) else 1)))
    vals = [0.0 if v is None else float(v) for v in values]
    colors = [ACCENT if i == highlight else MUTED for i in range(n)]
    ax.barh(range(n), vals, color=colors)
    ax.set_yticks(range(n), [lbl if len(lbl) <= 38 else lbl[:36] + "…" for lbl in labels], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#444", linewidth=0.6)
    if highlight is not None and 0 <= highlight < n:
        v = values[highlight]
        text = fmt.MISSING if v is None else fmt.number(v, 0 if abs(v) >= 10 else 2)
        ax.annotate(f"{text} {unit}".strip(), (vals[highlight], highlight), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color=ACCENT, fontweight="bold")
        ax.get_yticklabels()[highlight].set_fontweight("bold")
        ax.get_yticklabels()[highlight].set_color(ACCENT)
    ax.set_title(title, fontsize=10, loc="left")
    if unit:
        ax.set_xlabel(unit)
    return _png(fig)


def _rings(geom) -> list[Any]:
    import numpy as np
    import shapely

    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        out.append(np.asarray(poly.exterior.coords))
    return out


def choropleth_map(geometries: Sequence[Any], colors: Sequence[str], legend: Sequence[Mapping[str, Any]],
                   title: str, outline: Any | None = None) -> bytes:
    """A static map: one filled polygon per geometry (WGS84), a legend, an optional outline.

    Longitudes are scaled by cos(latitude) so shapes keep their proportions.
    """
    import math

    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    polys, fc = [], []
    for g, c in zip(geometries, colors):
        if g is None:
            continue
        for ring in _rings(g):
            polys.append(ring)
            fc.append(c)
    fig, ax = _figure(6.0, 5.0)
    ax.set_axis_off()
    many = len(polys) > 2000  # thousands of shapes: borders would hide the colours
    ax.add_collection(PolyCollection(polys, facecolors=fc, edgecolors="face" if many else "white",
                                     linewidths=0.1 if many else 0.4))
    if outline is not None:
        ax.add_collection(PolyCollection(_rings(outline), facecolors="none", edgecolors="#333", linewidths=1.0))
    ax.autoscale_view()
    lat = sum(ax.get_ylim()) / 2
    ax.set_aspect(1.0 / max(math.cos(math.radians(lat)), 0.2))
    ax.set_title(title, fontsize=10, loc="left")
    handles = [Patch(facecolor=i["color"], edgecolor="#999", label=i["label"]) for i in legend]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return _png(fig)
