"""HTML of the engagement apps and report (self-assessment results, one-page summary, territory
view, action tables), rendered with the apps' Jinja environment (autoescape on).

Functions here turn library objects into template contexts of plain, already formatted French
strings (numbers through :mod:`planeco_kernel.fmt`); templates never format numbers. The only
markup passed through unescaped is the radar and timeline SVG drawn by matplotlib, which escapes
the text it draws.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from planeco_kernel import fmt
from planeco_kernel.apps.templates import environment

if TYPE_CHECKING:
    import pandas as pd

    from planeco_kernel.assessment import Assessment, Referentiel, Score
    from planeco_kernel.assessment.territory import PeerComparison, TerritoryView
    from planeco_kernel.assessment.toolbox import Recommendation


@lru_cache(maxsize=64)
def _compiled(source: str):
    return environment().from_string(source)


def snippet(source: str, **context: Any) -> str:
    """Render a small inline template (autoescape on, like the template files)."""
    return _compiled(source).render(**context)


def _markup(svg: str):
    from markupsafe import Markup

    return Markup(svg)  # SVG drawn by matplotlib, which escapes the text it draws


def cost_range(lo: float, hi: float) -> str:
    if hi <= 0:
        return "sans coût direct"
    if lo == hi:
        return f"{fmt.number(lo)} €"
    return f"{fmt.number(lo)} à {fmt.number(hi)} € HT"


def duration(months: float) -> str:
    return fmt.plural(months, "mois", "mois") if months >= 1 else "moins d'un mois"


def results_context(ref: Referentiel, a: Assessment, s: Score, comparison: PeerComparison | None,
                    recs: list[Recommendation], *, levers: dict | None = None,
                    links: dict[str, list[str]] | None = None, history: list[Assessment] | None = None) -> dict[str, Any]:
    """The context of ``engagement_results.html`` (and of the summary page).

    ``history``: the actor's assessments of every year (a progress table is shown from two years).
    """
    from planeco_kernel.assessment import progress as progress_of
    from planeco_kernel.assessment import method_text
    from planeco_kernel.assessment.charts import radar_svg

    shown = bool(comparison and comparison.shown)
    peers = [comparison.fields.get(f.field_id, {}).get("median") for f in s.fields] if shown else None  # type: ignore[union-attr]
    radar = radar_svg([f.title for f in s.fields], [f.percent for f in s.fields], peers=peers)
    fields = []
    for f in s.fields:
        q = comparison.fields.get(f.field_id) if shown else None  # type: ignore[union-attr]
        fields.append({
            "id": f.field_id, "title": f.title,
            "percent": fmt.percent(f.percent, 0, missing="non concerné"),
            "level": f.level.label if f.level else "—",
            "peers": (f"{fmt.percent(q['q1'], 0)} – {fmt.percent(q['median'], 0)} – {fmt.percent(q['q3'], 0)}" if q else "—"),
            "position": comparison.position.get(f.field_id, "—") if shown else "",  # type: ignore[union-attr]
        })  # fmt: skip
    levers = levers or {}
    recommendations = [{
        "id": r.action.id, "title": r.action.title, "field": r.field_title, "level": r.current_level,
        "description": r.action.description, "cost": cost_range(r.action.cost_min, r.action.cost_max),
        "duration": duration(r.action.duration_months), "partners": ", ".join(r.action.partners) or "—",
        "lever": (levers[r.action.lever].name if r.action.lever in levers else r.action.lever),
        "links": (links or {}).get(r.action.id, []),
    } for r in recs]  # fmt: skip
    progress = None
    by_year = progress_of(ref, [h for h in (history or []) if h.year != a.year] + [a])
    if len(by_year) >= 2:
        years = sorted(by_year)
        titles = {f.id: f.title for f in ref.fields} | {"global": "Score global"}
        progress = {"years": years, "rows": [{"title": titles[k], "cells": [fmt.percent(by_year[y].get(k), 0) for y in years]}
                                             for k in titles]}
    return {
        "progress": progress,
        "actor_name": a.actor.name, "year": a.year, "overall": fmt.percent(s.percent, 0),
        "level": s.level.label if s.level else "", "answered": s.answered, "total": s.total, "radar": _markup(radar),
        "fields": fields, "comparison_shown": shown, "comparison_message": comparison.message if comparison else "",
        "recommendations": recommendations, "method": method_text(ref),
        "actor_type": ref.actor_types.get(a.actor.type, a.actor.type),
        "size_class": ref.size_classes.get(a.actor.size_class, a.actor.size_class), "territory": a.actor.territory,
        "updated": a.updated.replace("T", " ").replace("Z", " UTC") if a.updated else "non enregistré",
        "referentiel_title": ref.title, "referentiel_version": ref.version, "referentiel_owner": ref.owner,
    }  # fmt: skip


def render_results(ctx: dict[str, Any]) -> str:
    return environment().get_template("engagement_results.html").render(**ctx)


def render_summary(ctx: dict[str, Any], respondent: str) -> str:
    """The printable one-page summary (a complete HTML document)."""
    return environment().get_template("engagement_summary.html").render(**ctx, respondent=respondent)


def render_territory(view: TerritoryView) -> str:
    from planeco_kernel.assessment.territory import MIN_ACTORS

    dist = [{"title": view.field_titles[fid], "counts": [d[lv] for lv in view.levels],
             "median": fmt.percent(view.median_percent.get(fid), 0)} for fid, d in view.distribution.items()]
    trend = None
    if view.trend:
        years = sorted(view.trend)
        trend = {"years": years, "rows": [{"title": t, "cells": [fmt.percent(view.trend[y].get(fid), 0) for y in years]}
                                          for fid, t in view.field_titles.items()]}
    return environment().get_template("engagement_territory.html").render(
        name=view.name, year=view.year, actors=fmt.integer(view.actors), by_type=list(view.by_type.items()),
        shown=view.shown, message=view.message, overall_median=fmt.percent(view.overall_median, 0),
        levels=view.levels, distribution=dist, trend=trend, threshold=MIN_ACTORS,
        top_actions=[{"title": t, "count": n} for _, t, n in view.top_actions],
    )  # fmt: skip


def _cell(v: Any, col: str) -> str:
    import datetime as dt
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, (int, float)):
        if "année" in col.lower():
            return str(int(v))
        if "%" in col:
            return fmt.percent(v, 0)
        if "€" in col:
            return fmt.number(v)
        return fmt.number(v, None) if isinstance(v, float) else fmt.integer(v)
    return str(v)


def render_frame(df: pd.DataFrame, caption: str, *, empty: str = "Aucune ligne.", note: str = "",
                 id_column: str | None = None) -> str:
    """A DataFrame as an accessible HTML table (French number formats)."""
    cols = list(df.columns)
    rows = [{"id": (str(r[id_column]) if id_column else ""), "cells": [_cell(r[c], c) for c in cols]}
            for r in df.to_dict("records")]
    return environment().get_template("plan_actions_table.html").render(
        columns=cols, rows=rows, caption=caption, empty=empty, note=note)


def render_message(kind: str, title: str, items: list[str] | None = None) -> str:
    """A status (``ok``) or error (``error``) box with an optional list."""
    return environment().get_template("plan_actions_messages.html").render(kind=kind, title=title, items=items or [])


def render_threads(entries: list[dict[str, Any]]) -> str:
    return environment().get_template("plan_actions_threads.html").render(actions=entries)
