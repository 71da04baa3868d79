"""HTML fragments of the « Comparateur territorial » app (pure functions of the data, escaped).

Every fragment carries ``data-*`` attributes (territory key, indicator, raw value) so that the
browser tests can compare what is shown with the library's own numbers.
"""

from __future__ import annotations

import base64
import html
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps.comparateur_data import MISSING_VINTAGE, Card, Choropleth, MapScope, Unavailable
from planeco_kernel.indicators.sentences import format_value

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _position_html(p) -> str:
    if p.percentile is None:
        bar = "<span class='planeco-pos-bar planeco-pos-bar--none' aria-hidden='true'></span>"
        aria = "position non calculable"
    else:
        pct = max(0.0, min(100.0, float(p.percentile)))
        bar = (f"<span class='planeco-pos-bar' aria-hidden='true'><span class='planeco-pos-mark' "
               f"style='left:calc({pct:.1f}% - 5px)'></span></span>")
        aria = f"{p.rank_text}, {round(pct)}e centile"
    return (f"<li class='planeco-pos' data-group='{esc(p.group)}' data-rank='{p.rank if p.rank is not None else ''}' "
            f"data-count='{p.count or ''}' aria-label='{esc(p.label)} : {esc(aria)}'>"
            f"<span class='planeco-pos-label'>{esc(p.label)}</span>{bar}"
            f"<span class='planeco-pos-rank'>{esc(p.rank_text)}</span>"
            f"<span class='planeco-pos-ref planeco-mention'>{esc(p.reference_text)}</span></li>")


def card_html(card: Card) -> str:
    """One indicator card: value, unit, year, source, evolution, positions, sentence."""
    value_attr = "" if card.value is None else repr(float(card.value))
    head = (f"<article class='planeco-ind-card{' planeco-ind-card--missing' if not card.has_value else ''}' "
            f"data-indicator='{esc(card.id)}' data-value='{value_attr}' data-year='{card.year or ''}'>"
            f"<h3 class='planeco-ind-title' title='{esc(card.definition)}'>{esc(card.label)}</h3>")
    if not card.has_value:
        body = (f"<p class='planeco-ind-value planeco-ind-value--missing'>{esc(MISSING_VINTAGE)}</p>"
                f"<p class='planeco-mention'>{esc(card.note)}. Source : {esc(card.source)}"
                f"{f' ({card.year})' if card.year else ''}.</p>")
        return head + body + "</article>"
    parts = [f"<p class='planeco-ind-value'>{esc(card.value_text)}</p>",
             f"<p class='planeco-ind-meta planeco-mention'>{esc(card.year)} · {esc(card.source)}"
             f"{' · estimation (communes non renseignées exclues)' if card.estimate else ''}</p>"]
    if card.evolution_text:
        parts.append(f"<p class='planeco-ind-evo'>Évolution : {esc(card.evolution_text)}</p>")
    if card.positions:
        parts.append("<ul class='planeco-positions'>" + "".join(_position_html(p) for p in card.positions) + "</ul>")
    if card.sentence:
        parts.append(f"<p class='planeco-ind-sentence'>{esc(card.sentence)}</p>")
    parts.append(f"<p class='planeco-mention planeco-ind-vintage'>Millésime : {esc(card.vintage)}</p>")
    return head + "".join(parts) + "</article>"


def unavailable_html(items: list[Unavailable]) -> str:
    """A collapsed list of the theme's indicators without data, grouped by source, with why and how."""
    if not items:
        return ""
    by_source: OrderedDict[str, list[Unavailable]] = OrderedDict()
    for u in items:
        by_source.setdefault(u.source, []).append(u)
    blocks = []
    for source, us in by_source.items():
        labels = "".join(f"<li data-indicator='{esc(u.id)}'>{esc(u.label)}</li>" for u in us)
        blocks.append(f"<div class='planeco-unavail-source'><p><strong>{esc(source)}</strong></p><ul>{labels}</ul>"
                      f"<p class='planeco-mention'>Pourquoi et comment l'obtenir : {esc(us[0].reason)}</p></div>")
    n = len(items)
    return (f"<details class='planeco-unavailable'><summary>{n} indicateur{'s' if n > 1 else ''} non "
            f"disponible{'s' if n > 1 else ''} dans ce paquet de données</summary>{''.join(blocks)}</details>")


