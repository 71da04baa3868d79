"""One actor's self-assessment for one year: profile, answers, evidence, chosen actions.

Stored as YAML (see :mod:`planeco_kernel.assessment.store`)::

    format: 1
    referentiel: planeco-acteurs
    referentiel_version: "2026.1"
    year: 2026
    actor: {id: acme, name: ACME, type: entreprise, size_class: petite_moyenne, territory: "86194"}
    answers:
      pil_strategie: {level: 2, evidence: "Feuille de route adoptée en CA"}
      mob_accueil: {status: non_concerne, evidence: "Pas d'accueil du public"}
    chosen_actions:
      - {action: tb_pdme, lever: augm_covoit, quantity: 0.4, unit: ktCO2e, year: 2030}

``chosen_actions`` are toolbox actions the actor commits to; those with a lever and a quantity
become COP commitments (:func:`planeco_kernel.actions.commitments`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from planeco_kernel.assessment.referentiel import NOT_CONCERNED, Referentiel
from planeco_kernel.assessment.scoring import Answer
from planeco_kernel.assessment.yamldoc import DocumentError, at, line_of, load

MAX_EVIDENCE_CHARS = 2_000
MAX_NAME_CHARS = 120
_TERRITORY = re.compile(r"^(?:\d[0-9AB]\d{3}|\d{9}|\d{2,3}|FR)$")


@dataclass(frozen=True)
class ActorProfile:
    """Who answers: the actor id is the knowledge-base member id of the respondent."""

    id: str
    name: str
    type: str
    size_class: str
    territory: str = ""


@dataclass(frozen=True)
class ChosenAction:
    """A toolbox action the actor commits to, optionally quantified on a COP lever."""

    action: str
    lever: str = ""
    quantity: float | None = None
    unit: str = ""
    year: int | None = None


@dataclass
class Assessment:
    """One actor's assessment for one year."""

    referentiel: str
    referentiel_version: str
    year: int
    actor: ActorProfile
    answers: dict[str, Answer] = field(default_factory=dict)
    chosen_actions: list[ChosenAction] = field(default_factory=list)
    updated: str = ""

    def with_answers(self, new: dict[str, Answer]) -> Assessment:
        """A copy with ``new`` answers merged over the current ones."""
        return replace(self, answers={**self.answers, **new})

    def to_dict(self) -> dict[str, Any]:
        ans: dict[str, Any] = {}
        for cid, a in sorted(self.answers.items()):
            d: dict[str, Any] = {"status": NOT_CONCERNED} if a.not_concerned else ({"level": a.level} if a.level is not None else {})
            if a.evidence:
                d["evidence"] = a.evidence
            if d:
                ans[cid] = d
        chosen = []
        for c in self.chosen_actions:
            d = {"action": c.action}
            if c.lever:
                d["lever"] = c.lever
            if c.quantity is not None:
                d.update(quantity=c.quantity, unit=c.unit, year=c.year)
            chosen.append(d)
        return {
            "format": 1, "referentiel": self.referentiel, "referentiel_version": self.referentiel_version,
            "year": self.year,
            "actor": {"id": self.actor.id, "name": self.actor.name, "type": self.actor.type,
                      "size_class": self.actor.size_class, "territory": self.actor.territory},
            "answers": ans, "chosen_actions": chosen, "updated": self.updated,
        }  # fmt: skip

    def dump(self) -> bytes:
        import yaml

        head = (f"# Auto-évaluation {self.year} de « {self.actor.name} » (référentiel {self.referentiel} "
                f"{self.referentiel_version}). Fichier écrit par planeco ; l'historique est celui de git.\n")
        return (head + yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100)).encode("utf-8")


def new_assessment(ref: Referentiel, profile: ActorProfile, year: int | None = None) -> Assessment:
    """An empty assessment of ``profile`` for ``year`` (default: the current year)."""
    return Assessment(ref.id, ref.version, year or dt.date.today().year, profile)


def check_profile(ref: Referentiel, profile: ActorProfile) -> list[str]:
    """French problems with a profile (empty when valid)."""
    problems = []
    if not profile.name.strip() or len(profile.name) > MAX_NAME_CHARS:
        problems.append(f"Le nom de la structure est obligatoire ({MAX_NAME_CHARS} caractères au plus).")
    if profile.type not in ref.actor_types:
        problems.append(f"Type de structure inconnu « {profile.type} » (possibles : {', '.join(ref.actor_types)}).")
    if profile.size_class not in ref.size_classes:
        problems.append(f"Taille inconnue « {profile.size_class} » (possibles : {', '.join(ref.size_classes)}).")
    if profile.territory and not _TERRITORY.match(profile.territory):
        problems.append(f"Code de territoire invalide « {profile.territory} » (code INSEE ou SIREN).")
    return problems


