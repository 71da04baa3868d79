"""Git-backed knowledge base: threads, REX, solutions and recommendations between territories.

A knowledge base is a git repository; each post is one Markdown file with YAML front matter,
committed by its author, never rewritten. See :mod:`planeco_kernel.knowledge.kb` for the layout,
:mod:`~planeco_kernel.knowledge.rules` for the neutrality rules and
:mod:`~planeco_kernel.knowledge.gitstore` for crash safety.

>>> from planeco_kernel.knowledge import KnowledgeBase, Member   # doctest: +SKIP
>>> kb = KnowledgeBase.init("kb", Member(id="marie", name="Marie", role="elu", territory="69123"))
>>> kb.start_thread("marie", kind="rex_request", title="Covoiturage ?", body="Qui a un REX ?",
...                 anchor="territory:69123", themes=["mobilité"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planeco_kernel.knowledge.errors import (
    InvalidInputError,
    KBNotFoundError,
    KnowledgeError,
    LockTimeoutError,
    NeutralityError,
    NotFoundError,
    PermissionDeniedError,
    SyncError,
)
from planeco_kernel.knowledge.model import Member, Post, Thread

if TYPE_CHECKING:
    from planeco_kernel.knowledge.kb import KnowledgeBase

__all__ = [
    "InvalidInputError", "KBNotFoundError", "KnowledgeBase", "KnowledgeError", "LockTimeoutError", "Member",
    "NeutralityError", "NotFoundError", "PermissionDeniedError", "Post", "SyncError", "Thread", "open_kb",
    "show_threads",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "KnowledgeBase":
        from planeco_kernel.knowledge.kb import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)


def open_kb(path: Any = None) -> KnowledgeBase:
    """Open the knowledge base at ``path`` (default ``PLANECO_KB``, or the one containing ``path``)."""
    from planeco_kernel.knowledge.kb import KnowledgeBase

    return KnowledgeBase(path)


def show_threads(notebook_path: Any, kb: Any = None):
    """Show the threads of a notebook as a widget, with a form to ask or reply (JupyterLab).

    Parameters
    ----------
    notebook_path
        The notebook (absolute, or relative to the knowledge base); the knowledge base is the
        one containing it, else ``kb`` / ``PLANECO_KB``.
    """
    from planeco_kernel.knowledge.ui import NotebookThreads

    return NotebookThreads(notebook_path, kb=kb)
