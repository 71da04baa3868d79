"""Scores per field and overall, with « non concerné » redistribution and weights.

Method (the same text is shown to respondents by :func:`method_text`):

* a criterion answered at level ``n`` (0 to 4) earns ``points × weight × n / 4``;
* a criterion answered « non concerné », or not applicable to the actor's type and size class,
  leaves the calculation and its points are redistributed to the remaining criteria of the same
  field in proportion to their points — the field keeps its potential, as in the scoring of
  Territoires en Transitions (ADEME), where the points of a « non concernée » action go to its
  siblings;
* a criterion not answered yet counts as level 0 (the completeness is reported alongside);
* a field whose criteria are all out is « non concerné » and leaves the overall score;
* the overall score is the mean of the field percentages weighted by the field weights
  (1 by default); the level is the highest declared threshold reached.

Reference: Territoires en Transitions (ADEME and beta.gouv.fr), the scoring of its référentiels
Climat Air Énergie and Économie circulaire, where the points of an action set « non concernée »
are redistributed to its sibling actions so that the parent keeps its potential; only this rule
is borrowed, the référentiel itself is planeco's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planeco_kernel.assessment.referentiel import Level, Referentiel


@dataclass(frozen=True)
class Answer:
    """The answer to one criterion: a level (0–4) or « non concerné », with its evidence."""

    level: int | None = None
    not_concerned: bool = False
    evidence: str = ""

    @property
    def answered(self) -> bool:
        return self.not_concerned or self.level is not None


@dataclass
class FieldScore:
    """Score of one field."""

    field_id: str
    title: str
    percent: float | None
    points: float
    potential: float
    level: Level | None
    answered: int
    total: int
    not_concerned: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    effective_points: dict[str, float] = field(default_factory=dict)


@dataclass
class Score:
    """Scores of an assessment: per field and overall."""

    fields: list[FieldScore]
    percent: float | None
    level: Level | None
    answered: int
    total: int

    @property
    def completeness(self) -> float:
        """Share of applicable criteria answered, in percent."""
        return 100.0 * self.answered / self.total if self.total else 100.0

    def by_field(self) -> dict[str, FieldScore]:
        return {f.field_id: f for f in self.fields}

    def to_dict(self) -> dict:
        """A JSON-friendly summary (levels by id and label)."""
        def lv(x: Level | None):
            return None if x is None else {"id": x.id, "label": x.label}

        return {
            "percent": _round(self.percent), "level": lv(self.level), "answered": self.answered, "total": self.total,
            "fields": [{
                "id": f.field_id, "title": f.title, "percent": _round(f.percent), "points": round(f.points, 3),
                "potential": round(f.potential, 3), "level": lv(f.level), "answered": f.answered, "total": f.total,
                "not_concerned": f.not_concerned, "not_applicable": f.not_applicable,
            } for f in self.fields],
        }  # fmt: skip


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def score(ref: Referentiel, answers: dict[str, Answer], actor_type: str, size_class: str) -> Score:
    """Score ``answers`` (criterion id → :class:`Answer`) for an actor of this type and size class."""
    out: list[FieldScore] = []
    total_answered = total = 0
    for f in ref.fields:
        potential = sum(c.points * ref.weight(c.id) for c in f.criteria)
        kept = []
        nc: list[str] = []
        na: list[str] = []
        answered = 0
        for c in f.criteria:
            a = answers.get(c.id)
            if not c.applies(actor_type, size_class):
                na.append(c.id)
                continue
            total += 1
            if a is not None and a.answered:
                answered += 1
            if a is not None and a.not_concerned:
                nc.append(c.id)
                continue
            kept.append((c, a))
        total_answered += answered
        kept_points = sum(c.points * ref.weight(c.id) for c, _ in kept)
        if not kept or kept_points <= 0:
            out.append(FieldScore(f.id, f.title, None, 0.0, potential, None, answered, len(f.criteria) - len(na), nc, na))
            continue
        factor = potential / kept_points
        eff = {c.id: c.points * ref.weight(c.id) * factor for c, _ in kept}
        earned = sum(eff[c.id] * ((a.level or 0) if a is not None else 0) / 4 for c, a in kept)
        pct = 100.0 * earned / potential
        out.append(FieldScore(f.id, f.title, pct, earned, potential, ref.level_for(pct), answered,
                              len(f.criteria) - len(na), nc, na, eff))
    concerned = [fs for fs in out if fs.percent is not None]
    wsum = sum(ref.weight(fs.field_id) for fs in concerned)
    overall = (sum(ref.weight(fs.field_id) * (fs.percent or 0.0) for fs in concerned) / wsum) if concerned and wsum else None
    return Score(out, overall, ref.level_for(overall), total_answered, total)


def method_text(ref: Referentiel) -> list[str]:
    """The scoring method explained to the respondent (French paragraphs)."""
    from planeco_kernel import fmt

    levels = " ; ".join(f"« {lv.label} » à partir de {fmt.percent(lv.min_percent, 0)}" for lv in ref.levels)
    weighted = [k for k, w in ref.weights.items() if w != 1]
    lines = [
        ("Chaque critère se note sur une échelle de 0 (« pas engagé ») à 4 (« exemplaire ») : "
         "un critère au niveau n rapporte ses points × n / 4."),
        ("Un critère « non concerné », ou qui ne s'applique pas à votre type de structure ou à votre taille, "
         "sort du calcul : ses points sont redistribués aux autres critères du même champ, au prorata de leurs points "
         "(comme dans la notation de Territoires en Transitions). Le potentiel du champ ne change pas."),
        "Un critère sans réponse compte au niveau 0 ; le taux de réponse est indiqué à côté du score.",
        ("Le score d'un champ est le pourcentage de son potentiel atteint ; le score global est la moyenne des champs "
         "concernés" + (", pondérée" if any(k in {f.id for f in ref.fields} for k in weighted) else "") + "."),
        f"Niveaux de maturité : {levels}.",
    ]
    if weighted:
        lines.append("Pondérations de ce référentiel : " + ", ".join(
            f"{k} × {fmt.number(ref.weights[k], None)}" for k in weighted) + ".")
    lines.append(f"{ref.title}, version {ref.version} — {ref.owner}.")
    return lines
