"""Views of an action inventory: filtered table, Gantt-like timeline, indicator progress, roll-ups."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from planeco_kernel.actions import schema as S

if TYPE_CHECKING:
    import pandas as pd

    from planeco_kernel.territory import TerritoryModel

STATUS_COLORS = {
    "a_venir": "#9ecae1", "en_cours": "#225ea8", "realise": "#41ab5d", "en_pause": "#bdbdbd",
    "abandonne": "#636363", "bloque": "#e31a1c", "en_retard": "#fd8d3c",
}  # fmt: skip


def filter_sheets(sheets: Iterable[S.ActionSheet], *, territory: str | None = None, lever: str | None = None,
                  status: str | None = None, plan: str | None = None, sector: str | None = None,
                  text: str | None = None, model: TerritoryModel | None = None) -> list[S.ActionSheet]:
    """Sheets matching every given filter (``territory`` includes the territories inside it)."""
    from planeco_kernel.assessment.territory import within

    needle = (text or "").strip().lower()
    out = []
    for s in sheets:
        if territory and not within(model, s.territory, territory):
            continue
        if lever and s.lever != lever:
            continue
        if status and s.status != status:
            continue
        if plan and plan not in s.plans:
            continue
        if sector and s.sector != sector:
            continue
        if needle and needle not in f"{s.id} {s.title} {s.description} {s.pilot}".lower():
            continue
        out.append(s)
    return out


def table(sheets: Iterable[S.ActionSheet]) -> pd.DataFrame:
    """One row per action with the main columns (French headers)."""
    import pandas as pd

    rows = [{
        "id": s.id, "intitulé": s.title, "statut": S.STATUSES.get(s.status, s.status), "priorité": s.priority,
        "secteur": S.SECTORS.get(s.sector, s.sector), "levier": s.lever, "plans": ", ".join(s.plans),
        "pilote": s.pilot, "territoire": s.territory, "début": s.start, "fin": s.end,
        "investissement prévu (€)": s.budget_total("investissement", "previsionnel"),
        "fonctionnement prévu (€)": s.budget_total("fonctionnement", "previsionnel"),
    } for s in sheets]  # fmt: skip
    return pd.DataFrame(rows, columns=["id", "intitulé", "statut", "priorité", "secteur", "levier", "plans", "pilote",
                                       "territoire", "début", "fin", "investissement prévu (€)", "fonctionnement prévu (€)"])


def timeline_svg(sheets: Iterable[S.ActionSheet], *, today: dt.date | None = None, title: str = "") -> str:
    """A Gantt-like chart: one bar per dated action, coloured by status, with today's line (SVG)."""
    from matplotlib import rc_context
    from matplotlib.dates import DateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    dated = [s for s in sheets if s.start]
    dated.sort(key=lambda s: (s.start, s.id))
    today = today or dt.date.today()
    with rc_context({"svg.fonttype": "none", "font.size": 8}):
        fig = Figure(figsize=(9, max(1.6, 0.32 * len(dated) + 1.0)))
        ax = fig.subplots()
        ax.spines[["top", "right"]].set_visible(False)
        for i, s in enumerate(dated):
            end = s.end or max(s.start, today)  # type: ignore[type-var]
            ax.barh(i, max(date2num(end) - date2num(s.start), 3), left=date2num(s.start), height=0.6,
                    color=STATUS_COLORS.get(s.status, "#999"), edgecolor="none", gid=f"action-{s.id}")
        ax.set_yticks(range(len(dated)), [f"{s.id} — {s.title[:48]}" for s in dated])
        ax.invert_yaxis()
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(DateFormatter("%Y"))
        ax.axvline(date2num(today), color="#444", linewidth=1, linestyle=":")
        used = sorted({s.status for s in dated}, key=list(S.STATUSES).index)
        ax.legend(handles=[Patch(color=STATUS_COLORS[k], label=S.STATUSES[k]) for k in used], loc="upper center",
                  bbox_to_anchor=(0.5, -0.12 if dated else 0.5), ncol=min(len(used), 7) or 1, frameon=False)
        if title:
            ax.set_title(title, fontsize=10, loc="left")
        if not dated:
            ax.text(0.5, 0.5, "Aucune action datée", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def indicator_progress(sheets: Iterable[S.ActionSheet]) -> pd.DataFrame:
    """One row per indicator: baseline, target, current value and progress toward the target (%)."""
    import pandas as pd

    rows = [{
        "action": s.id, "intitulé": s.title, "indicateur": i.name, "unité": i.unit,
        "valeur initiale": i.baseline, "année initiale": i.baseline_year, "cible": i.target, "année cible": i.target_year,
        "valeur actuelle": i.current, "année actuelle": i.current_year, "avancement (%)": i.progress,
    } for s in sheets for i in s.indicators]  # fmt: skip
    return pd.DataFrame(rows, columns=["action", "intitulé", "indicateur", "unité", "valeur initiale", "année initiale",
                                       "cible", "année cible", "valeur actuelle", "année actuelle", "avancement (%)"])


ROLLUP_KEYS = {"secteur": "sector", "levier": "lever", "territoire": "territory", "statut": "status"}


def rollup(sheets: Iterable[S.ActionSheet], by: str, *, levers: dict | None = None,
           names: dict[str, str] | None = None) -> pd.DataFrame:
    """Actions added up by ``secteur``, ``levier``, ``territoire`` or ``statut``.

    Columns: the group (and its label), number of actions, of them done, planned investment and
    operating budgets (euros), and the quantified commitments in ktCO2e (other units are counted
    in ``engagements (autres unités)``).
    """
    import pandas as pd

    if by not in ROLLUP_KEYS:
        raise ValueError(f"Regroupement inconnu « {by} » : choisissez parmi {', '.join(ROLLUP_KEYS)}.")
    attr = ROLLUP_KEYS[by]
    groups: dict[str, dict[str, Any]] = {}
    for s in sheets:
        k = getattr(s, attr) or ""
        g = groups.setdefault(k, {"actions": 0, "réalisées": 0, "investissement prévu (€)": 0.0,
                                  "fonctionnement prévu (€)": 0.0, "engagements (ktCO2e)": 0.0,
                                  "engagements (autres unités)": 0})
        g["actions"] += 1
        g["réalisées"] += s.status == "realise"
        g["investissement prévu (€)"] += s.budget_total("investissement", "previsionnel")
        g["fonctionnement prévu (€)"] += s.budget_total("fonctionnement", "previsionnel")
        if s.commitment_quantity is not None and s.status != "abandonne":
            if s.commitment_unit == "ktCO2e":
                g["engagements (ktCO2e)"] += s.commitment_quantity
            else:
                g["engagements (autres unités)"] += 1
    labels = {"secteur": S.SECTORS, "statut": S.STATUSES}.get(by, {})
    if by == "levier" and levers:
        labels = {k: v.name for k, v in levers.items()}
    if by == "territoire" and names:
        labels = names
    rows = [{by: k, "libellé": labels.get(k, k) if k else "(non renseigné)", **v} for k, v in sorted(groups.items())]
    return pd.DataFrame(rows, columns=[by, "libellé", "actions", "réalisées", "investissement prévu (€)",
                                       "fonctionnement prévu (€)", "engagements (ktCO2e)", "engagements (autres unités)"])
