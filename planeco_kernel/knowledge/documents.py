"""Documents kept in the knowledge base (``documents/…``): saved as the session's identity, owned by their creator.

A mixin of :class:`planeco_kernel.knowledge.kb.KnowledgeBase`. The integrity rules
(:mod:`~.integrity`) check every commit that touches a document: added by a member, changed
or removed only by its owner or a moderator.
"""

from __future__ import annotations

from pathlib import Path

from planeco_kernel.knowledge import integrity, model, records, remote, rules
from planeco_kernel.knowledge.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from planeco_kernel.knowledge.gitstore import locked


class Documents:
    """Saving and reading documents (mixin of the façade)."""

    root: Path

    def save_document(self, path: str, text: str, message: str, *, author: str | None = None) -> str:
        """Commit a document (``documents/…``) as ``author`` (default: the session's identity); return the commit sha.

        The public way for other parts of planeco to keep a file in the knowledge base (e.g. a
        self-assessment's answers as YAML). The first member who saves a path owns it; only its
        owner or a moderator may change it afterwards (checked here and by :mod:`~.integrity`).
        Validating the content is the caller's job; the size limit is 1 Mio.

        Raises
        ------
        InvalidInputError, PermissionDeniedError
        """
        return self.save_documents({path: text}, message, author=author)

    @remote.through_service
    def save_documents(self, texts: dict[str, str], message: str, *, author: str | None = None) -> str:
        """Commit several documents at once (one commit, all or nothing) as :meth:`save_document` does one.

        Every path is validated and every ownership checked before anything is written.

        Raises
        ------
        InvalidInputError, PermissionDeniedError
        """
        files = {records.document_path(p): records.document_bytes(t) for p, t in texts.items()}
        if not files:
            raise InvalidInputError("Aucun document à enregistrer.")
        who, by = self._acting(author or self.identity().id, None)
        rules.require_active(who)
        message = model.text(message, "Le message de commit", model.MAX_TITLE_CHARS)
        with locked(self.root):
            owners = integrity.verify(self.root).owners
            for path in sorted(files):
                owner = owners.get(path)
                if owner and owner != who.id and not who.moderator:
                    raise PermissionDeniedError(
                        f"Le document {path} appartient à « {owner} » : seul·e son auteur·rice ou un·e modérateur·rice le modifie."
                    )
            trailer = "".join(f"Planeco-Document: {p}\n" for p in sorted(files))
            return self._write_locked(who, files, f"{message}\n\nPlaneco-Member: {who.id}\n{trailer}", by=by, overwrite=True)

    def read_document(self, path: str) -> str:
        """The text of a document at ``HEAD`` (its last legitimate version).

        Raises
        ------
        NotFoundError
        """
        from dulwich.object_store import tree_lookup_path
        from dulwich.repo import Repo

        path = records.document_path(path)
        v = integrity.verify(self.root)
        with Repo(str(self.root)) as repo:
            if path in v.restore:
                return repo[v.restore[path].encode()].as_raw_string().decode("utf-8")
            try:
                if path in v.exclude:
                    raise KeyError(path)
                _mode, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, path.encode())
            except (KeyError, NotADirectoryError):
                raise NotFoundError(f"Document inconnu : {path}.") from None
            return repo[sha].as_raw_string().decode("utf-8")

    def documents(self, prefix: str = "documents/") -> dict[str, str]:
        """Documents under ``prefix`` with their owners (``{path: member id}``)."""
        return {p: o for p, o in sorted(integrity.verify(self.root).owners.items()) if p.startswith(prefix)}
