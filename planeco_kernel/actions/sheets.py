"""Action sheets as records: validation (one function for imports and stored files), YAML, storage.

A record is a mapping with the French column names of :data:`~planeco_kernel.actions.schema.COLUMNS`
(``titre``, ``statut``, ``debut``…) plus ``indicateurs`` (a list of mappings with the names of
:data:`~planeco_kernel.actions.schema.INDICATOR_COLUMNS`). In a CSV cell a list is written
``a ; b``; in the stored YAML it is a list. Every problem names the line and the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from planeco_kernel.actions import schema as S
from planeco_kernel.assessment import store
from planeco_kernel.assessment.levers import Lever, normalise_unit
from planeco_kernel.assessment.referentiel import ACTOR_TYPES_CONTRACT
from planeco_kernel.assessment.yamldoc import DocumentError, LDict, load

if TYPE_CHECKING:
    from planeco_kernel.knowledge import KnowledgeBase

Resolver = Callable[[str], str]
"""Turns what a user wrote for a territory into its code (raises LookupError with a French message)."""


def territory_resolver(model=None) -> Resolver:
    """A resolver backed by the territory model (codes, SIREN, unambiguous names)."""
    cache: dict[str, str] = {}

    def resolve(text: str) -> str:
        nonlocal model
        if text not in cache:
            if model is None:
                from planeco_kernel.territory import load_model

                model = load_model()
            cache[text] = model.resolve(text).territory.code
        return cache[text]

    return resolve


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v).strip()


def _list(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x).strip() for x in v if str(x).strip()]
    return S.split_list(v)


def validate_record(rec: dict[str, Any], where: str, levers: dict[str, Lever], resolve: Resolver | None,
                    col_line: Callable[[str], str] | None = None) -> tuple[S.ActionSheet | None, list[str]]:
    """Validate one record; return the sheet (None on error) and the French problems.

    ``where`` is the line prefix (``actions.csv, ligne 4``); ``col_line`` can name a column's own
    position (YAML files) — by default problems say ``where, colonne « x »``.
    """
    problems: list[str] = []

    def err(col: str, msg: str) -> None:
        loc = col_line(col) if col_line else f"{where}, colonne « {col} »"
        problems.append(f"{loc} : {msg}")

    aid = _cell(rec.get("id"))
    if not S.check_id(aid):
        err("id", f"identifiant « {aid} » invalide ou vide (lettres, chiffres, . _ - ; 64 caractères au plus).")
    title = _cell(rec.get("titre"))
    if not title:
        err("titre", "l'intitulé est obligatoire.")
    for col in ("titre", "description", "axe", "pilote", "evaluation"):
        if len(_cell(rec.get(col))) > S.MAX_TEXT:
            err(col, f"texte trop long ({S.MAX_TEXT} caractères au plus).")
    status = S.choice(_cell(rec.get("statut")), S.STATUSES)
    if status is None:
        err("statut", f"statut inconnu « {_cell(rec.get('statut'))} » (possibles : {', '.join(S.STATUSES.values())}).")
    raw_terr = _cell(rec.get("territoire"))
    territory = ""
    if not raw_terr:
        err("territoire", "le territoire est obligatoire (code INSEE ou SIREN).")
    elif resolve is None:
        territory = raw_terr
    else:
        try:
            territory = resolve(raw_terr)
        except LookupError as exc:
            err("territoire", str(exc))
    sector = ""
    if _cell(rec.get("secteur")):
        sector = S.choice(_cell(rec.get("secteur")), S.SECTORS) or ""
        if not sector:
            err("secteur", f"secteur inconnu « {_cell(rec.get('secteur'))} » (possibles : {', '.join(S.SECTORS)}).")
    lever = _cell(rec.get("levier"))
    if lever and lever not in levers:
        close = [k for k in levers if k.split("_")[-1] in lever or lever.split("_")[-1] in k][:3]
        hint = f" Vouliez-vous dire : {', '.join(close)} ?" if close else ""
        err("levier", f"levier SGPE inconnu « {lever} ».{hint} (liste : `planeco actions list --levers`)")
    plans = []
    for p in _list(rec.get("plans")):
        k = S.choice(p, {k: k for k in S.PLANS})
        if k is None:
            err("plans", f"plan inconnu « {p} » (possibles : {', '.join(S.PLANS)}).")
        elif k not in plans:
            plans.append(k)
    pilot_type = _cell(rec.get("type_pilote")) or "collectivite"
    if pilot_type not in ACTOR_TYPES_CONTRACT:
        err("type_pilote", f"type de pilote inconnu « {pilot_type} » (possibles : {', '.join(ACTOR_TYPES_CONTRACT)}).")
    priority = ""
    if _cell(rec.get("priorite")):
        priority = S.choice(_cell(rec.get("priorite")), S.PRIORITIES) or ""
        if not priority:
            err("priorite", f"priorité inconnue « {_cell(rec.get('priorite'))} » (haute, moyenne, basse).")
    dates = {}
    for col in ("debut", "fin"):
        try:
            dates[col] = S.parse_date(rec.get(col))
        except ValueError as exc:
            dates[col] = None
            err(col, f"date invalide « {exc} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA).")
    if dates.get("debut") and dates.get("fin") and dates["fin"] < dates["debut"]:
        err("fin", f"la fin ({dates['fin']:%d/%m/%Y}) précède le début ({dates['debut']:%d/%m/%Y}).")
    budget: dict[str, dict[int, float]] = {}
    for kind, nature in S.BUDGET_KINDS:
        col = f"budget_{kind}_{nature}"
        v = rec.get(col)
        try:
            if isinstance(v, dict):
                b = {int(S.parse_year(y)): float(S.parse_number(a)) for y, a in v.items()}  # type: ignore[arg-type]
            else:
                b = S.parse_budget(v)
        except (ValueError, TypeError) as exc:
            err(col, f"budget illisible « {exc} » (attendu année=montant en euros, séparés par « ; », ex. 2025=120000 ; 2026=80000).")
            continue
        if b:
            budget[f"{kind}_{nature}"] = b
    effects = []
    for e in _list(rec.get("effets")):
        k = S.choice(e, S.EFFECTS)
        if k is None:
            err("effets", f"effet inconnu « {e} » (possibles : {', '.join(S.EFFECTS)}).")
        elif k not in effects:
            effects.append(k)
    qty = unit = None
    year = None
    try:
        qty = S.parse_number(rec.get("engagement_quantite"))
    except ValueError:
        err("engagement_quantite", f"nombre attendu, pas « {_cell(rec.get('engagement_quantite'))} ».")
    try:
        year = S.parse_year(rec.get("engagement_annee"))
    except ValueError:
        err("engagement_annee", f"année attendue, pas « {_cell(rec.get('engagement_annee'))} ».")
    raw_unit = _cell(rec.get("engagement_unite"))
    if qty is not None:
        if not lever:
            err("engagement_quantite", "une quantité engagée demande un levier (colonne « levier »).")
        elif lever in levers:
            unit = normalise_unit(levers[lever], raw_unit)
            if unit is None:
                err("engagement_unite", f"unité « {raw_unit} » : attendu ktCO2e ou « {levers[lever].unit_phys} ».")
        if year is None:
            err("engagement_annee", "une quantité engagée demande une année cible.")
    participation = ""
    if _cell(rec.get("participation")):
        participation = S.choice(_cell(rec.get("participation")), S.PARTICIPATION) or ""
        if not participation:
            err("participation", f"niveau inconnu « {_cell(rec.get('participation'))} » (possibles : {', '.join(S.PARTICIPATION)}).")
    links = _list(rec.get("liens"))
    for link in links:
        if not S.check_link(link):
            err("liens", f"lien « {link} » : identifiant de fil (t-…) ou de message (p-…) de la base de connaissances attendu.")
    indicators = []
    for j, ind in enumerate(rec.get("indicateurs") or []):
        got, probs = validate_indicator(ind, f"{where}, indicateur {j + 1}")
        problems.extend(probs)
        if got is not None:
            indicators.append(got)
    if problems:
        return None, problems
    return S.ActionSheet(
        id=aid, title=title, status=status or "", territory=territory, description=_cell(rec.get("description")),
        axis=_cell(rec.get("axe")), sector=sector, lever=lever, plans=plans, pilot=_cell(rec.get("pilote")),
        pilot_type=pilot_type, services=_list(rec.get("services")), partners=_list(rec.get("partenaires")),
        funders=_list(rec.get("financeurs")), priority=priority, start=dates.get("debut"), end=dates.get("fin"),
        budget=budget, effects=effects, commitment_quantity=qty, commitment_unit=unit or "", commitment_year=year,
        participation=participation, evaluation=_cell(rec.get("evaluation")), links=links, indicators=indicators,
    ), []  # fmt: skip


def validate_indicator(ind: Any, where: str) -> tuple[S.Indicator | None, list[str]]:
    problems: list[str] = []
    if not isinstance(ind, dict):
        return None, [f"{where} : dictionnaire attendu ({', '.join(S.INDICATOR_COLUMNS)})."]
    name = _cell(ind.get("nom"))
    if not name:
        problems.append(f"{where}, colonne « nom » : le nom de l'indicateur est obligatoire.")
    vals: dict[str, Any] = {}
    for col in ("valeur_initiale", "cible", "valeur_actuelle"):
        try:
            vals[col] = S.parse_number(ind.get(col))
        except ValueError:
            problems.append(f"{where}, colonne « {col} » : nombre attendu, pas « {_cell(ind.get(col))} ».")
    for col in ("annee_initiale", "annee_cible", "annee_actuelle"):
        try:
            vals[col] = S.parse_year(ind.get(col))
        except ValueError:
            problems.append(f"{where}, colonne « {col} » : année attendue, pas « {_cell(ind.get(col))} ».")
    if problems:
        return None, problems
    return S.Indicator(name, _cell(ind.get("unite")), vals["valeur_initiale"], vals["annee_initiale"], vals["cible"],
                       vals["annee_cible"], vals["valeur_actuelle"], vals["annee_actuelle"]), []


def to_record(s: S.ActionSheet) -> dict[str, Any]:
    """The stored form of a sheet (French keys, lists as lists)."""
    rec: dict[str, Any] = {
        "id": s.id, "titre": s.title, "description": s.description, "axe": s.axis, "secteur": s.sector,
        "levier": s.lever, "plans": s.plans, "pilote": s.pilot, "type_pilote": s.pilot_type, "services": s.services,
        "partenaires": s.partners, "financeurs": s.funders, "territoire": s.territory, "statut": s.status,
        "priorite": s.priority, "debut": s.start.isoformat() if s.start else "", "fin": s.end.isoformat() if s.end else "",
    }  # fmt: skip
    for kind, nature in S.BUDGET_KINDS:
        rec[f"budget_{kind}_{nature}"] = dict(sorted(s.budget.get(f"{kind}_{nature}", {}).items()))
    rec.update({
        "effets": s.effects, "engagement_quantite": s.commitment_quantity, "engagement_unite": s.commitment_unit,
        "engagement_annee": s.commitment_year, "participation": s.participation, "evaluation": s.evaluation,
        "liens": s.links,
        "indicateurs": [{
            "nom": i.name, "unite": i.unit, "valeur_initiale": i.baseline, "annee_initiale": i.baseline_year,
            "cible": i.target, "annee_cible": i.target_year, "valeur_actuelle": i.current, "annee_actuelle": i.current_year,
        } for i in s.indicators],
    })  # fmt: skip
    return rec


def dump(s: S.ActionSheet) -> bytes:
    import yaml

    head = f"# Fiche action « {s.title} » ({s.id}). Fichier écrit par planeco ; l'historique est celui de git.\n"
    return (head + yaml.safe_dump(to_record(s), allow_unicode=True, sort_keys=False, width=100)).encode("utf-8")


def parse(data: bytes, where: str, levers: dict[str, Lever]) -> S.ActionSheet:
    """Read a stored sheet (territory codes are kept as stored)."""
    raw = load(data, where)
    if not isinstance(raw, LDict):
        raise DocumentError([f"{where} : dictionnaire attendu."])
    sheet, problems = validate_record(raw, where, levers, None,
                                      col_line=lambda c: f"{where}, ligne {raw.key_line(c) if c in raw else raw.line}")
    if problems:
        raise DocumentError(problems, where)
    return sheet  # type: ignore[return-value]


def path_of(action_id: str) -> str:
    if not S.check_id(action_id):
        raise DocumentError([f"Identifiant d'action « {action_id} » invalide."])
    return f"{store.ACTIONS_DIR}/{action_id}.yaml"


def save(kb: KnowledgeBase, sheets: Iterable[S.ActionSheet], message: str) -> str | None:
    """Commit the sheets that changed as one commit by the current identity (None if nothing changed)."""
    current = store.read_tree(kb, store.ACTIONS_DIR)
    files = {}
    for s in sheets:
        p = path_of(s.id)
        data = dump(s)
        if current.get(p) != data:
            files[p] = data
    if not files:
        return None
    return store.commit(kb, files, message)


def load_all(kb: KnowledgeBase, levers: dict[str, Lever]) -> tuple[list[S.ActionSheet], list[str]]:
    """Every stored sheet, and the problems of the files that do not validate (skipped)."""
    out, problems = [], []
    for path, data in sorted(store.read_tree(kb, store.ACTIONS_DIR).items()):
        if not path.endswith(".yaml"):
            continue
        try:
            out.append(parse(data, path, levers))
        except DocumentError as exc:
            problems.extend(exc.problems)
    return out, problems
