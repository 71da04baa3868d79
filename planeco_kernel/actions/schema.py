"""PCAET-style action sheets: fields declared once, vocabularies, validation with row-level errors.

An action sheet is stored once (``documents/engagement/actions/<id>.yaml`` in the knowledge base) and may
belong to several plans (``plans: [PCAET, CRTE, PLPDMA]``): plans reference the action, they
never copy it.

The tabular layout (CSV/XLSX, :mod:`planeco_kernel.actions.tabular`) is :data:`COLUMNS`, plus an
indicator table :data:`INDICATOR_COLUMNS` (one row per indicator of an action). Lists inside a
cell are separated by `` ; ``; yearly budgets are written ``2025=120000 ; 2026=80000`` (euros).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from planeco_kernel.assessment.referentiel import ACTOR_TYPES_CONTRACT

STATUSES: dict[str, str] = {
    "a_venir": "à venir", "en_cours": "en cours", "realise": "réalisé", "en_pause": "en pause",
    "abandonne": "abandonné", "bloque": "bloqué", "en_retard": "en retard",
}  # fmt: skip
PRIORITIES: dict[str, str] = {"haute": "haute", "moyenne": "moyenne", "basse": "basse"}
PLANS: dict[str, str] = {
    "PCAET": "Plan climat-air-énergie territorial", "CRTE": "Contrat pour la réussite de la transition écologique",
    "PLPDMA": "Programme local de prévention des déchets ménagers et assimilés", "PAT": "Projet alimentaire territorial",
    "PDM": "Plan de mobilité", "SCOT": "Schéma de cohérence territoriale", "PLUI": "Plan local d'urbanisme intercommunal",
    "COP": "Feuille de route COP régionale", "AGENDA2030": "Agenda 2030",
}  # fmt: skip
SECTORS: dict[str, str] = {
    "residentiel": "Résidentiel", "tertiaire": "Tertiaire", "transport_routier": "Transport routier",
    "autres_transports": "Autres transports", "agriculture": "Agriculture", "dechets": "Déchets",
    "industrie": "Industrie hors branche énergie", "energie": "Branche énergie", "transversal": "Transversal",
}  # fmt: skip
"""The PCAET sectors of the arrêté du 4 août 2016 (relatif au plan climat-air-énergie territorial), plus « transversal »."""
EFFECTS: dict[str, str] = {
    "ges": "émissions de GES", "energie": "consommation d'énergie", "enr": "énergies renouvelables",
    "air": "qualité de l'air", "adaptation": "adaptation au changement climatique",
    "sobriete_fonciere": "sobriété foncière", "biodiversite": "biodiversité", "eau": "eau", "dechets": "déchets",
}  # fmt: skip
PARTICIPATION: dict[str, str] = {
    "aucune": "aucune", "information": "information", "consultation": "consultation", "concertation": "concertation",
    "coconstruction": "co-construction", "codecision": "co-décision",
}  # fmt: skip
BUDGET_KINDS = (("investissement", "previsionnel"), ("investissement", "reel"),
                ("fonctionnement", "previsionnel"), ("fonctionnement", "reel"))

COLUMNS: dict[str, str] = {
    "id": "identifiant unique de l'action (lettres, chiffres, . _ -)",
    "titre": "intitulé", "description": "description", "axe": "axe stratégique du plan",
    "secteur": f"secteur PCAET ({', '.join(SECTORS)})", "levier": "identifiant du levier COP du SGPE (vide si aucun)",
    "plans": f"plans auxquels l'action appartient, séparés par « ; » ({', '.join(PLANS)})",
    "pilote": "structure pilote", "type_pilote": f"type de structure pilote ({', '.join(ACTOR_TYPES_CONTRACT)})",
    "services": "services associés (« ; »)", "partenaires": "partenaires (« ; »)", "financeurs": "financeurs (« ; »)",
    "territoire": "code INSEE ou SIREN du territoire (ou nom sans ambiguïté)",
    "statut": f"statut ({', '.join(STATUSES.values())})", "priorite": "priorité (haute, moyenne, basse)",
    "debut": "date de début (AAAA-MM-JJ ou JJ/MM/AAAA)", "fin": "date de fin (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "budget_investissement_previsionnel": "budget d'investissement prévisionnel par année, en euros (2025=120000 ; 2026=80000)",
    "budget_investissement_reel": "budget d'investissement réel par année, en euros",
    "budget_fonctionnement_previsionnel": "budget de fonctionnement prévisionnel par année, en euros",
    "budget_fonctionnement_reel": "budget de fonctionnement réel par année, en euros",
    "effets": f"effets attendus (« ; » : {', '.join(EFFECTS)})",
    "engagement_quantite": "quantité engagée sur le levier (nombre)",
    "engagement_unite": "unité de l'engagement : ktCO2e ou l'unité physique du levier",
    "engagement_annee": "année cible de l'engagement",
    "participation": f"niveau de participation citoyenne ({', '.join(PARTICIPATION)})",
    "evaluation": "notes d'évaluation", "liens": "fils de discussion et REX de la base de connaissances (identifiants, « ; »)",
}  # fmt: skip
REQUIRED_COLUMNS = ("id", "titre", "statut", "territoire")
INDICATOR_COLUMNS: dict[str, str] = {
    "action_id": "identifiant de l'action", "nom": "nom de l'indicateur", "unite": "unité",
    "valeur_initiale": "valeur de référence", "annee_initiale": "année de référence",
    "cible": "valeur cible", "annee_cible": "année cible",
    "valeur_actuelle": "dernière valeur connue", "annee_actuelle": "année de la dernière valeur",
}  # fmt: skip

_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
_LINK = re.compile(r"^(?:t-\d{8}-[0-9a-f]{8}|p-\d{8}T\d{6}-[0-9a-f]{8})$")
MAX_TEXT = 5_000


@dataclass(frozen=True)
class Indicator:
    """An indicator of an action, with baseline, target and current value."""

    name: str
    unit: str = ""
    baseline: float | None = None
    baseline_year: int | None = None
    target: float | None = None
    target_year: int | None = None
    current: float | None = None
    current_year: int | None = None

    @property
    def progress(self) -> float | None:
        """Share of the way from baseline to target, in percent (None when unknown)."""
        if None in (self.baseline, self.target, self.current) or self.target == self.baseline:
            return None
        return 100.0 * (self.current - self.baseline) / (self.target - self.baseline)  # type: ignore[operator]


@dataclass
class ActionSheet:
    """One action of a territorial plan."""

    id: str
    title: str
    status: str
    territory: str
    description: str = ""
    axis: str = ""
    sector: str = ""
    lever: str = ""
    plans: list[str] = field(default_factory=list)
    pilot: str = ""
    pilot_type: str = "collectivite"
    services: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    funders: list[str] = field(default_factory=list)
    priority: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    budget: dict[str, dict[int, float]] = field(default_factory=dict)
    effects: list[str] = field(default_factory=list)
    commitment_quantity: float | None = None
    commitment_unit: str = ""
    commitment_year: int | None = None
    participation: str = ""
    evaluation: str = ""
    links: list[str] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        d["end"] = self.end.isoformat() if self.end else None
        d["budget"] = {k: {int(y): v for y, v in sorted(b.items())} for k, b in sorted(self.budget.items()) if b}
        return d

    def budget_total(self, kind: str, nature: str) -> float:
        return sum(self.budget.get(f"{kind}_{nature}", {}).values())


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.strip().lower())
    return "".join(c for c in s if not unicodedata.combining(c)).replace("-", "_").replace(" ", "_").replace("'", "_")


def choice(value: str, vocab: dict[str, str]) -> str | None:
    """The id of ``value`` in ``vocab`` (by id or French label, accents and case ignored)."""
    v = _fold(value)
    for k, label in vocab.items():
        if v in (_fold(k), _fold(label)):
            return k
    return None


def parse_date(value: Any) -> dt.date | None:
    """A date from ``2025-03-01``, ``01/03/2025``, a spreadsheet date, or an empty cell; ValueError otherwise."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    if not s:
        return None
    for f in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(s, f).date()
        except ValueError:
            pass
    raise ValueError(s)


