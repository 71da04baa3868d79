"""The self-assessment référentiel: fields, criteria, maturity ladders, levels — as validated data.

The référentiel is a YAML file (the project's own one is ``referentiel.yaml`` beside this
module; a territory adapts a copy). :func:`load_referentiel` checks everything and reports
*all* problems at once, each naming the file and the line::

    referentiel.yaml, ligne 57 : critère « ene_suivi » : l'échelle doit avoir les niveaux 0 à 4 ; manquent 3, 4.

Structure (see the shipped file for a complete example): ``format`` (1), ``id``, ``version``,
``title``, ``owner``, ``actor_types`` and ``size_classes`` (id → French label), ``levels``
(declared maturity thresholds, in percent), ``weights`` (optional, criterion or field id →
weight > 0) and ``fields`` (each with ``criteria``: ``id``, ``title``, ``points``, ``ladder``
with levels 0 to 4, optional ``applies_to`` restricting actor types and size classes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planeco_kernel.assessment.yamldoc import DocumentError, at, line_of, load

DEFAULT_FILE = Path(__file__).resolve().parent / "referentiel.yaml"
LADDER_LEVELS = (0, 1, 2, 3, 4)
NOT_CONCERNED = "non_concerne"
"""Answer status that takes a criterion out of the score (its points are redistributed)."""
ACTOR_TYPES_CONTRACT = ("entreprise", "association", "etablissement_public", "collectivite")
"""Actor types of the COP commitments contract (a référentiel may use a subset)."""

_TOP_KEYS = {"format", "id", "version", "title", "owner", "actor_types", "size_classes", "levels", "weights", "fields"}
_FIELD_KEYS = {"id", "title", "description", "criteria"}
_CRITERION_KEYS = {"id", "title", "description", "points", "ladder", "applies_to"}


@dataclass(frozen=True)
class Criterion:
    """One criterion: a question answered on a 0–4 maturity ladder."""

    id: str
    field: str
    title: str
    points: float
    ladder: dict[int, str]
    actor_types: tuple[str, ...] = ()
    size_classes: tuple[str, ...] = ()
    description: str = ""

    def applies(self, actor_type: str, size_class: str) -> bool:
        """True when the criterion applies to this actor type and size class (empty = all)."""
        return (not self.actor_types or actor_type in self.actor_types) and (
            not self.size_classes or size_class in self.size_classes
        )


@dataclass(frozen=True)
class Field:
    """One of the fields (pilotage, énergie, …) and its criteria."""

    id: str
    title: str
    criteria: tuple[Criterion, ...]
    description: str = ""


@dataclass(frozen=True)
class Level:
    """A declared maturity level, reached from ``min_percent`` (inclusive)."""

    id: str
    label: str
    min_percent: float


@dataclass(frozen=True)
class Referentiel:
    """A validated référentiel."""

    id: str
    version: str
    title: str
    owner: str
    actor_types: dict[str, str]
    size_classes: dict[str, str]
    levels: tuple[Level, ...]
    fields: tuple[Field, ...]
    weights: dict[str, float] = field(default_factory=dict)
    source: str = ""

    @property
    def criteria(self) -> dict[str, Criterion]:
        """All criteria by id."""
        return {c.id: c for f in self.fields for c in f.criteria}

    def get_field(self, field_id: str) -> Field:
        """One field by id (KeyError if unknown)."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def weight(self, key: str) -> float:
        """Weight of a criterion or field (1 when not declared)."""
        return self.weights.get(key, 1.0)

    def level_for(self, percent: float | None) -> Level | None:
        """The highest declared level whose threshold ``percent`` reaches (None for no score)."""
        if percent is None:
            return None
        reached = [lv for lv in self.levels if percent + 1e-9 >= lv.min_percent]
        return reached[-1] if reached else self.levels[0]

    def applicable(self, actor_type: str, size_class: str) -> list[Criterion]:
        return [c for f in self.fields for c in f.criteria if c.applies(actor_type, size_class)]


def load_referentiel(path: str | Path | None = None) -> Referentiel:
    """Read and validate a référentiel file.

    Default: ``PLANECO_REFERENTIEL`` (a territory's adapted copy) if set, else planeco's own
    ``referentiel.yaml``.

    Raises
    ------
    DocumentError
        Listing every problem with its line (missing ladder levels, duplicate ids, a weight on an
        unknown criterion, unknown actor types…).
    """
    import os

    p = Path(path) if path is not None else Path(os.environ.get("PLANECO_REFERENTIEL") or DEFAULT_FILE)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise DocumentError([f"{p} : fichier illisible ({exc.strerror})."]) from None
    return parse_referentiel(text, where=p.name, source=str(p))