def cards_html(t: Territory, theme_label: str, cards: list[Card], unavailable: list[Unavailable]) -> str:
    """The cards of one theme for territory ``t`` (plus the collapsed unavailable list)."""
    if cards:
        grid = "<div class='planeco-ind-grid'>" + "".join(card_html(c) for c in cards) + "</div>"
    else:
        grid = (f"<p class='planeco-note' role='note'>Aucun indicateur du thème « {esc(theme_label)} » n'a de "
                "données dans ce paquet de données (voir ci-dessous pourquoi et comment les obtenir).</p>")
    return (f"<section class='planeco-cmp-cards-body' data-key='{esc(t.key)}' data-theme-label='{esc(theme_label)}'>"
            f"{grid}{unavailable_html(unavailable)}</section>")


def legend_html(ch: Choropleth, scope: MapScope, key: str) -> str:
    """The map legend: title, year, class method, one swatch per class (missing values included)."""
    items = "".join(
        f"<li class='planeco-legend-item'><span class='planeco-swatch' style='background:{esc(i['color'])}'></span>"
        f"{esc(i['label'])}</li>" for i in ch.legend)
    year = f" ({ch.year})" if ch.year else ""
    how = (f"Classes : {esc(ch.method_text)}, {esc(fmt.plural(len(ch.legend) - (1 if ch.n_missing else 0), 'classe'))}."
           if ch.breaks else "Aucune valeur à cartographier pour ce millésime.")
    return (f"<div class='planeco-legend-body' data-key='{esc(key)}' data-scope='{esc(scope.key)}' "
            f"data-indicator='{esc(ch.indicator)}' data-method='{esc(ch.method)}' data-year='{ch.year or ''}'>"
            f"<p class='planeco-legend-title'><strong>{esc(ch.label)}</strong>{esc(year)} — {esc(scope.title)}</p>"
            f"<ul class='planeco-legend'>{items}</ul><p class='planeco-mention'>{how}</p></div>")


MISSING_SHORT = "non disponible"
"""Short form of :data:`MISSING_VINTAGE` in table cells (the table's note gives the long form)."""


def cell_text(value: Any, unit: str) -> str:
    """A table cell: the French-formatted value, or :data:`MISSING_VINTAGE` (never a zero)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_VINTAGE
    return format_value(float(value), unit)


def table_html(table: pd.DataFrame, key: str, theme_label: str) -> str:
    """The side-by-side table (one row per indicator, one column per territory)."""
    terr_cols = list(table.columns[4:])
    head = "".join(f"<th scope='col'>{esc(c)}</th>" for c in ["Indicateur", "Année", *terr_cols])
    rows = []
    for _i, r in table.iterrows():
        cells = "".join(
            f"<td data-col='{esc(c)}' class='planeco-missing' title='{esc(MISSING_VINTAGE)}'>{esc(MISSING_SHORT)}</td>"
            if pd.isna(r[c]) else f"<td data-col='{esc(c)}'>{esc(cell_text(r[c], r['unité']))}</td>"
            for c in terr_cols)
        rows.append(f"<tr data-indicator='{esc(r['indicateur'])}'><th scope='row'>{esc(r['libellé'])}</th>"
                    f"<td>{esc(r['année'])}</td>{cells}</tr>")
    if not rows:
        return (f"<p class='planeco-note' data-key='{esc(key)}'>Aucun indicateur du thème « {esc(theme_label)} » "
                "à comparer dans ce paquet de données.</p>")
    return (f"<div class='planeco-cmp-table-wrap' data-key='{esc(key)}'><table class='planeco-table planeco-cmp-table'>"
            f"<caption>Comparaison — {esc(theme_label)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p class='planeco-mention'>« {esc(MISSING_SHORT)} » : {esc(MISSING_VINTAGE)} (secret statistique ou "
            "donnée absente de la source) ; jamais remplacée par zéro.</p></div>")


def download_link(data: bytes, filename: str, mime: str, label: str, css: str) -> str:
    """An ``<a download>`` link carrying the file as a ``data:`` URI (works offline)."""
    b64 = base64.b64encode(data).decode("ascii")
    return (f"<a class='planeco-download {esc(css)}' download='{esc(filename)}' "
            f"href='data:{esc(mime)};base64,{b64}'>{esc(label)}</a>")


def chart_html(png: bytes, alt: str, key: str, indicator: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f"<figure class='planeco-figure' data-key='{esc(key)}' data-indicator='{esc(indicator)}'>"
            f"<img class='planeco-cmp-chart-img' alt='{esc(alt)}' src='data:image/png;base64,{b64}'/></figure>")


def url_state_html(query: str) -> str:
    """A hidden element whose ``data-planeco-url`` the template's script copies into the address bar."""
    return f"<span class='planeco-url-state' hidden data-planeco-url='{esc(query)}'></span>"