def check_answer(ref: Referentiel, cid: str, a: Answer) -> list[str]:
    """French problems with one answer (empty when valid)."""
    if cid not in ref.criteria:
        return [f"critère inconnu « {cid} » dans le référentiel {ref.id} {ref.version}."]
    out = []
    if a.level is not None and a.level not in (0, 1, 2, 3, 4):
        out.append(f"critère « {cid} » : niveau {a.level} hors de l'échelle 0 à 4.")
    if a.not_concerned and a.level is not None:
        out.append(f"critère « {cid} » : « non concerné » et un niveau ne peuvent pas aller ensemble.")
    if len(a.evidence) > MAX_EVIDENCE_CHARS:
        out.append(f"critère « {cid} » : justificatif trop long ({len(a.evidence)} caractères, {MAX_EVIDENCE_CHARS} au plus).")
    return out


def parse_assessment(text: str | bytes, ref: Referentiel, where: str = "réponses") -> Assessment:
    """Read and validate an answers file against ``ref``.

    Raises
    ------
    DocumentError
        Listing every problem with its line.
    """
    raw = load(text, where)
    problems: list[str] = []

    def err(node: Any, key: Any, msg: str) -> None:
        problems.append(f"{at(where, line_of(node, key))} : {msg}")

    if not isinstance(raw, dict):
        raise DocumentError([f"{where} : dictionnaire attendu (clés year, actor, answers)."])
    if raw.get("format") != 1:
        err(raw, "format", "« format » doit valoir 1.")
    if str(raw.get("referentiel") or ref.id) != ref.id:
        err(raw, "referentiel", f"réponses au référentiel « {raw.get('referentiel')} », pas à « {ref.id} ».")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        err(raw, "year", f"« year » doit être une année (2000 à 2100), pas « {year} ».")
        year = 0
    a = raw.get("actor")
    profile = ActorProfile("", "", "", "")
    if not isinstance(a, dict):
        err(raw, "actor" if "actor" in raw else None, "« actor » doit donner id, name, type, size_class, territory.")
    else:
        profile = ActorProfile(str(a.get("id") or ""), str(a.get("name") or ""), str(a.get("type") or ""),
                               str(a.get("size_class") or ""), str(a.get("territory") or ""))
        if not profile.id:
            err(a, None, "« actor.id » est obligatoire.")
        for p in check_profile(ref, profile):
            err(a, None, p)
    answers: dict[str, Answer] = {}
    ra = raw.get("answers") or {}
    if not isinstance(ra, dict):
        err(raw, "answers", "« answers » doit être un dictionnaire (critère → {level, evidence}).")
        ra = {}
    for cid, v in ra.items():
        if not isinstance(v, dict):
            err(ra, cid, f"critère « {cid} » : attendu {{level: 0 à 4, evidence: …}} ou {{status: {NOT_CONCERNED}}}.")
            continue
        extra = set(v) - {"level", "status", "evidence"}
        if extra:
            err(ra, cid, f"critère « {cid} » : clés inconnues {sorted(extra)}.")
        status = v.get("status")
        if status not in (None, NOT_CONCERNED):
            err(v, "status", f"critère « {cid} » : statut inconnu « {status} » (seul « {NOT_CONCERNED} » existe).")
        level = v.get("level")
        if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
            err(v, "level", f"critère « {cid} » : niveau entier de 0 à 4 attendu, pas « {level} ».")
            continue
        ans = Answer(level, status == NOT_CONCERNED, str(v.get("evidence") or "").strip())
        for p in check_answer(ref, str(cid), ans):
            err(ra, cid, p)
        answers[str(cid)] = ans
    chosen: list[ChosenAction] = []
    rc = raw.get("chosen_actions") or []
    if not isinstance(rc, list):
        err(raw, "chosen_actions", "« chosen_actions » doit être une liste.")
        rc = []
    for i, c in enumerate(rc):
        if not isinstance(c, dict) or not str(c.get("action") or "").strip():
            err(rc, i, "chaque action choisie doit avoir un identifiant « action ».")
            continue
        q = c.get("quantity")
        if q is not None and (not isinstance(q, (int, float)) or isinstance(q, bool) or not math.isfinite(q)):
            err(c, "quantity", f"action « {c['action']} » : quantité numérique attendue, pas « {q} ».")
            q = None
        y = c.get("year")
        if q is not None and (not isinstance(y, int) or not 2000 <= y <= 2100):
            err(c, "year", f"action « {c['action']} » : année cible (2000 à 2100) attendue avec une quantité.")
        if q is not None and not str(c.get("unit") or "").strip():
            err(c, "unit", f"action « {c['action']} » : unité attendue avec une quantité (ktCO2e ou l'unité du levier).")
        chosen.append(ChosenAction(str(c["action"]), str(c.get("lever") or ""), None if q is None else float(q),
                                   str(c.get("unit") or ""), y if isinstance(y, int) else None))
    if problems:
        raise DocumentError(problems, where)
    return Assessment(ref.id, str(raw.get("referentiel_version") or ref.version), int(year), profile, answers, chosen,
                      str(raw.get("updated") or ""))
