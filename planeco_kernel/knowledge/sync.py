"""Synchronise two copies of a knowledge base (between territories) with the git CLI.

Posts are separate, never-rewritten files with random ids, so a merge of concurrent posts on
both sides never conflicts. ``sync`` holds the writer lock, fetches the remote branch, merges
it (fast-forward or a merge commit by the syncing member), then pushes; if the remote moved in
between, it fetches and merges again (a few times) before giving up with a clear error.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from planeco_kernel.knowledge.errors import InvalidInputError, SyncError
from planeco_kernel.knowledge.gitstore import head_sha, locked

_SAFE = ["-c", "protocol.ext.allow=never", "-c", "core.hooksPath=/dev/null"]


@dataclass
class SyncResult:
    """What a sync did: commits received, whether a merge commit was made, whether we pushed."""

    received: int
    merged: bool
    pushed: bool
    head: str


def _check_remote(remote: str) -> str:
    if not remote or remote.startswith("-") or "\n" in remote or remote.startswith("ext::"):
        raise InvalidInputError(f"Dépôt distant invalide : {remote[:60]!r}. Donnez un chemin de dépôt ou une URL.")
    p = Path(remote).expanduser()
    return str(p.resolve()) if p.exists() else remote


def _git(root: Path | None, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["git", *_SAFE, *args]
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    r = subprocess.run(cmd, cwd=root, env=full_env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SyncError(f"La commande git {' '.join(args[:2])} a échoué : {(r.stderr or r.stdout).strip()[:500]}")
    return r


def _identity_env(name: str, email: str) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def clone(remote: str, dest: Path) -> None:
    """Clone a knowledge base from ``remote`` into ``dest``."""
    remote = _check_remote(remote)
    if dest.exists() and any(dest.iterdir()):
        raise InvalidInputError(f"Le dossier {dest} n'est pas vide : choisissez un dossier nouveau pour la copie.")
    _git(None, "clone", "--quiet", "--no-checkout", "--", remote, str(dest))
    branches = [b.strip() for b in _git(dest, "branch", "-r", "--format=%(refname:short)").stdout.split()]
    branches = [b for b in branches if b.startswith("origin/") and b != "origin/HEAD"]
    if not branches:
        raise SyncError(f"Le dépôt {remote} est vide : synchronisez d'abord une base existante vers lui (`planeco kb sync`).")
    pick = "origin/main" if "origin/main" in branches else branches[0]
    _git(dest, "checkout", "--quiet", "-B", pick.split("/", 1)[1], pick)


def sync(root: Path, remote: str, *, name: str, email: str, attempts: int = 5) -> SyncResult:
    """Pull posts from ``remote`` (bare repository path or URL), merge, and push ours.

    Raises
    ------
    SyncError
        If git fails (unreachable remote, real conflict on a file edited outside planeco).
    """
    remote = _check_remote(remote)
    env = _identity_env(name, email)
    with locked(root):
        branch = _git(root, "symbolic-ref", "--short", "HEAD").stdout.strip()
        before = head_sha(root).decode()
        received = 0
        merged = False
        for _ in range(attempts):
            fetched = _git(root, "fetch", "--quiet", "--", remote, branch, check=False)
            if fetched.returncode == 0:
                theirs = _git(root, "rev-parse", "FETCH_HEAD").stdout.strip()
                received += int(_git(root, "rev-list", "--count", f"HEAD..{theirs}").stdout.strip() or 0)
                m = _git(root, "merge", "--no-edit", "-m", f"sync: fusion depuis {remote}", theirs, env=env, check=False)
                if m.returncode != 0:
                    conflicts = _git(root, "diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
                    _git(root, "merge", "--abort", check=False)
                    detail = ", ".join(conflicts[:10]) or (m.stderr or m.stdout).strip()[:400]
                    raise SyncError(
                        f"Fusion impossible ({detail}) : des fichiers ont été modifiés des deux côtés hors de planeco, "
                        f"ou des modifications locales non validées la bloquent. Réglez-le avec git dans {root} "
                        "puis relancez `planeco kb sync`."
                    )
                merged = merged or _git(root, "rev-list", "--count", "--merges", f"{before}..HEAD").stdout.strip() not in ("", "0")
            elif "couldn't find remote ref" not in (fetched.stderr or "") and "could not find remote ref" not in (fetched.stderr or "").lower():
                raise SyncError(f"Impossible de récupérer {remote} : {(fetched.stderr or '').strip()[:500]}")
            pushed = _git(root, "push", "--quiet", "--", remote, f"HEAD:refs/heads/{branch}", check=False)
            if pushed.returncode == 0:
                return SyncResult(received=received, merged=merged, pushed=True, head=head_sha(root).decode())
            err = pushed.stderr or ""
            if "rejected" not in err and "fetch first" not in err and "non-fast-forward" not in err:
                raise SyncError(f"Envoi vers {remote} impossible : {err.strip()[:500]}")
        raise SyncError(f"Le dépôt {remote} change trop vite : relancez `planeco kb sync` dans un instant.")
