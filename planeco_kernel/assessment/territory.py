"""The territory's view of its actors' assessments, and an actor's position among its peers.

Anonymity: scores are only ever published as aggregates of at least :data:`MIN_ACTORS`
actors (5): an actor's position among the actors of the same type and size class, the
distribution of maturity levels per field, the trend year over year. Below the threshold the
view says « moins de 5 structures » and publishes nothing about the scores. Aggregates are
quartiles and counts of levels, never minimum or maximum, and never an actor's name next to a
score.

Nested territories: publishing both a territory and a territory nested in it (a commune and its
EPCI) would let anyone subtract one distribution from the other. So a territory's distribution is
also withheld when a nested territory (an ancestor or a descendant holding actors) has at least 5
actors and differs from it by 1 to 4 actors; the rule is symmetric, so of such a pair neither is
ever published. Combinations of several siblings are not checked: the view is meant for the
territory running the scheme and its parents, and says so. What actors choose to publish — their commitments (action, lever, quantity) — is shown
with their name: the questionnaire tells them so before they commit.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planeco_kernel.assessment.answers import Assessment
from planeco_kernel.assessment.referentiel import Referentiel
from planeco_kernel.assessment.scoring import Score, score

if TYPE_CHECKING:
    from planeco_kernel.assessment.toolbox import Toolbox
    from planeco_kernel.territory import TerritoryModel

MIN_ACTORS = 5
"""No score aggregate is shown for fewer actors than this."""


@dataclass
class PeerComparison:
    """An actor's position among the actors of its type and size class (anonymised)."""

    peers: int
    shown: bool
    territory: str
    fields: dict[str, dict[str, float]] = field(default_factory=dict)
    position: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.shown:
            return f"Comparaison avec {self.peers} structures du même type et de la même taille ({self.territory})."
        return (f"Comparaison non disponible : moins de {MIN_ACTORS} structures du même type et de la même taille "
                f"ont répondu ({self.territory}). Aucune donnée individuelle n'est publiée.")


@dataclass
class TerritoryView:
    """What staff and elected officials see for a territory (anonymity threshold applied)."""

    code: str
    name: str
    year: int | None
    actors: int
    by_type: dict[str, str]
    shown: bool
    levels: list[str]
    distribution: dict[str, dict[str, int]] = field(default_factory=dict)
    median_percent: dict[str, float | None] = field(default_factory=dict)
    overall_median: float | None = None
    trend: dict[int, dict[str, float | None]] = field(default_factory=dict)
    top_actions: list[tuple[str, str, int]] = field(default_factory=list)
    field_titles: dict[str, str] = field(default_factory=dict)

    withheld_by: str = ""

    @property
    def message(self) -> str:
        if self.shown:
            return ""
        if self.withheld_by:
            return (f"La répartition des niveaux n'est pas publiée : elle diffère de moins de {MIN_ACTORS} structures "
                    f"de celle de {self.withheld_by}, et la comparaison des deux permettrait d'identifier ces structures.")
        return (f"Moins de {MIN_ACTORS} structures ont répondu pour ce territoire : la répartition des niveaux n'est "
                "pas publiée, pour qu'aucune structure ne soit identifiable.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory": {"code": self.code, "name": self.name}, "year": self.year, "actors": self.actors,
            "by_type": self.by_type, "anonymity_threshold": MIN_ACTORS, "shown": self.shown, "message": self.message,
            "withheld_by": self.withheld_by,
            "levels": self.levels, "distribution": self.distribution,
            "median_percent": {k: _r(v) for k, v in self.median_percent.items()}, "overall_median": _r(self.overall_median),
            "trend": {str(y): {k: _r(v) for k, v in d.items()} for y, d in self.trend.items()},
            "top_actions": [{"id": a, "title": t, "count": n} for a, t, n in self.top_actions],
        }  # fmt: skip


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def within(model: TerritoryModel | None, actor_territory: str, code: str) -> bool:
    """True when ``actor_territory`` is ``code`` or lies inside it (per the territory model)."""
    if not actor_territory:
        return False
    if actor_territory == code:
        return True
    if model is None:
        return False
    try:
        t = model.get(actor_territory)
    except LookupError:
        return False
    return code in t.parents.values()


def _nested_conflict(model: TerritoryModel | None, actors: list[Assessment], code: str) -> str:
    """The name of a nested territory whose actor count differs from ``code``'s by 1 to 4 ("" if none)."""
    if model is None:
        return ""
    counts: Counter[str] = Counter()
    chains: list[set[str]] = []
    for a in actors:
        try:
            t = model.get(a.actor.territory)
        except LookupError:
            continue
        chain = {t.code, *t.parents.values()}
        chains.append(chain)
        counts.update(chain)
    n = counts.get(code, 0)
    try:
        ancestors = set(model.get(code).parents.values())
    except LookupError:
        ancestors = set()
    related = ancestors | {k for chain in chains if code in chain for k in chain if k != code and k not in ancestors}
    for other in sorted(related):
        m = counts.get(other, 0)
        if m >= MIN_ACTORS and 0 < abs(m - n) < MIN_ACTORS:
            try:
                return model.get(other).name
            except LookupError:
                return other
    return ""


