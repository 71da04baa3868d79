"""planeco_kernel.charts: one missing-value rule — a missing value never becomes a bar or a point."""

from __future__ import annotations

import math

import pytest

from planeco_kernel import charts


@pytest.fixture()
def figures(monkeypatch):
    """Capture the matplotlib figures instead of their PNG (bar charts of the reports)."""
    seen = []
    monkeypatch.setattr(charts, "_png", lambda fig: seen.append(fig) or b"")
    return seen


def _bars(fig):
    from matplotlib.patches import Rectangle

    return [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle)]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("missing", [None, math.nan])
def test_bar_chart_draws_no_bar_for_missing(figures, missing):
    charts.bar_chart(["A", "B", "C"], [2.5, missing, 0.0], "Test", "%", highlight=1)
    (fig,) = figures
    bars = _bars(fig)
    assert len(bars) == 2  # A and C (a real zero is a value, drawn as a zero-width bar)
    assert sorted(b.get_width() for b in bars) == [0.0, 2.5]
    assert any(charts.MISSING_LABEL in t for t in _texts(fig))
    assert any("non disponible" in t for t in _texts(fig))  # the highlighted missing value says so


def test_bar_chart_all_missing(figures):
    charts.bar_chart(["A"], [None], "Test")
    assert _bars(figures[0]) == []


@pytest.mark.parametrize("missing", [None, math.nan])
def test_comparison_chart_draws_no_bar_for_missing(monkeypatch, missing):
    from matplotlib.figure import Figure

    seen = []
    orig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: seen.append(self) or orig(self, *a, **k))
    png = charts.comparison_chart(["A", "B"], [3.5, missing], "%", "Test")
    assert png.startswith(b"\x89PNG")
    assert len(_bars(seen[0])) == 1 and any("donnée non disponible" in t for t in _texts(seen[0]))


def test_population_chart_skips_missing_years(monkeypatch):
    from matplotlib.figure import Figure

    seen = []
    orig = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: seen.append(self) or orig(self, *a, **k))
    assert charts.population_chart([2018, 2020], [None, math.nan]) is None
    charts.population_chart([2018, 2020, 2023], [100.0, None, 120.0])
    (line,) = seen[0].axes[0].lines
    assert list(line.get_xdata()) == [2018, 2023] and 0 not in list(line.get_ydata())


@pytest.mark.parametrize(("value", "missing"), [(None, True), (math.nan, True), ("x", True), (0, False),
                                                (0.0, False), (-1.5, False)])
def test_is_missing(value, missing):
    assert charts.is_missing(value) is missing
