"""Neutrality and permission rules, enforced by the library (the UI and CLI only call them).

The knowledge base serves local authorities. Companies and consultancies (*bureaux d'études*)
are welcome to share experience, but:

- they post only in threads open to them (audience ``open``) or in threads they started;
- what they write addresses elected officials and their staff, never another company
  (no unsolicited company-to-company threads or replies);
- they cannot recommend a company;
- commercial solicitation is refused (explicit offers, discounts, sales contact requests) or
  held for moderation (prices, phone numbers, e-mail addresses), with the reason stated.

Elected officials and staff can restrict a thread to the public sector (audience
``public_sector``): only they (and moderators) read and answer it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from planeco_kernel.knowledge.errors import NeutralityError, PermissionDeniedError
from planeco_kernel.knowledge.model import COMMERCIAL_ROLES, PUBLIC_SECTOR_ROLES, ROLES, Member

_REFUSE = [
    (r"\boffres?\s+(?:spéciale|promotionnelle|commerciale|exclusive|de lancement)s?\b", "offre commerciale"),
    (r"\bpromo(?:tion)?s?\b|\bcode\s+promo\b", "promotion"),
    (r"\bremises?\s+(?:de\s+)?\d+|\-\s?\d{1,2}\s?%\s+(?:sur|de remise)", "remise"),
    (r"\bdevis\s+gratuit|\bdemandez\s+(?:un|votre|nos)\s+devis", "demande de devis"),
    (r"\bcontactez[- ](?:nous|moi|notre\s+(?:service|équipe)\s+commercial)", "demande de contact commercial"),
    (r"\bprenez\s+rendez[- ]vous|\bréservez\s+(?:une|votre)\s+d[ée]mo", "demande de rendez-vous commercial"),
    (r"\b(?:essai|démonstration|démo|audit)\s+gratuite?s?\b", "offre gratuite d'appel"),
    (r"\btarifs?\s+(?:préférentiels?|spéciaux|spécial|dégressifs?)", "tarif préférentiel"),
    (r"\bà\s+partir\s+de\s+\d[\d\s.,]*\s?(?:€|euros?\b)", "prix d'appel"),
    (r"\bnotre\s+(?:catalogue|gamme|offre)\b", "présentation d'offre"),
]
_HOLD = [
    (r"\d[\d\s.,]*\s?(?:€|k€|M€|euros?\b|EUR\b)|\b(?:HT|TTC)\b", "mention de prix"),
    (r"\b(?:tarifs?|prix|devis)\b", "mention de prix"),
    (r"(?:(?:\+|\b00)\s*33\s*(?:\(\s*0\s*\)\s*)?|\b0)[1-9](?:[\s.\-/]*\d){8}\b", "numéro de téléphone"),
    (r"[\w.+-]+\s*(?:@|[\[({]\s*(?:at|arobase)\s*[\])}]|\s(?:at|arobase)\s)\s*[\w-]+\s*"
     r"(?:\.|[\[({]\s*(?:dot|point)\s*[\])}]|\s(?:dot|point)\s)\s*[a-z]{2,}", "adresse e-mail"),
    (r"\b(?:https?|ftp)\s*:|(?:^|[\s(\[<«\"'])//[\w-]|\bwww\s*\.|\b[\w-]+\.(?:fr|com|net|org|eu|io|info|biz|co)\b(?!\.\w)",
     "lien externe"),
]

# Cyrillic and Greek letters that look like Latin ones (used to dodge word filters)
_CONFUSABLES = str.maketrans("аеорсхуіјѕԁԛԝνοαρτкмнвт", "aeopcxyijsdqwvoaptkmhbt")


def fold(text: str) -> str:
    """The text the solicitation rules read: NFKC (fullwidth → ASCII), without zero-width or other
    format characters (Unicode category Cf), lookalike letters mapped to Latin, accents removed,
    lower case, runs of spaces collapsed."""
    import unicodedata

    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Cf")
    t = unicodedata.normalize("NFD", t.lower().translate(_CONFUSABLES))
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^\S\n]+", " ", unicodedata.normalize("NFC", t))


def _strip_accents(pattern: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFD", pattern) if unicodedata.category(ch) != "Mn")


_REFUSE_RE = [(re.compile(_strip_accents(p), re.IGNORECASE), why) for p, why in _REFUSE]
_HOLD_RE = [(re.compile(_strip_accents(p), re.IGNORECASE), why) for p, why in _HOLD]


def solicitation(text: str) -> tuple[str, list[str]]:
    """Classify a company's text: ``("refuse"|"hold"|"ok", [reasons with the matched words])``.

    The rules read :func:`fold` of the text, so zero-width characters, fullwidth or lookalike
    letters and accents do not get round them; the reasons quote the folded words.
    """
    text = fold(text)
    found: list[str] = []
    for rx, why in _REFUSE_RE:
        m = rx.search(text)
        if m:
            found.append(f"{why} (« {m.group(0).strip()} »)")
    if found:
        return "refuse", found
    for rx, why in _HOLD_RE:
        m = rx.search(text)
        if m and not any(f.startswith(why + " (") for f in found):
            found.append(f"{why} (« {m.group(0).strip()} »)")
    return ("hold", found) if found else ("ok", [])


def check_solicitation(author: Member, text: str) -> str:
    """Apply the solicitation rule to a post by ``author``; return the hold reason ('' if none).

    Raises
    ------
    NeutralityError
        If a company or consultancy writes an explicit commercial solicitation.
    """
    if author.role not in COMMERCIAL_ROLES:
        return ""
    verdict, reasons = solicitation(text)
    if verdict == "refuse":
        raise NeutralityError(
            "Message refusé : la base de connaissances n'accepte pas le démarchage commercial ("
            + "; ".join(reasons)
            + "). Décrivez votre retour d'expérience sans offre, prix d'appel ni demande de contact."
        )
    if verdict == "hold":
        return (
            "Message retenu pour modération : un message d'entreprise ou de bureau d'études qui contient "
            + "; ".join(reasons)
            + " est relu par un·e modérateur·rice avant publication."
        )
    return ""


def require_active(member: Member) -> None:
    if not member.active:
        raise PermissionDeniedError(
            f"Le membre « {member.id} » est désactivé : demandez à un·e modérateur·rice de le réactiver."
        )


def require_moderator(member: Member, action: str) -> None:
    require_active(member)
    if not member.moderator:
        raise PermissionDeniedError(
            f"« {member.id} » n'est pas modérateur·rice : seul·es les modérateur·rices peuvent {action}."
        )


def can_read(viewer: Member | None, audience: str, author: str = "") -> bool:
    """Whether ``viewer`` may read a thread of this audience."""
    if audience != "public_sector":
        return True
    return viewer is not None and (viewer.is_public_sector or viewer.moderator or viewer.id == author)


def check_start(author: Member, kind: str, audience: str, addressed_to: Iterable[str], members: Mapping[str, Member]) -> list[str]:
    """Check that ``author`` may start this thread; return the normalised ``addressed_to`` list.

    Raises
    ------
    NeutralityError, PermissionDeniedError
        With the rule that refuses it and what to do instead.
    """
    require_active(author)
    targets = list(dict.fromkeys(addressed_to))
    for t in targets:
        if t not in ROLES and t not in members:
            raise PermissionDeniedError(
                f"Destinataire inconnu : « {t} ». Indiquez un rôle ({', '.join(ROLES)}) ou l'identifiant d'un membre."
            )
    if audience == "public_sector" and not author.is_public_sector:
        raise PermissionDeniedError(
            "Seul·es les élu·es et agents territoriaux peuvent ouvrir un fil réservé au secteur public."
        )
    if author.is_commercial:
        if kind == "recommendation":
            raise NeutralityError(
                "Une entreprise ou un bureau d'études ne peut pas recommander d'entreprise. "
                "Les recommandations sont faites par les collectivités et les associations."
            )
        if audience != "open":
            raise NeutralityError(
                "Un fil ouvert par une entreprise ou un bureau d'études doit rester ouvert (audience « open »)."
            )
        if not targets:
            raise NeutralityError(
                "Une entreprise ou un bureau d'études s'adresse aux élu·es et à leurs services : "
                "précisez les destinataires (--to elu, --to agent ou l'identifiant d'un·e élu·e ou agent)."
            )
        for t in targets:
            role = t if t in ROLES else members[t].role
            if role not in PUBLIC_SECTOR_ROLES:
                raise NeutralityError(
                    f"Refusé : une entreprise ou un bureau d'études ne peut pas ouvrir de fil adressé à « {t} » "
                    "(pas de sollicitation entre entreprises). Adressez-vous aux élu·es ou agents territoriaux."
                )
    return targets


def check_reply(
    author: Member,
    *,
    audience: str,
    thread_author: str,
    target_author: str,
    members: Mapping[str, Member],
) -> None:
    """Check that ``author`` may reply in a thread (``target_author`` wrote the post answered).

    Raises
    ------
    NeutralityError, PermissionDeniedError
    """
    require_active(author)
    if audience == "public_sector" and not (author.is_public_sector or author.moderator):
        raise PermissionDeniedError(
            "Ce fil est réservé aux élu·es et agents territoriaux : vous ne pouvez pas y répondre."
        )
    if not author.is_commercial:
        return
    own_thread = thread_author == author.id
    if audience != "open" and not own_thread:
        raise NeutralityError(
            "Ce fil n'est pas ouvert aux entreprises ni aux bureaux d'études : vous ne pouvez pas y répondre. "
            "Un·e élu·e ou agent peut ouvrir un fil « open » pour solliciter votre retour d'expérience."
        )
    target = members.get(target_author)
    if target is not None and target.id != author.id and target.is_commercial:
        raise NeutralityError(
            f"Refusé : vous répondez à « {target.id} », une autre entreprise ou un bureau d'études. "
            "Ici, les entreprises s'adressent aux élu·es et à leurs services uniquement."
        )
