"""COP step 2, the debate on a lever: knowledge-base threads anchored ``lever:<id>``.

A proposal opens a thread (kind ``discussion``); each reply states a position on its first line —
``Position : pour``, ``Position : contre`` or ``Position : amendement`` — and a closing post starts
with ``Conclusion :``. A debate is closed only by a non-empty conclusion, written by the proposal's
author or a moderator. Moderation (flag, hide, restore) is the knowledge base's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planeco_kernel.errors import PlanecoError
from planeco_kernel.trajectories.kbstore import lever_anchor

POSITIONS = ("pour", "contre", "amendement")
_POS = re.compile(r"^\s*Position\s*:\s*(pour|contre|amendement)\b", re.I)
_CONCL = re.compile(r"^\s*Conclusion\s*:\s*(\S.*)", re.I | re.S)


class DebateError(PlanecoError):
    pass


@dataclass
class Debate:
    thread_id: str
    lever_id: str
    title: str
    author: str
    positions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(POSITIONS, 0))
    contributions: list[dict] = field(default_factory=list)
    conclusion: str | None = None

    @property
    def closed(self) -> bool:
        return self.conclusion is not None


def propose(kb, author: str, lever_id: str, title: str, body: str, *, territory: str | None = None):
    return kb.start_thread(author, kind="discussion", title=title, body=body, anchor=lever_anchor(lever_id),
                           territory=territory, themes=["cop"])


def take_position(kb, author: str, thread_id: str, position: str, text: str):
    if position not in POSITIONS:
        raise DebateError(f"Position « {position} » inconnue : pour, contre ou amendement.")
    if not text.strip():
        raise DebateError("Expliquez votre position en quelques mots.")
    return kb.reply(author, thread_id, f"Position : {position}\n\n{text.strip()}")


def conclude(kb, author: str, thread_id: str, conclusion: str):
    """Close a debate: the conclusion is required, by the proposal's author or a moderator."""
    if not conclusion or not conclusion.strip():
        raise DebateError("Une conclusion est nécessaire pour clore le débat.")
    th = kb.thread(thread_id, author)
    who = kb.member(author)
    if th.author != author and not who.moderator:
        raise DebateError("Seul·e l'auteur·rice de la proposition ou un·e modérateur·rice peut clore le débat.")
    if read(kb, thread_id, author).closed:
        raise DebateError("Ce débat est déjà clos.")
    return kb.reply(author, thread_id, f"Conclusion : {conclusion.strip()}")


def read(kb, thread_id: str, viewer: str | None = None) -> Debate:
    th = kb.thread(thread_id, viewer)
    lever = th.anchor.split(":", 1)[1]
    d = Debate(th.id, lever, th.title, th.author)
    for p in th.posts[1:]:
        body = p.body or ""
        m = _POS.match(body)
        if m:
            d.positions[m.group(1).lower()] += 1
            d.contributions.append({"author": p.author, "role": p.role, "position": m.group(1).lower(),
                                    "text": body[m.end():].strip()})
            continue
        c = _CONCL.match(body)
        if c and (p.author == th.author or kb.member(p.author).moderator):
            d.conclusion = c.group(1).strip()
    return d


def debates_of(kb, lever_id: str, viewer: str | None = None) -> list[Debate]:
    return [read(kb, t.id, viewer) for t in kb.threads(viewer, anchor=lever_anchor(lever_id))]
