"""HTML fragments of the « Comparateur territorial » app (pure functions of the data, escaped).

Every fragment carries ``data-*`` attributes (territory key, indicator, raw value) so that the
browser tests can compare what is shown with the library's own numbers.
"""

from __future__ import annotations

import base64
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

from planeco_kernel import fmt
from planeco_kernel.apps import templates
from planeco_kernel.apps.comparateur_data import MISSING_VINTAGE, Card, Choropleth, MapScope, Unavailable
from planeco_kernel.indicators.sentences import format_value

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

TEMPLATE = "comparateur.html"


def _fragment(name: str, *args: Any, **kwargs: Any) -> str:
    return templates.macro(TEMPLATE, name, *args, **kwargs)


def _position_view(p) -> dict[str, Any]:
    """What the ``position`` fragment shows of a :class:`Position` (percentile clipped to 0-100)."""
    if p.percentile is None:
        pct, aria = None, "position non calculable"
    else:
        pct = max(0.0, min(100.0, float(p.percentile)))
        aria = f"{p.rank_text}, {round(pct)}e centile"
    return {"group": p.group, "label": p.label, "rank": p.rank, "count": p.count, "percentile": pct, "aria": aria,
            "rank_text": p.rank_text, "reference_text": p.reference_text}


def _card_view(card: Card) -> dict[str, Any]:
    view = {k: getattr(card, k) for k in ("id", "label", "definition", "has_value", "value_text", "year", "source",
                                          "vintage", "evolution_text", "sentence", "estimate", "note")}
    view["value_attr"] = "" if card.value is None else repr(float(card.value))
    view["positions"] = [_position_view(p) for p in card.positions]
    return view


def card_html(card: Card) -> str:
    """One indicator card: value, unit, year, source, evolution, positions, sentence."""
    return _fragment("card", _card_view(card), MISSING_VINTAGE)


def _by_source(items: list[Unavailable]) -> list[tuple[str, list[Unavailable]]]:
    by_source: OrderedDict[str, list[Unavailable]] = OrderedDict()
    for u in items:
        by_source.setdefault(u.source, []).append(u)
    return list(by_source.items())


def unavailable_html(items: list[Unavailable]) -> str:
    """A collapsed list of the theme's indicators without data, grouped by source, with why and how."""
    return _fragment("unavailable", _by_source(items), len(items))


def cards_html(t: Territory, theme_label: str, cards: list[Card], unavailable: list[Unavailable]) -> str:
    """The cards of one theme for territory ``t`` (plus the collapsed unavailable list)."""
    return _fragment("cards", t.key, theme_label, [_card_view(c) for c in cards], _by_source(unavailable),
                     len(unavailable), MISSING_VINTAGE)


def legend_html(ch: Choropleth, scope: MapScope, key: str) -> str:
    """The map legend: title, year, class method, one swatch per class (missing values included)."""
    how = (f"Classes : {ch.method_text}, {fmt.plural(len(ch.legend) - (1 if ch.n_missing else 0), 'classe')}."
           if ch.breaks else "Aucune valeur à cartographier pour ce millésime.")
    return _fragment("legend", ch, scope, key, how)


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
    rows = [{"indicator": r["indicateur"], "label": r["libellé"], "year": r["année"],
             "cells": [(c, None if pd.isna(r[c]) else cell_text(r[c], r["unité"])) for c in terr_cols]}
            for _i, r in table.iterrows()]
    return _fragment("table", key, theme_label, ["Indicateur", "Année", *terr_cols], rows, MISSING_SHORT,
                     MISSING_VINTAGE)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def download_link(data: bytes, filename: str, mime: str, label: str, css: str) -> str:
    """An ``<a download>`` link carrying the file as a ``data:`` URI (works offline)."""
    return _fragment("download_link", _b64(data), filename, mime, label, css)


def downloads_html(key: str, links: list[dict[str, Any]]) -> str:
    """The row of download links; each link: ``data``, ``filename``, ``mime``, ``label``, ``css``."""
    return _fragment("downloads", key, [dict(lk, b64=_b64(lk["data"])) for lk in links])


def chart_html(png: bytes, alt: str, key: str, indicator: str) -> str:
    return _fragment("chart", _b64(png), alt, key, indicator)


def url_state_html(query: str) -> str:
    """A hidden element whose ``data-planeco-url`` the template's script copies into the address bar."""
    return _fragment("url_state", query)


def header_html(t: Territory, level_label, parents: list[Territory]) -> str:
    """The selected territory's title: level, code, name and parents (``level_label(t)`` names levels)."""
    return _fragment("header", t.key, level_label(t), t.code, t.name, [(level_label(p), p.name) for p in parents])


def hover_html(code: str, name: str, value_text: str) -> str:
    """The map's hover box: a commune's name and value."""
    return _fragment("hover", code, name, value_text)


def hover_placeholder_html() -> str:
    return _fragment("hover_placeholder")


def compare_intro_html(max_compared: int) -> str:
    return _fragment("compare_intro", max_compared)
