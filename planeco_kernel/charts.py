"""Every static chart of planeco (matplotlib, object API, PNG): apps and reports alike.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot global state, nothing
leaks between charts) and returned as PNG bytes, which the apps embed as ``data:`` URIs and
nbconvert embeds in the self-contained HTML report.

One missing-value rule (:func:`is_missing`): ``None`` or NaN is *missing*; a missing value never
becomes a bar, a point or a zero — bar charts write « non disponible » in its place, like the
numbers (:data:`planeco_kernel.fmt.MISSING`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from planeco_kernel import fmt

DPI = 100
MISSING_LABEL = "non disponible"
"""What a bar chart writes where a value is missing (no bar)."""
ACCENT = "#225ea8"
MUTED = "#9ecae1"


def is_missing(value: Any) -> bool:
    """The one missing-value rule of the charts: ``None`` or NaN (never drawn, never zero).

    >>> [is_missing(v) for v in (None, float("nan"), 0, 0.0, 3)]
    [True, True, False, False, False]
    """
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


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
    """A horizontal bar chart, one bar per label, ``highlight`` (index) in the accent colour.

    A missing value (:func:`is_missing`) gets no bar and the words « non disponible ».
    """
    from matplotlib.ticker import FuncFormatter

    n = len(labels)
    fig, ax = _figure(6.0, max(1.4, 0.28 * n + 0.8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.number(v, 0 if abs(v) >= 10 or v == int(v) else 1)))
    known = [i for i in range(n) if not is_missing(values[i])]
    vals = [0.0 if is_missing(v) else float(v) for v in values]  # text anchors only: no bar is drawn for these
    ax.barh(known, [vals[i] for i in known], color=[ACCENT if i == highlight else MUTED for i in known])
    for i in range(n):
        if i not in known:
            ax.text(0, i, f" {MISSING_LABEL}", va="center", ha="left", fontsize=8, color="#555", style="italic")
    ax.set_yticks(range(n), [lbl if len(lbl) <= 38 else lbl[:36] + "…" for lbl in labels], fontsize=8)
    if len(known) == n:
        ax.invert_yaxis()  # first label on top
    else:
        ax.set_ylim(n - 0.5, -0.5)  # the same, keeping the rows of missing values in place
    ax.axvline(0, color="#444", linewidth=0.6)
    if highlight is not None and 0 <= highlight < n:
        v = values[highlight]
        text = fmt.MISSING if is_missing(v) else fmt.number(float(v), 0 if abs(float(v)) >= 10 else 2)
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


def comparison_chart(labels: list[str], values: list[float | None], unit: str, title: str,
                     highlight: int | None = 0) -> bytes:
    """The apps' horizontal bar chart of one indicator across territories (PNG).

    Missing values (:func:`is_missing`) get no bar and the words « donnée non disponible ».
    """
    import textwrap

    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no global backend change

    from planeco_kernel.indicators.sentences import format_value

    n = len(labels)
    fig = Figure(figsize=(7.2, 0.55 * max(n, 2) + 1.2), dpi=100)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    known = [float(v) for v in values if not is_missing(v)]
    top = max(known) if known else 1.0
    for yi, v in enumerate(values):
        pos = y[yi]
        color = "#000091" if yi == highlight else "#6a6af4"
        if is_missing(v):
            ax.text(0, pos, "  donnée non disponible", va="center", ha="left", fontsize=9, color="#3a3a3a",
                    style="italic")
        else:
            ax.barh(pos, float(v), color=color, height=0.6)
            ax.text(float(v), pos, " " + format_value(float(v), unit), va="center", ha="left", fontsize=9,
                    color="#161616")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(min(0, min(known) if known else 0), top * 1.35 if top > 0 else 1)
    fig.suptitle(textwrap.fill(title, 80), fontsize=11, x=0.02, ha="left", color="#161616")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def population_chart(years: list[int], values: list[float | None], title: str | None = None) -> bytes | None:
    """The apps' population line (census years on x, French-formatted labels); ``None`` without data.

    Missing years (:func:`is_missing`) are left out of the line (never drawn as zero).
    """
    points = [(y, float(v)) for y, v in zip(years, values) if not is_missing(v)]
    if not points:
        return None
    from matplotlib.figure import Figure  # no pyplot: no global backend change, no window
    from matplotlib.ticker import FuncFormatter

    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    fig = Figure(figsize=(6.4, 3.2), dpi=110)
    ax = fig.add_subplot()
    ax.plot(xs, ys, color="#000091", marker="o", linewidth=2, markersize=6)
    lo, hi = min(ys), max(ys)
    pad = max((hi - lo) * 0.25, hi * 0.02, 1)
    ax.set_ylim(max(0, lo - pad), hi + pad * 1.6)
    for x, y in points:
        ax.annotate(fmt.integer(y), (x, y), textcoords="offset points", xytext=(0, 8), ha="center",
                    fontsize=9, color="#161616")
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    if len(xs) == 1:
        ax.set_xlim(xs[0] - 1, xs[0] + 1)
    else:
        ax.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.integer(v)))
    ax.set_ylabel("habitants", color="#3a3a3a")
    ax.set_xlabel("année du recensement", color="#3a3a3a")
    if ax.get_ylim()[0] > 0:
        title = (title + "\n" if title else "") + "Axe vertical tronqué : il ne part pas de zéro"
    if title:
        ax.set_title(title, fontsize=10, loc="left", color="#161616")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
