"""Hostile text in any fragment of the apps and reports comes out escaped (never as markup).

The territory names, labels, parameters and error messages below are invented test data.
"""

from __future__ import annotations

import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from planeco_kernel.apps import comparateur_html as H
from planeco_kernel.apps import templates
from planeco_kernel.apps.comparateur_data import Card, Choropleth, MapScope, Position, Unavailable

EVIL = "Saint-<script>alert(1)</script>'\"><img src=x onerror=alert(2)>"
TAG = re.compile(r"<\s*(script|img)\b", re.I)


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from a fragment."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _v in attrs]


def _clean(html: str) -> None:
    p = _Elements()
    p.feed(html.split("<script>\nconst q = ")[0])  # the report index's own search script ends the page
    assert "script" not in p.tags and not [a for a in p.attrs if a.startswith("on")], html
    assert "&lt;script&gt;" in html, html


def _territory():
    return SimpleNamespace(key=f"commune:{EVIL}", code=EVIL, name=EVIL, level="commune")


def _card(has_value: bool = True) -> Card:
    pos = Position(EVIL, EVIL, 3, 10, 42.0, EVIL)
    return Card(EVIL, EVIL, EVIL, EVIL, has_value, 1.5 if has_value else None, EVIL, 2021, EVIL, EVIL, EVIL,
                (pos, Position(EVIL, EVIL, None, None, None, EVIL)), EVIL, True, EVIL)


def _choropleth() -> Choropleth:
    return Choropleth(EVIL, EVIL, EVIL, 2021, "quantiles", [0.0, 1.0], [{"color": EVIL, "label": EVIL}], {}, {}, 1)


def _comparateur_fragments():
    t = _territory()
    table = pd.DataFrame({"indicateur": [EVIL], "libellé": [EVIL], "unité": ["%"], "année": [EVIL], EVIL: [None],
                          "autre": [1.0]})
    scope = MapScope("commune", (EVIL,), EVIL, EVIL)
    yield H.card_html(_card())
    yield H.card_html(_card(has_value=False))
    yield H.cards_html(t, EVIL, [_card()], [Unavailable(EVIL, EVIL, EVIL, EVIL)])
    yield H.cards_html(t, EVIL, [], [])
    yield H.unavailable_html([Unavailable(EVIL, EVIL, EVIL, EVIL)])
    yield H.legend_html(_choropleth(), scope, EVIL)
    yield H.table_html(table, EVIL, EVIL)
    yield H.table_html(table.iloc[0:0], EVIL, EVIL)
    yield H.download_link(b"x", EVIL, EVIL, EVIL, EVIL)
    yield H.downloads_html(EVIL, [dict(data=b"x", filename=EVIL, mime=EVIL, label=EVIL, css=EVIL)])
    yield H.chart_html(b"png", EVIL, EVIL, EVIL)
    yield H.url_state_html(EVIL)
    yield H.header_html(t, lambda _x: EVIL, [t])
    yield H.hover_html(EVIL, EVIL, EVIL)


def _common_fragments():
    c = "common.html"
    yield templates.macro(c, "message", EVIL)
    yield templates.macro(c, "message", EVIL, kind="alert")
    yield templates.macro(c, "messages", [EVIL, EVIL])
    yield templates.macro(c, "mentions", [EVIL])
    yield templates.macro(c, "map_unavailable", EVIL)
    yield templates.macro(c, "not_found", EVIL, [EVIL])
    yield templates.macro(c, "ambiguous", EVIL)
    yield templates.macro(c, "intro", EVIL, EVIL)
    yield templates.macro(c, "h2", EVIL)
    yield templates.macro(c, "search_status", EVIL)


def _fiche_fragments():
    f = "fiche.html"
    rows = [SimpleNamespace(year=EVIL, label=EVIL, note=EVIL)]
    yield templates.macro(f, "header", EVIL, EVIL, EVIL, [(EVIL, EVIL)], "territoire", EVIL)
    yield templates.macro(f, "chart", EVIL, "AAAA", EVIL, EVIL, EVIL, EVIL, rows)
    yield templates.macro(f, "chart", EVIL, None, EVIL, EVIL, EVIL, EVIL, rows)
    yield templates.macro(f, "same_code_elsewhere", EVIL, EVIL, EVIL, "territoire", [(EVIL, EVIL)])
    yield templates.macro(f, "members_title", EVIL, EVIL)
    yield templates.macro(f, "member_population", EVIL, EVIL)
    # a « non disponible : <reason> » note of a key figure (the reason comes from the bundle's missing_reasons)
    from planeco_kernel.apps.fiche_figures import Figure, Section
    from planeco_kernel.indicators.missing import missing_text

    sec = Section(EVIL, EVIL, (Figure(EVIL, EVIL, EVIL, 2021, EVIL, missing_text(EVIL)),), (EVIL,))
    yield templates.macro("fiche_figures.html", "figures", EVIL, [], EVIL, [sec])


def _report_html_fragments():
    from planeco_kernel.reports import notebook as N
    from planeco_kernel.reports.index import write_index
    from planeco_kernel.reports.sections import Table

    yield N.table_html(Table([EVIL], [[EVIL]], frozenset({0})))
    yield N.html("annex", EVIL, paragraphs=[EVIL], items=[EVIL, (EVIL, EVIL)])
    yield N.html("no_indicators", EVIL)
    yield templates.render("report_page.html", title=EVIL, body=templates.safe("<p>corps</p>"))
    out = Path(tempfile.mkdtemp(prefix="planeco-test-index-"))
    entry = {"code": EVIL, "level": EVIL, "name": EVIL, "status": "failed", "error": EVIL, "files": ["rapport.html"],
             "finished_at": EVIL}
    yield write_index(out, [entry], title=EVIL).read_text(encoding="utf-8")


@pytest.mark.parametrize("html", [*_comparateur_fragments(), *_common_fragments(), *_fiche_fragments(),
                                  *_report_html_fragments()])
def test_html_fragments_escape_hostile_text(html):
    _clean(html)


def _report_md_fragments():
    from planeco_kernel.reports import notebook as N
    from planeco_kernel.reports.sections import Changes, Title

    yield N.md("heading", EVIL)
    yield N.md("paragraph", EVIL)
    yield N.md("bullets", [EVIL, EVIL])
    yield N.md("title", Title(EVIL, EVIL, EVIL, EVIL, EVIL, EVIL, [EVIL]))
    yield N.md("changes", Changes(False, [EVIL], 3))
    yield N.md("absent", [(EVIL, EVIL)], N.not_loaded)
    yield N.md("missing_themes", [(EVIL, [EVIL, EVIL])], N.not_loaded)
    yield N.md("densest", [(EVIL, EVIL)])
    yield N.md("indicator_sources", [(EVIL, EVIL)])
    yield N.md("appendix", EVIL, "annexe_chiffres.csv")


@pytest.mark.parametrize("markdown", list(_report_md_fragments()))
def test_markdown_fragments_escape_hostile_text(markdown):
    html = MarkdownIt().render(markdown)  # what Jupyter and nbconvert make of it
    assert not TAG.search(html), html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, html


def test_hostile_parameters_in_the_stamp_are_escaped():
    from planeco_kernel.reports import notebook as N
    from planeco_kernel.reports.sections import PARAMETER_LABELS, Table, param_value

    rows = [["Paramètres", " ; ".join(f"{PARAMETER_LABELS.get(k, k)} : {param_value(k, v)}"
                                      for k, v in {"territory": EVIL, EVIL: [EVIL]}.items())]]
    _clean(N.table_html(Table(["", ""], rows)))
