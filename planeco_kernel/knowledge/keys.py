"""Signing keys and the signature policy, as façade methods (a mixin of the knowledge base).

``set_signing_key``: a member's SSH public key on their registry entry (a moderator for anyone,
a member for themself: a new entry that changes nothing else). ``configure``: the marker's
settings ``signatures`` and ``service_key`` (moderators). See :mod:`~.signing` for what they mean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planeco_kernel.knowledge import integrity, model, records, remote, rules, signing
from planeco_kernel.knowledge.errors import InvalidInputError
from planeco_kernel.knowledge.location import MARKER
from planeco_kernel.knowledge.model import Member


class Keys:
    """Key registry and signature settings (mixin of :class:`~planeco_kernel.knowledge.kb.KnowledgeBase`)."""

    root: Path

    def signature_settings(self) -> dict[str, str]:
        """``{"signatures": "optional"|"required", "service_key": "ssh-ed25519 …" or ""}`` (legitimate marker)."""
        return dict(integrity.verify(self.root).settings)

    @remote.through_service
    def set_signing_key(self, member_id: str, key: str, *, actor: str, acted_by: str | None = None) -> Member:
        """Record ``key`` (an SSH public key, '' to remove it) as the signing key of ``member_id``.

        A moderator may set anyone's key; a member only their own.

        Raises
        ------
        InvalidInputError, PermissionDeniedError, NotFoundError
        """
        who, by = self._acting(actor, acted_by)  # type: ignore[attr-defined]
        target = self.member(member_id)  # type: ignore[attr-defined]
        if target.id != who.id:
            rules.require_moderator(who, "changer la clé de signature d'un autre membre")
        else:
            rules.require_active(who)
        updated = Member(**{**target.to_dict(), "signing_key": signing.public_key(key)})
        created = model.now_utc()
        path = records.member_path(target.id, created)
        what = "clé retirée" if not updated.signing_key else signing.fingerprint(updated.signing_key)
        self._write(who, path, records.member_record(updated, created, by=who.id),  # type: ignore[attr-defined]
                    f"members: clé de signature de {target.id} ({what})\n\nPlaneco-Member: {who.id}\n", by=by)  # fmt: skip
        return updated

    @remote.through_service
    def configure(self, *, actor: str, signatures: str | None = None, service_key: str | None = None,
                  acted_by: str | None = None) -> str:  # fmt: skip
        """Change the base's settings in its marker (moderators); return the new policy.

        ``signatures``: ``optional`` or ``required``; ``service_key``: the hub service's public key ('' removes it).
        """
        from dulwich.repo import Repo

        from planeco_kernel.knowledge.gitstore import locked

        who, by = self._acting(actor, acted_by)  # type: ignore[attr-defined]
        rules.require_moderator(who, "changer les réglages de la base")
        if signatures is not None and signatures not in signing.POLICIES:
            raise InvalidInputError(f"Réglage « signatures » inconnu « {signatures} » : {' ou '.join(signing.POLICIES)}.")
        new: dict[str, Any] = {}
        if signatures is not None:
            new["signatures"] = signatures
        if service_key is not None:
            new["service_key"] = signing.public_key(service_key)
        if not new:
            raise InvalidInputError("Rien à changer : donnez --signatures et/ou --service-key.")
        with locked(self.root):
            with Repo(str(self.root)) as repo:
                from dulwich.object_store import tree_lookup_path

                _mode, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, MARKER.encode())
                text = repo[sha].as_raw_string().decode("utf-8")
            data = _marker_with(text, new)
            summary = ", ".join(f"{k}={v[:24] + '…' if len(v) > 24 else v}" for k, v in new.items())
            self._write_locked(who, {MARKER: data}, f"kb: réglages ({summary})\n\nPlaneco-Member: {who.id}\n",  # type: ignore[attr-defined]
                               by=by, overwrite=True)  # fmt: skip
        return str(new.get("signatures") or self.signature_settings()["signatures"])


def _marker_with(text: str, new: dict[str, str]) -> bytes:
    """The marker's text with the lines of ``new``'s keys replaced or added (other lines kept as they are)."""
    lines = [ln for ln in text.splitlines() if ln.split(":", 1)[0].strip() not in new]
    lines += [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in new.items()]
    return ("\n".join(lines) + "\n").encode("utf-8")
