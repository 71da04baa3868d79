"""The knowledge base ``make run`` creates on first start, so that « Échanges » works on a laptop.

When no knowledge base exists at the configured location (``PLANECO_KB``, else the per-user
default), :func:`ensure_local_kb` creates one whose administrator (and moderator) is the person
who ran the command, named from what the machine already knows: git's ``user.name`` /
``user.email``, else the operating-system account. The gallery says so on screen
(:func:`local_notice`), with the command to change the role or add members.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROLE = "agent"
"""Role of the auto-created administrator: the person setting planeco up is taken as staff."""


@dataclass(frozen=True)
class LocalAdmin:
    """Who runs ``make run``, from git's identity or the OS account."""

    id: str
    name: str
    email: str
    source: str  # "git" or "système"
    login: str = ""
    """The OS account; recorded as ``hub_user`` when the member id had to differ from it."""


def _git_config(key: str) -> str:
    try:
        out = subprocess.run(["git", "config", "--get", key], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9._-]+", ".", ascii_).strip("._-")
    return s[:64].strip("._-")


def local_admin() -> LocalAdmin:
    """The person at the machine: the OS account (from the process's uid), git's name and e-mail when configured.

    These are what :mod:`planeco_kernel.knowledge.identity` recognises on this machine later on
    (git ``user.email``, else the OS account), so the administrator created here is who the
    person *is* in the knowledge base, not a name they typed.
    """
    from planeco_kernel.knowledge.identity import os_login

    account = os_login() or "admin"
    git_name, git_mail = _git_config("user.name"), _git_config("user.email")
    if git_name:
        return LocalAdmin(_slug(account) or "admin", git_name, git_mail, "git", account)
    return LocalAdmin(_slug(account) or "admin", account, "", "système", account)


def ensure_local_kb(path: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Open the local knowledge base, creating it (administrator = :func:`local_admin`) if absent.

    Returns
    -------
    (root, created)
        The knowledge-base root and whether it was created now.
    """
    from planeco_kernel.knowledge.kb import KnowledgeBase
    from planeco_kernel.knowledge.location import default_kb_dir, find_root
    from planeco_kernel.knowledge.model import Member

    where = Path(path).expanduser().resolve() if path is not None else default_kb_dir()
    found = find_root(where)
    if found is not None:
        return found, False
    who = local_admin()
    hub_user = who.login if who.login and who.login != who.id else ""  # the identity API matches the OS account
    kb = KnowledgeBase.init(where, Member(who.id, who.name, DEFAULT_ROLE, email=who.email, hub_user=hub_user),
                            name="Base locale planeco")
    return kb.root, True


def local_notice():
    """The gallery's line about the local knowledge base and who writes in it (``None`` if there is none)."""
    from planeco_kernel.apps.gallery import GalleryNotice
    from planeco_kernel.knowledge.errors import KnowledgeError
    from planeco_kernel.knowledge.kb import KnowledgeBase
    from planeco_kernel.knowledge.model import ROLES

    try:
        kb = KnowledgeBase()
        me = kb.identity()
    except KnowledgeError as exc:
        return GalleryNotice(f"Échanges en lecture seule : {exc}")
    admin = " et modérateur·rice" if me.moderator else ""
    return GalleryNotice(
        f"Utilisation locale : vous êtes « {me.name} » ({ROLES.get(me.role, me.role)}{admin}) dans la base "
        f"d'échanges {kb.root}. Changez de rôle ou inscrivez d'autres membres avec `planeco kb members`."
    )
