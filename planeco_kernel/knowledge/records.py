"""What a writer puts in a record: validated members, details, territory codes, idempotency keys, documents."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from planeco_kernel.knowledge import frontmatter, model, signing
from planeco_kernel.knowledge.errors import InvalidInputError
from planeco_kernel.knowledge.model import Member

DETAIL_FIELDS = {
    "solution": {"results", "cost_eur", "partners", "year"},
    "rex": {"results", "cost_eur", "partners", "year"},
    "recommendation": {"company", "siren", "service"},
}
DOCUMENTS_DIR = "documents"
MAX_DOCUMENT_BYTES = 1024 * 1024
DEDUP_SECONDS = 24 * 3600
"""Without a client-chosen key, the same content by the same author within this window is one post."""


def validated_member(d: dict[str, Any], *, resolve: bool = True) -> Member:
    """A :class:`Member` from untrusted fields (ids, names, e-mail, territory code resolved)."""
    role = model.choice(d.get("role"), model.ROLES, "Rôle")
    territory = territory_code(d["territory"], resolve=resolve) if d.get("territory") else ""
    return Member(
        id=model.member_id(d.get("id")),
        name=model.text(d.get("name"), "Le nom", model.MAX_NAME_CHARS),
        role=role,
        territory=territory,
        organisation=model.text(d.get("organisation") or "", "L'organisation", model.MAX_NAME_CHARS, required=False),
        email=model.email(d["email"]) if d.get("email") else "",
        moderator=bool(d.get("moderator", False)),
        hub_user=model.text(d.get("hub_user") or "", "L'utilisateur JupyterHub", 100, required=False),
        active=bool(d.get("active", True)),
        signing_key=signing.public_key(d.get("signing_key") or ""),
    )


def member_path(member_id: str, created: str) -> str:
    return f"members/{member_id}/{model.new_record_id(created, 'e')}.md"


def member_record(m: Member, created: str, *, by: str) -> bytes:
    return frontmatter.dump({"type": "member", **m.to_dict(), "created": created, "by": by}, "")


def territory_code(value: str, *, resolve: bool = True) -> str:
    """A territory code as the territory model knows it: the old code of a merged commune becomes
    its successor's; an unknown code is refused. Without a data bundle only the format is checked.

    Raises
    ------
    InvalidInputError
        For a malformed or unknown code (with the model's suggestions).
    """
    raw = str(value).strip()
    code = model.key(raw.upper() if len(raw) <= 5 else raw, "Code de territoire")
    if not resolve:
        return code
    from planeco_kernel.errors import BundleError, PlanecoError, TerritoryNotFoundError

    try:
        from planeco_kernel.territory import codes, load_model

        if not codes.looks_like_code(code):
            raise TerritoryNotFoundError(code, [])
        res = load_model().resolve(code)
    except TerritoryNotFoundError as exc:
        raise InvalidInputError(f"Code de territoire inconnu : {exc}") from None
    except (BundleError, OSError):
        return code  # no data bundle here: the format check is all we can do
    except PlanecoError as exc:
        raise InvalidInputError(f"Code de territoire refusé : {exc}") from None
    return res.territory.code


def details(kind: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the structured fields of a solution, REX or recommendation."""
    if not values:
        return {}
    allowed = DETAIL_FIELDS.get(kind, set())
    extra = set(values) - allowed
    if extra:
        raise InvalidInputError(
            f"Champs non prévus pour « {kind} » : {', '.join(sorted(map(str, extra)))}. "
            f"Champs possibles : {', '.join(sorted(allowed)) or 'aucun'}."
        )
    out: dict[str, Any] = {}
    for k, v in values.items():
        if v in (None, "", []):
            continue
        if k == "cost_eur":
            try:
                v = float(str(v).replace("\u202f", "").replace(" ", "").replace(",", "."))
            except ValueError:
                raise InvalidInputError(f"Coût invalide : {str(v)[:30]!r}. Donnez un montant en euros, par exemple 120000.") from None
            if not 0 <= v < 1e12:
                raise InvalidInputError("Coût hors limites : donnez un montant positif en euros.")
        elif k == "year":
            if not str(v).isdigit() or not 1900 <= int(v) <= 2100:
                raise InvalidInputError(f"Année invalide : {str(v)[:10]!r}.")
            v = int(v)
        elif k == "partners":
            vals = v.split(",") if isinstance(v, str) else list(v)
            v = [model.text(x, "Partenaire", model.MAX_NAME_CHARS) for x in vals if str(x).strip()][:20]
        elif k == "siren":
            v = str(v).replace(" ", "")
            if not (v.isdigit() and len(v) == 9):
                raise InvalidInputError(f"SIREN invalide : {v[:12]!r} (9 chiffres attendus).")
        else:
            v = model.text(v, k.capitalize(), 2_000, multiline=True)
        out[k] = v
    return out


def flatten(d: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for v in d.values():
        out.extend(v if isinstance(v, list) else [v])
    return out


def client_key(value: str | None) -> str | None:
    """Validate a client-chosen idempotency key (letters, digits, ``._-``, up to 64)."""
    if value is None:
        return None
    return model.key(str(value).strip(), "Clé d'idempotence")


def content_key(*parts: Any) -> str:
    """A key derived from what is posted (same author, place and content → same key)."""
    raw = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return "h-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def document_path(value: Any) -> str:
    """Validate a document path: ``documents/…``, relative, no ``..``, no hidden part, no record name.

    Raises
    ------
    InvalidInputError
    """
    if not isinstance(value, str) or not value.startswith(DOCUMENTS_DIR + "/") or len(value) > 300:
        raise InvalidInputError(
            f"Chemin de document invalide : {str(value)[:80]!r}. Il doit commencer par « {DOCUMENTS_DIR}/ », "
            "par exemple « documents/auto_evaluation/2026/acme.yaml »."
        )
    parts = value.split("/")
    bad = any(p in ("", ".", "..") or p.startswith(".") or not model._KEY.match(p) for p in parts[1:])
    if bad or "\\" in value:
        raise InvalidInputError(
            f"Chemin de document refusé : {value[:80]!r} (lettres, chiffres, « . _ - » par dossier ; ni « .. » ni dossier caché)."
        )
    return value


def document_bytes(text: Any) -> bytes:
    """A document's content as UTF-8, with its size limit stated when exceeded."""
    if not isinstance(text, str):
        raise InvalidInputError("Le contenu d'un document doit être du texte.")
    data = text.encode("utf-8")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(
            f"Document trop volumineux : {model.fr_size(len(data))} pour {model.fr_size(MAX_DOCUMENT_BYTES)} au plus."
        )
    if "\x00" in text:
        raise InvalidInputError("Le document contient un caractère nul : retirez-le.")
    return data
