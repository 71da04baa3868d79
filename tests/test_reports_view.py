"""The diagnostic report's view-model: numbers and registered figures without a kernel or a display."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def view(bundle_dir):
    from planeco_kernel.reports.view import DiagnosticView

    return DiagnosticView.compute("200046977", "epci")


def test_sections_are_plain_data(view):
    from planeco_kernel import fmt
    from planeco_kernel.reports.sections import BarChart, Table

    d = view.d
    kf = view.key_figures()
    assert isinstance(kf, Table) and kf.rows[0] == ["Population municipale",
                                                    f"{fmt.number(d.population[d.vintage])} hab", str(d.vintage)]
    title = view.title()
    assert title.name == view.t.name and title.code == "200046977"
    pos = view.position()
    assert pos.table is not None and pos.table.rows[0][1] == view.t.name and pos.table.rows[0][3] == "100,00 %"
    peers = view.peers()
    assert peers and all(p.chart is None or isinstance(p.chart, BarChart) for p in peers)
    members = view.members(show_map=False)
    assert members is not None and members.map is None and len(members.table.rows) == min(20, len(d.members))


def test_a_section_registers_its_figures_once(view):
    before = len(view.d.figures)
    first = view.themes()
    after = len(view.d.figures)
    assert view.themes() is first and len(view.d.figures) == after
    if first.error is None and first.sections:
        assert after > before
    view.peers()
    n = len(view.d.figures)
    view.peers()
    assert len(view.d.figures) == n


def test_peer_chart_keeps_missing_values_missing(view):
    """A territory without a growth rate is left out of the bars, never drawn as 0."""
    for sec in view.peers():
        if sec.chart is not None:
            assert all(v is not None and v == v for v in sec.chart.values)
