"""Synchronise two copies of a knowledge base (between territories) with the git CLI.

Posts are separate, never-rewritten files with random ids, so a merge of concurrent posts on
both sides never conflicts. ``sync`` holds the writer lock, fetches the remote branch,
**verifies** what it received (:mod:`~.integrity`: authorship against commits, rights, no
rewritten history), merges it (fast-forward or a merge commit by the syncing member), then
pushes; if the remote moved in between, it fetches and merges again (a few times) before giving
up with a clear error.

Incoming history with an illegitimate change is not merged at all: it is kept under
``refs/planeco/quarantine/<commit>`` with a report in ``.git/planeco-kb/quarantine/`` and the
sync fails with the list of findings. A remote whose branch no longer contains what we received
from it before (its history was rewritten) is refused the same way.

The other copy may be a bare repository (a shared hub), a URL, or another working copy on this
machine (two ``planeco kb init --from`` copies): git refuses to push into the checked-out
branch of a working copy, so for a local copy the other side pulls from us under its own lock
instead; for a remote working copy the error explains to go through a bare repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from planeco_kernel.atomic import atomic_write
from planeco_kernel.knowledge import integrity
from planeco_kernel.knowledge.errors import InvalidInputError, SyncError
from planeco_kernel.knowledge.gitstore import head_sha, locked, state_dir
from planeco_kernel.knowledge.location import MARKER

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


def _local_copy(remote: str) -> Path | None:
    """The root of a knowledge-base *working copy* on this machine named by ``remote``, else None."""
    p = Path(remote)
    if p.is_dir() and (p / ".git").is_dir() and (p / MARKER).is_file():
        return p.resolve()
    return None


def _remotes_file(root: Path) -> Path:
    return state_dir(root) / "remotes.json"


def _check_incoming(root: Path, remote: str, theirs: str) -> None:
    """Refuse (and quarantine) incoming history that rewrites what we had from ``remote`` or breaks the rules."""
    from dulwich.graph import can_fast_forward
    from dulwich.repo import Repo

    try:
        seen = json.loads(_remotes_file(root).read_text("utf-8"))
    except (OSError, ValueError):
        seen = {}
    ours = integrity.verify(root)
    with Repo(str(root)) as repo:
        last = seen.get(remote)
        if last and last != theirs:
            try:
                kept = can_fast_forward(repo, last.encode(), theirs.encode())
            except KeyError:
                kept = False
            if not kept:
                _quarantine(root, remote, theirs, [f"historique réécrit : la branche de {remote} ne contient plus le commit "
                                                   f"{last[:10]} reçu lors d'une synchronisation précédente"])  # fmt: skip
        v = integrity.verify_from(repo, ours, theirs, incoming=True)  # only the commits we do not have
    known = {(f.commit, f.path, f.reason) for f in ours.findings}
    new = [str(f) for f in v.open_findings if (f.commit, f.path, f.reason) not in known]
    if new:
        _quarantine(root, remote, theirs, new)
    _remember(root, remote, theirs)


def _remember(root: Path, remote: str, sha: str) -> None:
    """Note the commit ``remote``'s branch is known to contain (received from it, or pushed to it)."""
    try:
        seen = json.loads(_remotes_file(root).read_text("utf-8"))
    except (OSError, ValueError):
        seen = {}
    seen[remote] = sha
    atomic_write(_remotes_file(root), json.dumps(seen))


def _quarantine(root: Path, remote: str, theirs: str, findings: list[str]) -> None:
    _git(root, "update-ref", f"refs/planeco/quarantine/{theirs[:12]}", theirs, check=False)
    folder = state_dir(root) / "quarantine"
    folder.mkdir(exist_ok=True)
    report = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{theirs[:12]}.txt"
    report.write_text(
        f"Synchronisation refusée depuis {remote} (commit {theirs}).\n"
        f"Historique reçu conservé sous refs/planeco/quarantine/{theirs[:12]}, non fusionné.\n\n" + "\n".join(findings) + "\n",
        "utf-8",
    )
    shown = "\n  ".join(findings[:10]) + (f"\n  … et {len(findings) - 10} autre(s)" if len(findings) > 10 else "")
    raise SyncError(
        f"Synchronisation refusée : l'historique reçu de {remote} contient {len(findings)} changement(s) illégitime(s) :\n  "
        f"{shown}\nRien n'a été fusionné. Il est mis en quarantaine (refs/planeco/quarantine/{theirs[:12]}) ; "
        f"rapport : {report}. Demandez à la copie d'origine de corriger (`planeco kb check`)."
    )


def sync(root: Path, remote: str, *, name: str, email: str, attempts: int = 5, push: bool = True) -> SyncResult:
    """Pull posts from ``remote`` (bare repository, local working copy or URL), verify, merge, and push ours.

    Raises
    ------
    SyncError
        If git fails (unreachable remote, real conflict on a file edited outside planeco), if
        the incoming history breaks the integrity rules (it is quarantined), or if the remote
        is a working copy git cannot push into.
    """
    remote = _check_remote(remote)
    env = _identity_env(name, email)
    local = _local_copy(remote)
    if local is not None and local == root.resolve():
        raise InvalidInputError("Une copie ne se synchronise pas avec elle-même : donnez l'autre copie ou le dépôt commun.")
    with locked(root):
        branch = _git(root, "symbolic-ref", "--short", "HEAD").stdout.strip()
        before = head_sha(root).decode()
        received = 0
        merged = False
        for _ in range(attempts):
            fetched = _git(root, "fetch", "--quiet", "--", remote, branch, check=False)
            if fetched.returncode == 0:
                theirs = _git(root, "rev-parse", "FETCH_HEAD").stdout.strip()
                _check_incoming(root, remote, theirs)
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
            if not push:
                return SyncResult(received=received, merged=merged, pushed=False, head=head_sha(root).decode())
            if local is not None:
                # git refuses to push into a working copy's checked-out branch: the other copy pulls from us
                sync(local, str(root), name=name, email=email, attempts=attempts, push=False)
                _remember(root, remote, head_sha(root).decode())
                return SyncResult(received=received, merged=merged, pushed=True, head=head_sha(root).decode())
            pushed = _git(root, "push", "--quiet", "--", remote, f"HEAD:refs/heads/{branch}", check=False)
            if pushed.returncode == 0:
                _remember(root, remote, head_sha(root).decode())
                return SyncResult(received=received, merged=merged, pushed=True, head=head_sha(root).decode())
            err = pushed.stderr or ""
            if "checked out" in err or "refusing to update" in err:
                raise SyncError(
                    f"{remote} est une copie de travail (dépôt non nu) : git refuse d'y modifier la branche en cours. "
                    "Synchronisez les copies à travers un dépôt nu commun (`git init --bare commun.git`, puis "
                    "`planeco kb sync commun.git` depuis chaque copie) ; une copie sur cette machine peut aussi être "
                    "donnée par son dossier."
                )
            if "rejected" not in err and "fetch first" not in err and "non-fast-forward" not in err:
                raise SyncError(f"Envoi vers {remote} impossible : {err.strip()[:500]}")
        raise SyncError(f"Le dépôt {remote} change trop vite : relancez `planeco kb sync` dans un instant.")
