"""Declared identity of the files the build reads: a file that differs is refused.

Every mirror file (and every download whose checksum the registry knows) has a declared sha256
in the source registry (``files:`` of its entry in ``sources/registry.yaml``), as a checksummed
data registry does. :func:`verify` is called by the fetch layer on every file it hands out:

- same bytes: recorded as verified;
- different bytes: :class:`IdentityError` (French, naming the file, the source and the release)
  — a file cut at a line boundary, re-encoded or re-saved by a spreadsheet reads as a plausible
  CSV, and only its identity tells;
- different bytes under :func:`policy` ``(accept_editions=True)`` (``planeco data build
  --accept-edition``): accepted as a *different edition*, and recorded (:attr:`Policy.editions`)
  so that the build writes it into ``manifest.json``.

A file without a declared identity (a newer edition downloaded from the publisher) is accepted
and its sha256 recorded by the build with the source.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planeco_kernel.errors import ChecksumError


class IdentityError(ChecksumError):
    """A file the build reads differs from the identity the source registry declares for it."""


@dataclass
class Policy:
    """What the current build accepts, and what it saw."""

    accept_editions: bool = False
    editions: list[dict[str, Any]] = field(default_factory=list)
    """Files accepted as a different edition: ``{"source", "file", "release", "declared_sha256", "sha256"}``."""
    verified: list[dict[str, Any]] = field(default_factory=list)
    """Files whose bytes match their declared identity: ``{"source", "file", "sha256"}``."""


_POLICY: contextvars.ContextVar[Policy | None] = contextvars.ContextVar("planeco_identity_policy", default=None)


@contextlib.contextmanager
def policy(*, accept_editions: bool = False) -> Iterator[Policy]:
    """Collect the identities checked while the block runs (one build)."""
    pol = Policy(accept_editions=accept_editions)
    token = _POLICY.set(pol)
    try:
        yield pol
    finally:
        _POLICY.reset(token)


def declared_identity(key: str) -> tuple[str, Any] | None:
    """``(source id, file entry)`` the registry declares for a mirror-relative path or URL, or ``None``.

    The entry has ``sha256`` and ``release`` attributes (:class:`~planeco_kernel.sources.catalog.FileIdentity`).
    Reads the registry directly (the fetch layer calls this; the catalogue builds on the fetch layer).
    """
    from types import SimpleNamespace

    from planeco_kernel.sources import registry

    for sid, entry in registry().items():
        if not isinstance(entry, dict):
            continue
        for f in entry.get("files") or []:
            if key in (f.get("path"), f.get("url")):
                return sid, SimpleNamespace(key=key, sha256=str(f["sha256"]), release=str(f.get("release", "")))
    return None


def verify(key: str, sha256: str, *, where: str | None = None) -> None:
    """Check the bytes' ``sha256`` of the file known as ``key`` (mirror-relative path or URL).

    Raises
    ------
    IdentityError
        The registry declares another sha256 for ``key`` and no :func:`policy` accepts editions.
    """
    declared = declared_identity(key)
    if declared is None:
        return
    sid, ident = declared
    pol = _POLICY.get()
    if sha256 == ident.sha256:
        if pol is not None:
            pol.verified.append({"source": sid, "file": key, "sha256": sha256})
        return
    entry = {"source": sid, "file": key, "release": ident.release, "declared_sha256": ident.sha256, "sha256": sha256}
    if pol is not None and pol.accept_editions:
        if entry not in pol.editions:
            pol.editions.append(entry)
        return
    raise IdentityError(
        f"{where or key} : le fichier diffère de celui que déclare le registre des sources (source {sid}, "
        f"édition {ident.release or '?'}) : sha256 {sha256[:16]}… au lieu de {ident.sha256[:16]}…. "
        "Il est peut-être tronqué, réencodé ou réenregistré par un tableur ; ou c'est une autre édition. "
        "Rien n'a été modifié : le paquet de données existant reste utilisé. Remplacez le fichier par "
        "l'original, ou, s'il s'agit d'une nouvelle édition voulue, relancez `planeco data build "
        "--accept-edition` (elle sera enregistrée dans manifest.json, rubrique editions)."
    )
