"""Threads about notebooks: sidecar folders, the notebook's author, questions to them.

A mixin of :class:`planeco_kernel.knowledge.kb.KnowledgeBase`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import identity, model
from planeco_kernel.knowledge.errors import InvalidInputError
from planeco_kernel.knowledge.model import Post, Thread


class Notebooks:
    """Notebook anchors (mixin of the façade)."""

    root: Path

    def notebook_threads(self, notebook: str | os.PathLike, viewer: str | None = None) -> list[Thread]:
        """Threads anchored to a notebook (path absolute or relative to the knowledge base)."""
        return self.threads(viewer, anchor="notebook:" + self.notebook_key(notebook))

    def notebook_key(self, notebook: str | os.PathLike) -> str:
        """The notebook's path relative to the knowledge base, validated."""
        p = Path(notebook)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(self.root)
            except ValueError:
                raise InvalidInputError(
                    f"Le notebook {notebook} n'est pas dans la base de connaissances {self.root}."
                ) from None
        return model.notebook_path(p.as_posix())

    def notebook_author(self, notebook: str | os.PathLike) -> str | None:
        """Member id of a notebook's author: notebook metadata ``planeco.author``, else the
        e-mail of the last commit that changed it matched against the registry."""
        key = self.notebook_key(notebook)
        members = self._partial().members
        try:
            meta = json.loads((self.root / key).read_text("utf-8")).get("metadata", {})
            author = (meta.get("planeco") or {}).get("author")
            if author and author in members:
                return author
        except (OSError, ValueError, AttributeError):
            pass
        from dulwich.repo import Repo

        emails = {identity.member_email(m): m.id for m in members.values()}
        with Repo(str(self.root)) as repo:
            for entry in repo.get_walker(paths=[key.encode()], max_entries=1):
                mail = entry.commit.author.split(b"<")[-1].rstrip(b">").decode().lower()
                return emails.get(mail)
        return None

    def ask_notebook_author(self, author: str, notebook: str | os.PathLike, *, title: str, body: str, **kw: Any) -> Post:
        """Ask a question to the author of a notebook (a ``question`` thread in its sidecar folder)."""
        key = self.notebook_key(notebook)
        target = self.notebook_author(key)
        to = list(kw.pop("addressed_to", ())) or ([target] if target else [])
        return self.start_thread(author, kind="question", title=title, body=body, anchor=f"notebook:{key}", addressed_to=to, **kw)

    def _check_notebook(self, key: str) -> None:
        full = (self.root / key).resolve()
        try:
            full.relative_to(self.root)
        except ValueError:
            raise InvalidInputError(f"Le notebook « {key} » sort de la base de connaissances (lien symbolique ?).") from None
        if not full.is_file():
            raise InvalidInputError(f"Le notebook « {key} » n'existe pas dans la base de connaissances {self.root}.")