def parse_referentiel(text: str | bytes, where: str = "référentiel", source: str = "") -> Referentiel:
    """Validate the text of a référentiel (see :func:`load_referentiel`)."""
    raw = load(text, where)
    problems: list[str] = []

    def err(node: Any, key: Any, msg: str) -> None:
        problems.append(f"{at(where, line_of(node, key))} : {msg}")

    if not isinstance(raw, dict):
        raise DocumentError([f"{where} : le référentiel doit être un dictionnaire (clés format, id, fields…)."])
    for k in raw:
        if k not in _TOP_KEYS:
            err(raw, k, f"clé inconnue « {k} » (clés attendues : {', '.join(sorted(_TOP_KEYS))}).")
    if raw.get("format") != 1:
        err(raw, "format", "« format » doit valoir 1.")
    for k in ("id", "version", "title"):
        if not str(raw.get(k) or "").strip():
            err(raw, k if k in raw else None, f"« {k} » est obligatoire (texte non vide).")

    vocab: dict[str, dict[str, str]] = {}
    for k in ("actor_types", "size_classes"):
        v = raw.get(k)
        if not isinstance(v, dict) or not v:
            err(raw, k if k in raw else None, f"« {k} » doit être un dictionnaire non vide (identifiant → libellé).")
            vocab[k] = {}
        else:
            vocab[k] = {str(a): str(b) for a, b in v.items()}
    unknown_types = set(vocab["actor_types"]) - set(ACTOR_TYPES_CONTRACT)
    if unknown_types:
        err(raw, "actor_types", f"types d'acteur inconnus {sorted(unknown_types)} (possibles : {', '.join(ACTOR_TYPES_CONTRACT)}).")

    levels = _levels(raw, err)

    fields: list[Field] = []
    seen: dict[str, int] = {}
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        err(raw, "fields" if "fields" in raw else None, "« fields » doit être une liste non vide de champs.")
        raw_fields = []
    for i, rf in enumerate(raw_fields):
        if not isinstance(rf, dict):
            err(raw_fields, i, "chaque champ doit être un dictionnaire (id, title, criteria).")
            continue
        fid = str(rf.get("id") or "").strip()
        for k in rf:
            if k not in _FIELD_KEYS:
                err(rf, k, f"champ « {fid} » : clé inconnue « {k} ».")
        if not fid:
            err(rf, None, "un champ n'a pas d'« id ».")
            continue
        _check_id(fid, rf, "id", seen, err)
        if not str(rf.get("title") or "").strip():
            err(rf, None, f"champ « {fid} » : « title » est obligatoire.")
        crits: list[Criterion] = []
        rc = rf.get("criteria")
        if not isinstance(rc, list) or not rc:
            err(rf, "criteria" if "criteria" in rf else None, f"champ « {fid} » : « criteria » doit être une liste non vide.")
            rc = []
        for j, c in enumerate(rc):
            crit = _criterion(c, rc, j, fid, vocab, seen, err)
            if crit is not None:
                crits.append(crit)
        fields.append(Field(fid, str(rf.get("title") or "").strip(), tuple(crits), str(rf.get("description") or "").strip()))

    weights: dict[str, float] = {}
    rw = raw.get("weights")
    if rw is None:
        rw = {}
    if not isinstance(rw, dict):
        err(raw, "weights", "« weights » doit être un dictionnaire (identifiant de critère ou de champ → poids).")
        rw = {}
    for k, w in rw.items():
        if str(k) not in seen:
            err(rw, k, f"poids sur un critère ou un champ inconnu « {k} » (vérifiez l'identifiant).")
        elif not _positive(w):
            err(rw, k, f"poids de « {k} » : nombre strictement positif attendu, pas « {w} ».")
        else:
            weights[str(k)] = float(w)
    if problems:
        raise DocumentError(problems, where)
    return Referentiel(
        id=str(raw["id"]).strip(), version=str(raw["version"]).strip(), title=str(raw["title"]).strip(),
        owner=str(raw.get("owner") or "").strip(), actor_types=vocab["actor_types"], size_classes=vocab["size_classes"],
        levels=tuple(levels), fields=tuple(fields), weights=weights, source=source,
    )  # fmt: skip


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _check_id(value: str, node: Any, key: str, seen: dict[str, int], err) -> None:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", value):
        err(node, key, f"identifiant « {value} » invalide : minuscules, chiffres et _ seulement, commençant par une lettre.")
    if value in seen:
        err(node, key, f"identifiant « {value} » en double (déjà utilisé ligne {seen[value]}).")
    else:
        seen[value] = line_of(node, key)