def latest(assessments: list[Assessment], year: int | None = None) -> list[Assessment]:
    """One assessment per actor: the one of ``year`` (or each actor's latest year)."""
    best: dict[str, Assessment] = {}
    for a in assessments:
        if year is not None and a.year != year:
            continue
        cur = best.get(a.actor.id)
        if cur is None or a.year > cur.year:
            best[a.actor.id] = a
    return list(best.values())


def _quartiles(values: list[float]) -> dict[str, float]:
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"q1": round(q1), "median": round(med), "q3": round(q3)}


def peer_comparison(ref: Referentiel, assessments: list[Assessment], me: Assessment, territory_code: str,
                    model: TerritoryModel | None = None, territory_name: str = "") -> PeerComparison:
    """``me`` among the same-year actors of the same type and size class in ``territory_code``.

    Shown only when at least :data:`MIN_ACTORS` actors (``me`` included) are in the group;
    quartiles are rounded to whole percents.
    """
    group = [a for a in latest(assessments, me.year)
             if a.actor.type == me.actor.type and a.actor.size_class == me.actor.size_class
             and within(model, a.actor.territory, territory_code)]
    if me.actor.id not in {a.actor.id for a in group}:
        group.append(me)
    where = territory_name or territory_code
    if len(group) < MIN_ACTORS:
        return PeerComparison(len(group), False, where)
    scores = [score(ref, a.answers, a.actor.type, a.actor.size_class) for a in group]
    mine = score(ref, me.answers, me.actor.type, me.actor.size_class).by_field()
    out = PeerComparison(len(group), True, where)
    for f in ref.fields:
        vals = [v for s in scores if (v := s.by_field()[f.id].percent) is not None]
        if len(vals) < MIN_ACTORS:
            continue
        q = _quartiles(vals)
        out.fields[f.id] = q
        m = mine[f.id].percent
        if m is not None:
            out.position[f.id] = ("dans le quart supérieur" if m > q["q3"] else "dans le quart inférieur" if m < q["q1"]
                                  else "dans la moitié centrale")
    return out


def territory_view(ref: Referentiel, assessments: list[Assessment], code: str, *, name: str = "",
                   model: TerritoryModel | None = None, year: int | None = None,
                   toolbox: Toolbox | None = None) -> TerritoryView:
    """Actors engaged, maturity distribution per field, trend, most chosen actions for ``code``."""
    here = [a for a in assessments if within(model, a.actor.territory, code)]
    current = latest(here, year)
    years = sorted({a.year for a in here})
    shown_year = year if year is not None else (years[-1] if years else None)
    counts = Counter((a.actor.type, a.actor.size_class) for a in current)
    by_type = {}
    for (t, s), n in sorted(counts.items()):
        label = f"{ref.actor_types.get(t, t)} — {ref.size_classes.get(s, s).lower()}"
        by_type[label] = str(n) if n >= MIN_ACTORS else f"moins de {MIN_ACTORS}"
    view = TerritoryView(code, name or code, shown_year, len(current), by_type, len(current) >= MIN_ACTORS,
                         [lv.label for lv in ref.levels], field_titles={f.id: f.title for f in ref.fields})
    if view.shown:
        everyone = latest(assessments, year)  # the actors of every territory, to check nested ones
        view.withheld_by = _nested_conflict(model, everyone, code)
        view.shown = not view.withheld_by
    if view.shown:
        scores: list[Score] = [score(ref, a.answers, a.actor.type, a.actor.size_class) for a in current]
        for f in ref.fields:
            fs = [s.by_field()[f.id] for s in scores]
            dist = Counter(x.level.label for x in fs if x.level is not None)
            view.distribution[f.id] = {lv.label: dist.get(lv.label, 0) for lv in ref.levels}
            vals = [x.percent for x in fs if x.percent is not None]
            view.median_percent[f.id] = statistics.median(vals) if len(vals) >= MIN_ACTORS else None
        overall = [s.percent for s in scores if s.percent is not None]
        view.overall_median = statistics.median(overall) if len(overall) >= MIN_ACTORS else None
    for y in years:
        ys = [a for a in here if a.year == y]
        if len(ys) < MIN_ACTORS:
            continue
        sc = [score(ref, a.answers, a.actor.type, a.actor.size_class) for a in ys]
        view.trend[y] = {}
        for f in ref.fields:
            vals = [v for s in sc if (v := s.by_field()[f.id].percent) is not None]
            view.trend[y][f.id] = statistics.median(vals) if len(vals) >= MIN_ACTORS else None
    chosen = Counter(c.action for a in current for c in a.chosen_actions)
    titles = {a.id: a.title for a in toolbox.actions} if toolbox else {}
    view.top_actions = [(aid, titles.get(aid, aid), n) for aid, n in chosen.most_common(10)]
    return view


def progress(ref: Referentiel, history: list[Assessment]) -> dict[int, dict[str, float | None]]:
    """One actor's score per field for each year it answered (yearly re-assessment)."""
    out: dict[int, dict[str, float | None]] = {}
    for a in sorted(history, key=lambda a: a.year):
        s = score(ref, a.answers, a.actor.type, a.actor.size_class)
        out[a.year] = {f.field_id: f.percent for f in s.fields} | {"global": s.percent}
    return out
