"""One thread filter, used by listing (:meth:`KnowledgeBase.threads`) and search (:meth:`KnowledgeBase.search`).

A :class:`ThreadFilter` holds what a reader asked for (territory, nearby, theme, kind, anchor,
text); :meth:`ThreadFilter.thread` and :meth:`ThreadFilter.post` apply it to a thread and to one
of its posts. Visibility (audience, hidden and held posts) is applied by the caller with
:func:`planeco_kernel.knowledge.state.visible` and :func:`planeco_kernel.knowledge.rules.can_read`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from planeco_kernel.knowledge import model
from planeco_kernel.knowledge.model import Member, Post, Thread
from planeco_kernel.knowledge.state import visible


def _territory_matcher(territory: str | None, nearby: bool) -> Callable[[str], bool] | None:
    if not territory:
        return None
    code = territory.strip()
    if nearby:
        from planeco_kernel.knowledge.nearby import matcher

        return matcher(code)
    return lambda other: other == code


@dataclass
class ThreadFilter:
    """What to keep: every given criterion must match (None = any).

    Attributes
    ----------
    territory, nearby
        A territory code; with ``nearby``, territories nearby or similar match too
        (:mod:`planeco_kernel.knowledge.nearby`).
    theme
        One theme tag (case-insensitive).
    kinds
        Thread kinds (listing) or post kinds (search).
    anchor
        Exact anchor (``notebook:analyses/zan.ipynb``).
    text
        Words searched in titles and visible bodies (case-insensitive).
    """

    territory: str | None = None
    nearby: bool = False
    theme: str | None = None
    kinds: frozenset[str] | None = None
    anchor: str | None = None
    text: str | None = None
    _match_territory: Callable[[str], bool] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.theme = self.theme.strip().lower() if self.theme and self.theme.strip() else None
        self.text = self.text.strip().lower() if self.text and self.text.strip() else None
        if self.kinds is not None:
            self.kinds = frozenset(self.kinds)
            for k in self.kinds:
                model.choice(k, {**model.THREAD_KINDS, **model.REPLY_KINDS}, "Type de message")
        self._match_territory = _territory_matcher(self.territory, self.nearby)

    @classmethod
    def of(cls, *, kind: str | Iterable[str] | None = None, **kw) -> ThreadFilter:
        """Build from keyword arguments as the public methods take them (``kind`` one or several)."""
        kinds = None if not kind else frozenset([kind] if isinstance(kind, str) else kind)
        return cls(kinds=kinds, **kw)

    def territory_ok(self, code: str) -> bool:
        return self._match_territory is None or self._match_territory(code)

    def thread(self, th: Thread, viewer: Member | None, *, with_kind: bool = True) -> bool:
        """Whether thread ``th`` matches (its kind, anchor, territory, theme and text)."""
        if with_kind and self.kinds and th.kind not in self.kinds:
            return False
        if self.anchor and th.anchor != self.anchor:
            return False
        if self.theme and self.theme not in th.themes:
            return False
        if with_kind and not self.territory_ok(th.territory):
            return False
        if with_kind and self.text and self.text not in th.title.lower():
            return any(self.text in p.body.lower() for p in th.posts if visible(p, viewer))
        return True

    def post(self, p: Post, th: Thread) -> bool:
        """Whether post ``p`` of thread ``th`` matches (search: its kind, territory and text)."""
        if self.kinds and p.kind not in self.kinds:
            return False
        if not self.territory_ok(p.territory or th.territory):
            return False
        return not self.text or self.text in (p.body + " " + th.title).lower()
