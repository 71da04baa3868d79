"""Vocabulary, records and input validation of the knowledge base.

Every value that becomes part of a path, an id or a stored file is validated here, so that
hostile input (``../``, control characters, huge bodies) is refused with a clear French message
before anything is written.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from planeco_kernel.knowledge.errors import InvalidInputError

Role = Literal["elu", "agent", "entreprise", "association", "bureau_etudes"]
ROLES: dict[str, str] = {
    "elu": "élu·e",
    "agent": "agent territorial",
    "entreprise": "entreprise",
    "association": "association",
    "bureau_etudes": "bureau d'études",
}
PUBLIC_SECTOR_ROLES = frozenset({"elu", "agent"})
COMMERCIAL_ROLES = frozenset({"entreprise", "bureau_etudes"})

ThreadKind = Literal["question", "rex_request", "rex", "solution", "recommendation", "discussion"]
THREAD_KINDS: dict[str, str] = {
    "question": "question",
    "rex_request": "demande de REX",
    "rex": "retour d'expérience (REX)",
    "solution": "solution",
    "recommendation": "recommandation d'entreprise",
    "discussion": "discussion",
}
REPLY_KINDS: dict[str, str] = {"reply": "réponse", "rex": THREAD_KINDS["rex"], "solution": "solution"}
EVENT_KINDS: dict[str, str] = {"flag": "signalement", "hide": "masquage", "restore": "rétablissement", "edit": "modification"}

Audience = Literal["open", "no_companies", "public_sector"]
AUDIENCES: dict[str, str] = {
    "open": "ouvert à tous les membres, entreprises et bureaux d'études compris",
    "no_companies": "lecture pour tous, réponses réservées aux collectivités et associations",
    "public_sector": "réservé aux élu·es et agents territoriaux",
}

ANCHOR_TYPES: dict[str, str] = {
    "notebook": "notebook",
    "app": "application",
    "territory": "territoire",
    "indicator": "indicateur",
    "lever": "levier COP",
    "action": "action",
}

MAX_BODY_CHARS = 20_000
MAX_TITLE_CHARS = 200
MAX_REASON_CHARS = 1_000
MAX_THEMES = 8
MAX_THEME_CHARS = 40
MAX_NAME_CHARS = 120
MAX_FILE_BYTES = 128 * 1024

_MEMBER_ID = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
_THREAD_ID = re.compile(r"^t-\d{8}-[0-9a-f]{8}$")
_RECORD_ID = re.compile(r"^[pe]-\d{8}T\d{6}-[0-9a-f]{8}$")
_KEY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,190}$")


def now_utc() -> str:
    """Current UTC time, ISO 8601 with microseconds (``2026-11-24T01:02:03.456789Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_thread_id(created: str) -> str:
    """A fresh thread id ``t-YYYYMMDD-xxxxxxxx`` (random, so concurrent writers never collide)."""
    return f"t-{created[:10].replace('-', '')}-{secrets.token_hex(4)}"


def new_record_id(created: str, prefix: Literal["p", "e"] = "p") -> str:
    """A fresh post (``p``) or event (``e``) id; it sorts by creation time."""
    stamp = created[:19].replace("-", "").replace(":", "")
    return f"{prefix}-{stamp}-{secrets.token_hex(4)}"


def _check(pattern: re.Pattern[str], value: Any, what: str, example: str) -> str:
    if not isinstance(value, str) or not pattern.match(value) or ".." in value:
        shown = repr(value)[:60]
        raise InvalidInputError(f"{what} invalide : {shown}. Format attendu, par exemple : « {example} ».")
    return value


def member_id(value: Any) -> str:
    """Validate a member id (lowercase letters, digits, ``._-``)."""
    return _check(_MEMBER_ID, value, "Identifiant de membre", "marie.dupont")


def thread_id(value: Any) -> str:
    """Validate a thread id."""
    return _check(_THREAD_ID, value, "Identifiant de fil", "t-20261124-1a2b3c4d")


def record_id(value: Any) -> str:
    """Validate a post or event id."""
    return _check(_RECORD_ID, value, "Identifiant de message", "p-20261124T010203-1a2b3c4d")


def key(value: Any, what: str = "Code") -> str:
    """Validate a territory code, app, indicator, lever or action key."""
    return _check(_KEY, value, what, "69123, zan-conso, ind_conso_naf")


def choice(value: Any, allowed: dict[str, str], what: str) -> str:
    """Validate a value against a vocabulary."""
    if value not in allowed:
        raise InvalidInputError(
            f"{what} inconnu·e : {str(value)[:40]!r}. Valeurs possibles : {', '.join(allowed)}."
        )
    return value


def text(value: Any, what: str, max_chars: int, *, required: bool = True, multiline: bool = False) -> str:
    """Validate and normalise free text: NFC, no control characters, size limit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} doit être du texte.")
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if "\x00" in value:
        raise InvalidInputError(f"{what} contient un caractère nul : retirez-le.")
    value = _CONTROL.sub("", value)
    if not multiline:
        value = " ".join(value.split())
    value = value.strip()
    if required and not value:
        raise InvalidInputError(f"{what} est vide : saisissez un texte.")
    if len(value) > max_chars:
        from planeco_kernel import fmt

        raise InvalidInputError(
            f"{what} est trop long : {fmt.integer(len(value))} caractères reçus pour {fmt.integer(max_chars)} au plus. "
            "Raccourcissez-le ou découpez-le en plusieurs messages."
        )
    return value


def fr_size(n_bytes: int) -> str:
    """A size for users: ``812 octets``, ``78,1 ko``, ``10,0 Mo`` (French number format)."""
    from planeco_kernel import fmt

    if n_bytes < 1024:
        return f"{fmt.integer(n_bytes)} octets"
    if n_bytes < 1024 * 1024:
        return f"{fmt.number(n_bytes / 1024, 1)} ko"
    return f"{fmt.number(n_bytes / (1024 * 1024), 1)} Mo"


def themes(values: Any) -> list[str]:
    """Validate a list of theme tags (lower-cased, deduplicated)."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",")]
    out: list[str] = []
    for v in values:
        t = text(v, "Thème", MAX_THEME_CHARS, required=False).lower()
        if t and t not in out:
            out.append(t)
    if len(out) > MAX_THEMES:
        raise InvalidInputError(f"Trop de thèmes : {len(out)} pour {MAX_THEMES} au plus.")
    return out


def email(value: Any) -> str:
    """Validate an e-mail address (used only as the git author e-mail)."""
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise InvalidInputError(f"Adresse e-mail invalide : {str(value)[:60]!r}.")
    return value


def notebook_path(value: Any) -> str:
    """Validate a notebook path relative to the knowledge base (POSIX, no ``..``, no hidden parts).

    Raises
    ------
    InvalidInputError
        For absolute paths, ``..``, backslashes, control characters, hidden components
        or a name that does not end in ``.ipynb``.
    """
    if not isinstance(value, str) or not value or len(value) > 400:
        raise InvalidInputError("Chemin de notebook invalide : donnez un chemin relatif, par exemple « analyses/zan.ipynb ».")
    bad = (
        value.startswith("/")
        or "\\" in value
        or _CONTROL.search(value)
        or "\x00" in value
        or re.match(r"^[A-Za-z]:", value)
        or not value.endswith(".ipynb")
    )
    parts = value.split("/")
    if bad or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise InvalidInputError(
            f"Chemin de notebook refusé : {value[:80]!r}. Il doit être relatif à la base de connaissances, "
            "sans « .. » ni dossier caché, et finir par « .ipynb »."
        )
    return unicodedata.normalize("NFC", value)


def anchor(value: Any) -> tuple[str, str]:
    """Parse and validate an anchor ``type:key`` (``notebook:analyses/zan.ipynb``, ``territory:69123``)."""
    if not isinstance(value, str) or ":" not in value:
        raise InvalidInputError(
            f"Ancrage invalide : {str(value)[:60]!r}. Format « type:clé » avec type parmi "
            f"{', '.join(ANCHOR_TYPES)} (ex. « territory:69123 »)."
        )
    kind, _, k = value.partition(":")
    choice(kind, ANCHOR_TYPES, "Type d'ancrage")
    k = notebook_path(k) if kind == "notebook" else key(k, f"Clé d'ancrage « {kind} »")
    return kind, k


def anchor_dir(kind: str, k: str) -> str:
    """Folder (relative to the knowledge base) holding the threads of an anchor.

    A notebook ``a/b.ipynb`` keeps its threads in the sidecar folder ``a/b.threads``; other
    anchors live under ``discussions/<type>/<key>``.
    """
    if kind == "notebook":
        return k[: -len(".ipynb")] + ".threads"
    return f"discussions/{kind}/{k}"


@dataclass
class Member:
    """A member of the knowledge base (registry entry)."""

    id: str
    name: str
    role: str
    territory: str = ""
    organisation: str = ""
    email: str = ""
    moderator: bool = False
    hub_user: str = ""
    active: bool = True
    signing_key: str = ""

    @property
    def is_public_sector(self) -> bool:
        return self.role in PUBLIC_SECTOR_ROLES

    @property
    def is_commercial(self) -> bool:
        return self.role in COMMERCIAL_ROLES

    def git_identity(self) -> bytes:
        mail = self.email or f"{self.id}@membres.planeco.invalid"
        name = self.name.replace("<", "").replace(">", "").replace("\n", " ")
        return f"{name} <{mail}>".encode()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Post:
    """One post (a thread's first post or a reply), as stored and as shown."""

    id: str
    thread: str
    author: str
    role: str
    kind: str
    created: str
    body: str = ""
    title: str = ""
    territory: str = ""
    reply_to: str | None = None
    audience: str = "open"
    anchor: str = ""
    themes: list[str] = field(default_factory=list)
    addressed_to: list[str] = field(default_factory=list)
    status: str = "published"
    held_reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    hidden: bool = False
    hidden_reason: str = ""
    flags: int = 0
    edited: str = ""
    acted_by: str = ""
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Thread:
    """A thread summary (listing) with its posts when shown in full."""

    id: str
    title: str
    kind: str
    anchor: str
    audience: str
    author: str
    role: str
    territory: str
    themes: list[str]
    created: str
    last_activity: str
    replies: int
    dir: str
    hidden: bool = False
    status: str = "published"
    flags: int = 0
    posts: list[Post] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.posts:
            d.pop("posts")
        return d