def _levels(raw: dict, err) -> list[Level]:
    rl = raw.get("levels")
    out: list[Level] = []
    if not isinstance(rl, list) or not rl:
        err(raw, "levels" if "levels" in raw else None, "« levels » doit être une liste de niveaux {id, label, min_percent}.")
        return out
    prev = -1.0
    ids: set[str] = set()
    for i, lv in enumerate(rl):
        if not isinstance(lv, dict) or not str(lv.get("id") or "").strip() or not str(lv.get("label") or "").strip():
            err(rl, i, "chaque niveau doit avoir « id », « label » et « min_percent ».")
            continue
        m = lv.get("min_percent")
        if not isinstance(m, (int, float)) or isinstance(m, bool) or not 0 <= m <= 100:
            err(lv, "min_percent" if "min_percent" in lv else None, f"niveau « {lv['id']} » : « min_percent » entre 0 et 100 attendu.")
            continue
        if i == 0 and m != 0:
            err(lv, "min_percent", "le premier niveau doit commencer à 0 %.")
        if m <= prev:
            err(lv, "min_percent", f"niveau « {lv['id']} » : les seuils doivent être strictement croissants.")
        if lv["id"] in ids:
            err(lv, "id", f"niveau « {lv['id']} » en double.")
        ids.add(lv["id"])
        prev = float(m)
        out.append(Level(str(lv["id"]), str(lv["label"]), float(m)))
    return out


def _criterion(c: Any, parent: list, j: int, fid: str, vocab, seen, err) -> Criterion | None:
    if not isinstance(c, dict):
        err(parent, j, f"champ « {fid} » : chaque critère doit être un dictionnaire.")
        return None
    cid = str(c.get("id") or "").strip()
    if not cid:
        err(c, None, f"champ « {fid} » : un critère n'a pas d'« id ».")
        return None
    ok = True
    for k in c:
        if k not in _CRITERION_KEYS:
            err(c, k, f"critère « {cid} » : clé inconnue « {k} » (attendues : {', '.join(sorted(_CRITERION_KEYS))}).")
    _check_id(cid, c, "id", seen, err)
    if not str(c.get("title") or "").strip():
        err(c, None, f"critère « {cid} » : « title » est obligatoire.")
        ok = False
    if not _positive(c.get("points")):
        err(c, "points" if "points" in c else None, f"critère « {cid} » : « points » doit être un nombre strictement positif.")
        ok = False
    ladder = c.get("ladder")
    lad: dict[int, str] = {}
    if not isinstance(ladder, dict):
        err(c, "ladder" if "ladder" in c else None, f"critère « {cid} » : « ladder » doit donner les niveaux 0 à 4.")
        ok = False
    else:
        for k, v in ladder.items():
            if k not in LADDER_LEVELS:
                err(ladder, k, f"critère « {cid} » : niveau « {k} » inconnu (niveaux 0 à 4).")
                ok = False
            elif not str(v or "").strip():
                err(ladder, k, f"critère « {cid} » : le niveau {k} n'a pas de description.")
                ok = False
            else:
                lad[int(k)] = str(v).strip()
        missing = [lv for lv in LADDER_LEVELS if lv not in ladder]
        if missing:
            err(c, "ladder", f"critère « {cid} » : l'échelle doit avoir les niveaux 0 à 4 ; manquent {', '.join(map(str, missing))}.")
            ok = False
    types: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    ap = c.get("applies_to")
    if ap is not None:
        if not isinstance(ap, dict) or set(ap) - {"actor_types", "size_classes"}:
            err(c, "applies_to", f"critère « {cid} » : « applies_to » n'accepte que actor_types et size_classes.")
            ok = False
        else:
            for key, vk in (("actor_types", "actor_types"), ("size_classes", "size_classes")):
                vals = ap.get(key)
                if vals is None:
                    continue
                if not isinstance(vals, list) or not vals:
                    err(ap, key, f"critère « {cid} » : « {key} » doit être une liste non vide.")
                    ok = False
                    continue
                bad = [v for v in vals if str(v) not in vocab[vk]]
                if bad:
                    err(ap, key, f"critère « {cid} » : valeurs inconnues {bad} (déclarées : {', '.join(vocab[vk])}).")
                    ok = False
            types = tuple(str(v) for v in ap.get("actor_types") or ())
            sizes = tuple(str(v) for v in ap.get("size_classes") or ())
    if not ok:
        return None
    return Criterion(cid, fid, str(c["title"]).strip(), float(c["points"]), lad, types, sizes, str(c.get("description") or "").strip())
