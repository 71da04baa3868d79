"""Who is acting: from what the person cannot choose, matched against the member registry.

- Behind JupyterHub, the authenticated hub user: the member whose ``hub_user`` — or id — is that
  name. Nothing else counts there: a local git configuration or an option cannot override it.
  In the knowledge-base service (:mod:`planeco_kernel.hub.kb_service`, which performs every
  write of a hub) the name is the one the hub gives for the request's API token, set for that
  request with :func:`hub_session`; in a user's own server it is ``JUPYTERHUB_USER`` (set by the
  spawner, but the user can change it in their kernel: there it only decides what is *shown*,
  the service decides who *writes*).
- For a local install, the identity configured on the machine: the git identity
  (``user.email`` as git resolves it for the knowledge-base repository: repository, then user
  configuration) matched against members' e-mail addresses, else the operating-system account
  (from the process's user id, not from ``$USER``) matched against ``hub_user`` or the id.

``--as ID`` (:func:`acting`) never changes who *is* acting: only a moderator may act on behalf
of another member, the represented member's rights apply (never more than theirs), and the
record and its commit say who really acted (``acted_by`` and the commit's committer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from planeco_kernel.knowledge.errors import NotFoundError, PermissionDeniedError
from planeco_kernel.knowledge.model import Member

HUB_VARIABLE = "JUPYTERHUB_USER"

_SESSION_HUB_USER: ContextVar[str | None] = ContextVar("planeco_session_hub_user", default=None)


def hub_user() -> str | None:
    """The JupyterHub user acting: the one of :func:`hub_session`, else ``JUPYTERHUB_USER``; None outside JupyterHub."""
    return _SESSION_HUB_USER.get() or os.environ.get(HUB_VARIABLE) or None


def session_hub_user() -> str | None:
    """The hub user of the current :func:`hub_session` (a request of the hub service), else None."""
    return _SESSION_HUB_USER.get()


@contextmanager
def hub_session(name: str) -> Iterator[None]:
    """Act as the hub user ``name`` (the one the hub identified for a request) inside this block.

    Used by the knowledge-base service for each request; the environment is not consulted meanwhile.
    """
    if not name:
        raise ValueError("hub_session needs the hub user's name")
    token = _SESSION_HUB_USER.set(name)
    try:
        yield
    finally:
        _SESSION_HUB_USER.reset(token)


def os_login() -> str:
    """The operating-system account running this process (from the uid, not ``$USER``)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return ""


def git_email(root: Path) -> str:
    """``user.email`` as git resolves it for the repository at ``root`` ('' if none)."""
    from dulwich.repo import Repo

    try:
        with Repo(str(root)) as repo:
            return repo.get_config_stack().get((b"user",), b"email").decode().strip()
    except (KeyError, OSError, UnicodeDecodeError):
        return ""


def member_email(m: Member) -> str:
    """The e-mail planeco writes in the commits of ``m`` (their own, or a placeholder)."""
    return (m.email or f"{m.id}@membres.planeco.invalid").lower()


def member_for_hub_user(name: str, members: Mapping[str, Member]) -> Member | None:
    """The member whose ``hub_user`` is ``name`` (or, for members without one, whose id is), else None."""
    for m in members.values():
        if m.hub_user and m.hub_user == name:
            return m
    m = members.get(name.lower())
    return m if m is not None and not m.hub_user else None


def session_member(root: Path, members: Mapping[str, Member]) -> Member:
    """The member acting in this session (see the module docstring for the rules).

    Raises
    ------
    NotFoundError
        When the hub user or the local identity matches no member (the message says how to register).
    """
    hub = hub_user()
    if hub:
        m = member_for_hub_user(hub, members)
        if m is not None:
            return m
        raise NotFoundError(
            f"L'utilisateur JupyterHub « {hub} » n'est pas membre de la base de connaissances. "
            "Demandez à un·e modérateur·rice de vous inscrire (`planeco kb members add … --hub-user NOM`)."
        )
    email = git_email(root).lower()
    if email:
        for m in members.values():
            if member_email(m) == email:
                return m
    login = os_login()
    for m in members.values():
        if login and (m.hub_user == login or (not m.hub_user and m.id == login)):
            return m
    raise NotFoundError(
        f"Identité inconnue : ni l'adresse git « {email or 'non configurée'} » ni le compte « {login} » ne "
        "correspondent à un membre. Configurez votre adresse (`git config user.email ADRESSE`, celle de votre fiche "
        "de membre) ou demandez à un·e modérateur·rice de vous inscrire."
    )


def acting(session: Member, on_behalf_of: Member | None) -> tuple[Member, Member | None]:
    """``(member whose rights apply, moderator acting on their behalf or None)``.

    Raises
    ------
    PermissionDeniedError
        When a non-moderator tries to act as someone else.
    """
    if on_behalf_of is None or on_behalf_of.id == session.id:
        return session, None
    if not (session.moderator and session.active):
        raise PermissionDeniedError(
            f"Vous agissez en tant que « {session.id} » : seul·es les modérateur·rices peuvent agir au nom d'un "
            f"autre membre (« {on_behalf_of.id} »), et c'est alors enregistré comme tel."
        )
    return on_behalf_of, session
