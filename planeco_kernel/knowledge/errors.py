"""Errors of the knowledge base; every message says what is wrong and how to fix it (French)."""

from __future__ import annotations

from planeco_kernel.errors import PlanecoError


class KnowledgeError(PlanecoError):
    """Base class of knowledge-base errors."""


class KBNotFoundError(KnowledgeError):
    """No knowledge base at the given location."""


class InvalidInputError(KnowledgeError, ValueError):
    """An id, path, field or size limit is violated (hostile or mistaken input)."""


class NotFoundError(KnowledgeError, LookupError):
    """A thread, post or member does not exist."""


class PermissionDeniedError(KnowledgeError, PermissionError):
    """The acting member may not do this (role, moderation, audience)."""


class NeutralityError(PermissionDeniedError):
    """A neutrality rule refuses the post (companies, consultancies, commercial solicitation)."""


class LockTimeoutError(KnowledgeError, TimeoutError):
    """The knowledge base stayed locked by another writer for too long."""


class SyncError(KnowledgeError):
    """Pulling from or pushing to another copy of the knowledge base failed."""
