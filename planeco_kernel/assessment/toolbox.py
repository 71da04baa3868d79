"""The toolbox: actions as data, each on a field and a maturity step, and the prioritised list.

An action (``toolbox.yaml`` beside this module; a territory adapts a copy) says what to do
next from where an actor is: ``step: n`` is recommended to an actor at level ``n`` of the
criterion it targets, to reach level ``n + 1``. It carries a description, a cost range (euros),
a time to implement (months), partners, the SGPE lever it serves when there is one, and what to
look for among the knowledge base's solutions and REX.

:func:`recommend` gives an actor its prioritised list: the weakest fields first, then in each
the actions of the step the actor stands on, cheapest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planeco_kernel.assessment.referentiel import Referentiel
from planeco_kernel.assessment.yamldoc import DocumentError, at, line_of, load

if TYPE_CHECKING:
    from planeco_kernel.assessment.answers import Assessment
    from planeco_kernel.assessment.scoring import Score
    from planeco_kernel.knowledge import KnowledgeBase, Post

DEFAULT_FILE = Path(__file__).resolve().parent / "toolbox.yaml"
_KEYS = {"id", "field", "criterion", "step", "title", "description", "cost", "duration_months", "partners", "lever", "kb"}


@dataclass(frozen=True)
class ToolboxAction:
    """One action of the toolbox."""

    id: str
    field: str
    criterion: str
    step: int
    title: str
    description: str
    cost_min: float
    cost_max: float
    duration_months: float
    partners: tuple[str, ...]
    lever: str = ""
    kb_themes: tuple[str, ...] = ()
    kb_text: str = ""


@dataclass(frozen=True)
class Toolbox:
    id: str
    version: str
    actions: tuple[ToolboxAction, ...]

    def get(self, action_id: str) -> ToolboxAction | None:
        return next((a for a in self.actions if a.id == action_id), None)


@dataclass(frozen=True)
class Recommendation:
    """An action recommended to an actor, and why."""

    action: ToolboxAction
    field_title: str
    field_percent: float
    current_level: int


def load_toolbox(ref: Referentiel, path: str | Path | None = None, *, levers: dict | None = None) -> Toolbox:
    """Read and validate a toolbox against a référentiel (and the SGPE levers when given).

    Default file: ``PLANECO_TOOLBOX`` if set, else planeco's own ``toolbox.yaml``.

    Raises
    ------
    DocumentError
        Every problem with its line (unknown field, criterion or lever, step out of 0–3…).
    """
    import os

    p = Path(path) if path is not None else Path(os.environ.get("PLANECO_TOOLBOX") or DEFAULT_FILE)
    where = p.name
    raw = load(p.read_bytes(), where)
    problems: list[str] = []

    def err(node: Any, key: Any, msg: str) -> None:
        problems.append(f"{at(where, line_of(node, key))} : {msg}")

    if not isinstance(raw, dict) or not isinstance(raw.get("actions"), list):
        raise DocumentError([f"{where} : dictionnaire avec une liste « actions » attendu."])
    crits = ref.criteria
    fields = {f.id for f in ref.fields}
    seen: set[str] = set()
    out: list[ToolboxAction] = []
    for i, a in enumerate(raw["actions"]):
        if not isinstance(a, dict):
            err(raw["actions"], i, "chaque action doit être un dictionnaire.")
            continue
        aid = str(a.get("id") or "")
        for k in a:
            if k not in _KEYS:
                err(a, k, f"action « {aid} » : clé inconnue « {k} ».")
        if not aid or aid in seen:
            err(a, "id", f"identifiant d'action manquant ou en double « {aid} ».")
        seen.add(aid)
        if a.get("field") not in fields:
            err(a, "field", f"action « {aid} » : champ inconnu « {a.get('field')} ».")
        c = a.get("criterion")
        if c is not None and (c not in crits or crits[c].field != a.get("field")):
            err(a, "criterion", f"action « {aid} » : critère « {c} » inconnu dans le champ « {a.get('field')} ».")
        step = a.get("step")
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= 3:
            err(a, "step", f"action « {aid} » : « step » doit être un niveau de 0 à 3 (l'action mène au niveau suivant).")
            step = 0
        cost = a.get("cost")
        cmin, cmax = (cost.get("min"), cost.get("max")) if isinstance(cost, dict) else (None, None)
        if not all(isinstance(x, (int, float)) and x >= 0 for x in (cmin, cmax)) or cmin > cmax:
            err(a, "cost", f"action « {aid} » : « cost » doit donner min ≤ max en euros.")
            cmin = cmax = 0
        dur = a.get("duration_months")
        if not isinstance(dur, (int, float)) or dur <= 0:
            err(a, "duration_months", f"action « {aid} » : durée de mise en œuvre en mois attendue.")
            dur = 0
        lever = str(a.get("lever") or "")
        if lever and levers is not None and lever not in levers:
            err(a, "lever", f"action « {aid} » : levier SGPE inconnu « {lever} ».")
        for k in ("title", "description"):
            if not str(a.get(k) or "").strip():
                err(a, k if k in a else None, f"action « {aid} » : « {k} » est obligatoire.")
        kb = a.get("kb") or {}
        out.append(ToolboxAction(
            aid, str(a.get("field")), str(c or ""), int(step), str(a.get("title") or "").strip(),
            str(a.get("description") or "").strip(), float(cmin), float(cmax), float(dur),
            tuple(str(x) for x in a.get("partners") or ()), lever,
            tuple(str(x) for x in kb.get("themes") or ()), str(kb.get("text") or ""),
        ))  # fmt: skip
    if problems:
        raise DocumentError(problems, where)
    return Toolbox(str(raw.get("id") or ""), str(raw.get("version") or ""), tuple(out))


def recommend(ref: Referentiel, toolbox: Toolbox, assessment: Assessment, result: Score, *,
              weakest: int = 3, per_field: int = 3) -> list[Recommendation]:
    """The prioritised actions for the ``weakest`` fields of an assessment.

    For each weak field (lowest percentage first), the actions whose step is the level the
    actor stands on for the targeted criterion (criteria « non concerné » or not applicable are
    skipped), cheapest and quickest first.
    """
    crits = ref.criteria
    concerned = sorted((f for f in result.fields if f.percent is not None and f.percent < 100), key=lambda f: f.percent or 0.0)
    out: list[Recommendation] = []
    for fs in concerned[:weakest]:
        picked = []
        for a in toolbox.actions:
            if a.field != fs.field_id:
                continue
            c = crits.get(a.criterion) if a.criterion else None
            if c is not None:
                if not c.applies(assessment.actor.type, assessment.actor.size_class):
                    continue
                ans = assessment.answers.get(c.id)
                if ans is not None and ans.not_concerned:
                    continue
                level = (ans.level or 0) if ans is not None else 0
            else:
                level = int(fs.percent // 25) if fs.percent is not None else 0
            if a.step == level:
                picked.append((a.cost_min, a.duration_months, a, level))
        picked.sort(key=lambda t: (t[0], t[1], t[2].id))
        out.extend(Recommendation(a, fs.title, fs.percent or 0.0, lvl) for _, _, a, lvl in picked[:per_field])
    return out


def kb_links(kb: KnowledgeBase, action: ToolboxAction, viewer: str | None = None, limit: int = 3) -> list[Post]:
    """Solutions and REX of the knowledge base that match an action (its themes, then its words)."""
    found: list[Post] = []
    seen: set[str] = set()
    queries = [{"text": action.kb_text}] if action.kb_text else []
    queries += [{"theme": t} for t in action.kb_themes]
    for q in queries:
        for p in kb.search(viewer, **q):
            if p.id not in seen:
                seen.add(p.id)
                found.append(p)
    return found[:limit]
