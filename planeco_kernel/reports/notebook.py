"""What the report templates call: one object per report that displays each section.

Templates stay thin (``parameterized/*.ipynb``): a ``parameters`` cell, then one call per
section, e.g.::

    from planeco_kernel.reports.notebook import DiagnosticReport
    report = DiagnosticReport(territory, level, vintage=vintage, peer_group=peer_group,
                              output_dir=output_dir, previous_figures=previous_figures, stamp=stamp)
    report.title()
    report.changes()
    ...

This module only renders: the numbers, sentences and chart specifications of each section come
from the view-model :class:`~planeco_kernel.reports.view.DiagnosticView` (testable without a
kernel), the Markdown and HTML from the templates ``report.md`` and ``report.html`` of
:mod:`planeco_kernel.apps.templates` (values escaped), the images from
:mod:`planeco_kernel.charts`. Every number displayed is registered by the view-model and
written to the CSV appendix by :meth:`DiagnosticReport.appendix`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planeco_kernel import charts, fmt
from planeco_kernel.apps import templates
from planeco_kernel.reports.figures import APPENDIX_FILE
from planeco_kernel.reports.sections import (  # noqa: F401 (PARAMETER_LABELS, date_fr re-exported)
    PARAMETER_LABELS, BarChart, MapChart, SeriesChart, Table, date_fr, not_loaded,
)
from planeco_kernel.reports.sections import param_value as _param_value  # noqa: F401 (re-exported)
from planeco_kernel.reports.sections import source_label as _source_label  # noqa: F401 (re-exported)
from planeco_kernel.reports.view import DiagnosticView


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def md(name: str, *args: Any, **kwargs: Any) -> str:
    """A Markdown fragment of ``report.md`` (values Markdown-escaped)."""
    return templates.macro("report.md", name, *args, **kwargs)


def html(name: str, *args: Any, **kwargs: Any) -> str:
    """An HTML fragment of ``report.html`` (values HTML-escaped)."""
    return templates.macro("report.html", name, *args, **kwargs)


def table_html(table: Table) -> str:
    return html("table", table.header, table.rows, table.right)


def chart_png(spec: BarChart | SeriesChart | MapChart) -> bytes:
    """The PNG image of a chart specification of the view-model."""
    if isinstance(spec, BarChart):
        return charts.bar_chart(spec.labels, spec.values, spec.title, spec.unit, highlight=spec.highlight)
    if isinstance(spec, SeriesChart):
        return charts.series_chart(spec.series, spec.title)
    return charts.choropleth_map(spec.geometries, spec.colors, spec.legend, spec.title, outline=spec.outline)


def _show_md(text: str) -> None:
    from IPython.display import Markdown

    _display(Markdown(text))


def _show_html(text: str) -> None:
    from IPython.display import HTML

    _display(HTML(text))


def _show_chart(spec) -> None:
    from IPython.display import Image

    _display(Image(data=chart_png(spec), format="png"))


def _heading(text: str, level: int = 2) -> None:
    _show_md(md("heading", text, level))


def _paragraph(text: str) -> None:
    _show_md(md("paragraph", text))


class DiagnosticReport:
    """The territorial diagnostic of one territory (template ``diagnostic_territoire``).

    Parameters
    ----------
    territory, level, vintage, peer_group
        See :func:`planeco_kernel.reports.diagnostic.compute`.
    output_dir
        Where :meth:`appendix` writes the CSV appendix.
    previous_figures, previous_sources, stamp, parameters
        See :class:`~planeco_kernel.reports.view.DiagnosticView`.
    """

    def __init__(self, territory: str, level: str | None = None, *, vintage: int | None = None,
                 peer_group: str = "auto", output_dir: str | Path = ".", previous_figures: str = "",
                 previous_sources: dict[str, str] | None = None, stamp: dict[str, Any] | None = None,
                 parameters: dict[str, Any] | None = None):
        self.view = DiagnosticView.compute(territory, level, vintage=vintage, peer_group=peer_group,
                                           previous_figures=previous_figures, previous_sources=previous_sources,
                                           stamp=stamp, parameters=parameters)
        self.d = self.view.d
        self.t = self.view.t
        self.output_dir = Path(output_dir)

    # -- sections -------------------------------------------------------------------------------
    def title(self, heading: str = "Diagnostic territorial") -> None:
        """Title (``heading — name``), level and parents of the territory."""
        _show_md(md("title", self.view.title(heading)))

    def changes(self) -> None:
        """« Ce qui a changé » since the previous run of this territory's report."""
        _heading("Ce qui a changé depuis le rapport précédent")
        c = self.view.changes()
        if c.first_run:
            _paragraph("Premier rapport pour ce territoire : aucune comparaison possible.")
        elif not c.items:
            _paragraph("Aucun changement notable : mêmes millésimes, indicateurs stables.")
        else:
            _show_md(md("changes", c))

    def key_figures(self) -> None:
        """Population, growth, area, density, members."""
        _heading("Chiffres clés")
        _show_html(table_html(self.view.key_figures()))

    def themes(self, only: list[str] | None = None) -> None:
        """One section per indicator theme: values, evolutions and French sentences of the indicator engine.

        Parameters
        ----------
        only
            Theme ids (``logement``, ``energie_logements``…) to show; default all themes.
        """
        th = self.view.themes(only)
        if th.error is not None:
            _heading("Indicateurs thématiques")
            _paragraph("Les indicateurs thématiques ne sont pas chargés dans cette installation.")
            _show_html(html("no_indicators", th.error))
            return
        for s in th.sections:
            _heading(s.label)
            if s.series is not None:
                _show_chart(s.series)
                _paragraph(s.growth_sentence or "")
            _show_html(table_html(s.table))
            if s.bars is not None:
                _show_chart(s.bars)
            _show_md(md("bullets", s.sentences))
            if s.absent:
                _show_md(md("absent", s.absent, not_loaded))
        if th.missing:
            _heading("Thèmes sans données dans cette installation")
            _show_md(md("missing_themes", th.missing, not_loaded))
        if th.causes:
            _show_html(html("annex", "Annexe technique : pourquoi ces données manquent (pour l'équipe technique)",
                            items=list(th.causes.items())))

    def demography(self) -> None:
        """Theme « Démographie »: the population series with a short commentary."""
        _heading("Démographie")
        chart, sentence = self.view.demography()
        _show_chart(chart)
        _paragraph(sentence)

    def land(self) -> None:
        """Theme « Occupation du territoire »: area and density, densest members."""
        _heading("Occupation du territoire")
        land = self.view.land()
        if land.text is None:
            _paragraph("Les contours de ce territoire ne sont pas dans le paquet de données : superficie et densité "
                       "non disponibles.")
            return
        _paragraph(land.text)
        if land.densest:
            _show_md(md("densest", land.densest))

    def position(self) -> None:
        """The territory's weight and growth within each parent."""
        _heading("Position dans les territoires englobants")
        pos = self.view.position()
        if pos.table is None:
            _paragraph(f"{pos.name} n'appartient à aucun territoire englobant.")
            return
        _show_html(table_html(pos.table))

    def peers(self, limit: int = 15) -> None:
        """Comparison with the commune's peer group of the catalogue (same size and density class), then with
        the territories of the same level in the same parent (named as such)."""
        for sec in self.view.peers(limit):
            _heading(sec.heading)
            if sec.intro:
                _paragraph(sec.intro)
            if sec.chart is not None:
                _show_chart(sec.chart)
            if sec.summary:
                _paragraph(sec.summary)

    def members_map(self, show_map: bool = True) -> None:
        """Map and table of the member communes (population growth by class)."""
        mem = self.view.members(show_map)
        if mem is None:
            return
        _heading("Communes membres")
        if mem.map is not None:
            _show_chart(mem.map)
        if mem.map_note:
            _paragraph(mem.map_note)
        _paragraph(mem.lead)
        _show_html(table_html(mem.table))

    def sources(self) -> None:
        """Sources and vintages of the data shown (publishers and datasets; technical provenance folded)."""
        src = self.view.sources()
        _heading("Sources et millésimes")
        _show_html(table_html(src.table))
        if src.indicators:
            _show_md(md("indicator_sources", src.indicators))
        _paragraph(f"Population municipale : Insee, recensements {src.first_year} à {src.vintage}. "
                   "Contours des territoires : IGN et Insee. "
                   "Taux d'évolution annuels : taux composés entre la première et la dernière année affichées.")
        items = [f"{name} {version} — {origin}" for name, version, origin in src.files]
        items += [f"Population : {src.pop_source}", f"Contours : {src.geo_source}"]
        _show_html(html("annex", "Provenance technique des fichiers (pour l'équipe technique)", items=items))

    def stamp(self) -> None:
        """Data manifest, template, package version and parameters of this report."""
        _heading("Cachet du rapport")
        _show_html(table_html(self.view.stamp()))

    def appendix(self) -> Path:
        """Write the CSV appendix of every number shown; display where it is."""
        path = self.view.write_appendix(self.output_dir)
        _show_md(md("appendix", fmt.number(len(self.d.figures)), APPENDIX_FILE))
        return path
