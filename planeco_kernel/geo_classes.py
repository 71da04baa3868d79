"""Choropleth classes, colours and legends for maps and reports (the styling half of :mod:`planeco_kernel.geo`).

Colours: the default sequential ramp is ColorBrewer **YlGnBu** (Cynthia Brewer, Penn State;
marked colour-blind safe, print friendly), with the scheme designed for each class count 3–9.
Missing values get :data:`MISSING_COLOR`, a neutral grey outside the ramp, labelled
« donnée non disponible ». :mod:`planeco_kernel.geo` re-exports every public name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from planeco_kernel import fmt

MISSING_COLOR = "#d9d9d9"
"""Fill colour of territories without a value (light neutral grey, not in any ramp)."""

MISSING_LABEL = "donnée non disponible"

"""French thousands separator: a non-breaking space (``12 345``)."""

# ColorBrewer 2.0 sequential schemes (colorbrewer2.org, Apache-2.0), one list per class count.
PALETTES: dict[str, dict[int, tuple[str, ...]]] = {
    "YlGnBu": {
        3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
        4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
        5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
        6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
        7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        8: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
        9: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494",
            "#081d58"),
    },
}
DEFAULT_PALETTE = "YlGnBu"


# ---------------------------------------------------------------------------------------------
# Classification and legends
# ---------------------------------------------------------------------------------------------

def _clean_values(values: Iterable[float] | np.ndarray | pd.Series) -> np.ndarray:
    a = pd.to_numeric(pd.Series(values, dtype="float64" if not isinstance(values, pd.Series) else None),
                      errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return a[np.isfinite(a)]


def _jenks_upper_bounds(x: np.ndarray, k: int) -> np.ndarray:
    """Fisher's exact optimal partition of sorted ``x`` into ``k`` classes (min within-class SSD).

    Dynamic programming over prefix sums, vectorised over the split point: O(k·n²) time,
    O(k·n) memory. Returns the index of each class's last element.
    """
    n = len(x)
    s1 = np.r_[0.0, np.cumsum(x)]
    s2 = np.r_[0.0, np.cumsum(x * x)]

    def ssd(i: np.ndarray | int, j: int) -> np.ndarray:  # SSD of x[i:j]
        cnt = j - np.asarray(i)
        tot = s1[j] - s1[i]
        return (s2[j] - s2[i]) - tot * tot / np.maximum(cnt, 1)

    cost = np.full((k + 1, n + 1), np.inf)
    arg = np.zeros((k + 1, n + 1), dtype=np.int64)
    j_all = np.arange(1, n + 1)
    cost[1, 1:] = s2[j_all] - s1[j_all] ** 2 / j_all
    for c in range(2, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)  # last class is x[i:j]
            tot = cost[c - 1, i] + ssd(i, j)
            m = int(np.argmin(tot))
            cost[c, j] = tot[m]
            arg[c, j] = i[m]
    ends = []
    j = n
    for c in range(k, 0, -1):
        ends.append(j - 1)
        j = arg[c, j]
    return np.array(ends[::-1])


def classify(
    values: Iterable[float] | np.ndarray | pd.Series,
    k: int = 5,
    method: Literal["quantiles", "jenks"] = "quantiles",
    *,
    max_jenks_values: int = 1000,
) -> list[float]:
    """Class breaks for a choropleth: ``k + 1`` ascending edges from the minimum to the maximum.

    Parameters
    ----------
    values
        The values; missing and infinite values are ignored (they get :data:`MISSING_COLOR`).
    k
        Number of classes wanted (1–9 for the palettes).
    method
        ``quantiles``: equal counts per class; ``jenks``: Fisher–Jenks natural breaks (exact
        optimum of the within-class sum of squares).
    max_jenks_values
        Jenks is O(k·n²): above this many values it runs on that many evenly spaced order
        statistics (the empirical quantiles), which keeps the shape of the distribution.

    Returns
    -------
    list of float
        Edges ``[min, b1, …, max]``; class *i* is ``(edge[i], edge[i+1]]`` (the first class also
        contains the minimum). When values tie, duplicate edges are merged, so there may be
        fewer than ``k`` classes (at least one); the minimum stays a class of its own when the
        first edges tie with it (``[0, 0, 2]``: the zeros, then ``(0, 2]``).

    Raises
    ------
    ValueError
        No finite value, or ``k`` < 1, or an unknown method.

    References
    ----------
    Jenks, G. F. (1967). The data model concept in statistical mapping. International Yearbook
    of Cartography 7. Fisher, W. D. (1958). On grouping for maximum homogeneity. JASA 53(284).
    """
    if k < 1:
        raise ValueError(f"k doit valoir au moins 1 (reçu {k}).")
    x = np.sort(_clean_values(values))
    if x.size == 0:
        raise ValueError("Aucune valeur numérique à classer : toutes les valeurs sont manquantes. "
                         "Vérifiez l'indicateur ou le territoire choisi.")
    if method == "quantiles":
        edges = np.quantile(x, np.linspace(0, 1, k + 1))
    elif method == "jenks":
        sample = x if x.size <= max_jenks_values else np.quantile(x, np.linspace(0, 1, max_jenks_values))
        uniq = np.unique(sample)
        kk = min(k, len(uniq))
        if kk == 1:
            edges = np.array([x[0], x[-1]])
        else:
            ends = _jenks_upper_bounds(sample, kk)
            edges = np.r_[x[0], sample[ends[:-1]], x[-1]]
    else:
        raise ValueError(f"Méthode de classification inconnue : « {method} ». Choisissez « quantiles » ou « jenks ».")
    # Merge tied edges but keep the minimum on its own: with many equal smallest values (zeros),
    # the first class is then exactly that value ("0") instead of swallowing the next ones.
    edges = np.r_[x[0], np.unique(edges[1:])]
    return [float(e) for e in edges]


def color_ramp(n: int, palette: str = DEFAULT_PALETTE) -> list[str]:
    """``n`` colours of a sequential ColorBrewer palette, light to dark (1 ≤ n ≤ 9)."""
    if palette not in PALETTES:
        raise ValueError(f"Palette inconnue : « {palette} ». Palettes disponibles : {', '.join(PALETTES)}.")
    schemes = PALETTES[palette]
    if n < 1 or n > max(schemes):
        raise ValueError(f"La palette {palette} propose de 1 à {max(schemes)} classes (demandé : {n}).")
    if n < min(schemes):
        base = schemes[min(schemes)]
        return [base[-1]] if n == 1 else [base[0], base[-1]]
    return list(schemes[n])


def assign_classes(values: Iterable[float] | np.ndarray | pd.Series, breaks: Sequence[float]) -> np.ndarray:
    """Class index (0-based) of each value for ``breaks`` from :func:`classify`; −1 if missing."""
    a = pd.to_numeric(pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype="float64"),
                      errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    e = np.asarray(breaks, dtype=float)
    n_classes = max(len(e) - 1, 1)
    idx = np.searchsorted(e[1:-1], a, side="left") if len(e) > 2 else np.zeros(len(a), dtype=np.int64)
    idx = np.clip(idx, 0, n_classes - 1)
    return np.where(np.isfinite(a), idx, -1)


def colors_for(values: Iterable[float] | np.ndarray | pd.Series, breaks: Sequence[float],
               palette: str = DEFAULT_PALETTE) -> list[str]:
    """Fill colour of each value (:data:`MISSING_COLOR` for missing values)."""
    ramp = color_ramp(max(len(breaks) - 1, 1), palette)
    return [ramp[i] if i >= 0 else MISSING_COLOR for i in assign_classes(values, breaks)]


def decimals_for(breaks: Sequence[float], max_decimals: int = 3) -> int:
    """Decimals for legend labels: about two significant digits of the smallest class width.

    Integer breaks get none; otherwise ``1 − floor(log10(smallest gap))`` clipped to
    0…``max_decimals``, raised if needed so that the rounded breaks stay distinct.
    """
    e = sorted({float(b) for b in breaks if math.isfinite(b)})
    if all(b == int(b) for b in e):
        return 0
    gaps = np.diff(e)
    d = 1 if not len(gaps) else int(np.clip(1 - math.floor(math.log10(gaps.min())), 0, max_decimals))
    while d < max_decimals and len({round(b, d) for b in e}) < len(e):
        d += 1
    return d


def legend_items(
    breaks: Sequence[float],
    unit: str = "",
    *,
    palette: str = DEFAULT_PALETTE,
    decimals: int | None = None,
    include_missing: bool = True,
) -> list[dict[str, Any]]:
    """Legend entries for a choropleth, labels in French.

    Parameters
    ----------
    breaks
        Edges from :func:`classify`.
    unit
        Unit appended after the upper bound with a non-breaking space (``"%"`` → ``"3,4 %"``,
        ``"hab./km²"``); empty for none.
    decimals
        Decimals shown; default: the fewest that keep the edges distinct.
    include_missing
        Add the « donnée non disponible » entry with :data:`MISSING_COLOR`.

    Returns
    -------
    list of dict
        ``{"label", "color", "lower", "upper"}`` per class, light to dark, e.g.
        ``"jusqu'à 1 000 hab."``, ``"plus de 1 000 à 12 345 hab."``, ``"plus de 12 345 hab."`` (classes
        hold their upper bound, as :func:`assign_classes` does); the missing entry has ``lower``/``upper`` ``None``.
    """
    e = [float(b) for b in breaks]
    if len(e) < 2:
        raise ValueError("Il faut au moins deux bornes (minimum et maximum) pour construire une légende.")
    d = decimals_for(e) if decimals is None else decimals
    suffix = f"{fmt.NNBSP}{unit}" if unit else ""
    ramp = color_ramp(len(e) - 1, palette)
    items = []
    n = len(e) - 1
    for i, (lo, hi) in enumerate(zip(e[:-1], e[1:])):
        # classes are (lower, upper], the first one closed (assign_classes): the labels say so,
        # so that a value equal to a bound is never in two classes
        if lo == hi:
            label = f"{fmt.number(lo, d)}{suffix}"
        elif n == 1:
            label = f"de {fmt.number(lo, d)} à {fmt.number(hi, d)}{suffix}"
        elif i == 0:
            label = f"jusqu'à {fmt.number(hi, d)}{suffix}"
        elif i == n - 1:
            label = f"plus de {fmt.number(lo, d)}{suffix}"
        else:
            label = f"plus de {fmt.number(lo, d)} à {fmt.number(hi, d)}{suffix}"
        items.append({"label": label, "color": ramp[i], "lower": lo, "upper": hi})
    if include_missing:
        items.append({"label": MISSING_LABEL, "color": MISSING_COLOR, "lower": None, "upper": None})
    return items