def split_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [x.strip() for x in str(value).split(";") if x.strip()]


def parse_number(value: Any) -> float | None:
    """A number written the French or the English way (``1 234,5``, ``1234.5``); None for empty; ValueError otherwise."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not s:
        return None
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    x = float(s)
    if not math.isfinite(x):
        raise ValueError(value)
    return x


def parse_year(value: Any) -> int | None:
    x = parse_number(value)
    if x is None:
        return None
    if x != int(x) or not 1990 <= x <= 2100:
        raise ValueError(value)
    return int(x)


def parse_budget(value: Any) -> dict[int, float]:
    """``2025=120000 ; 2026=80 000`` → {2025: 120000.0, 2026: 80000.0}; ValueError with the bad part."""
    out: dict[int, float] = {}
    for part in split_list(value):
        year, sep, amount = part.partition("=")
        if not sep:
            raise ValueError(part)
        y = parse_year(year)
        a = parse_number(amount)
        if y is None or a is None or a < 0 or y in out:
            raise ValueError(part)
        out[y] = a
    return out


def format_budget(b: dict[int, float]) -> str:
    return " ; ".join(f"{y}={_num(v)}" for y, v in sorted(b.items()))


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def check_id(value: str) -> bool:
    return bool(_ID.match(value or ""))


def check_link(value: str) -> bool:
    return bool(_LINK.match(value or ""))
