"""``planeco kb check``: everything a moderator should look at, one French line per problem.

- each illegitimate change found by :mod:`~.integrity` (commit, file, reason), including a
  rewritten history;
- a git index that does not match ``HEAD`` for the knowledge base's files (a plain
  ``git commit`` made now would delete or change posts), and a commit whose working-tree or
  index update is still pending;
- symbolic links in the post tree (``discussions/``, ``members/``, ``documents/``, ``*.threads``);
- ``git fsck`` errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from planeco_kernel.knowledge import integrity
from planeco_kernel.knowledge.gitstore import _git_env, _journal

TREES = ("discussions", "members", "documents")


def stale_index(root: Path) -> list[str]:
    """Knowledge-base files whose staged version differs from ``HEAD`` (``D path``, ``M path``)."""
    git = shutil.which("git")
    if not git:
        return []
    r = subprocess.run([git, "diff-index", "--cached", "--name-status", "--no-renames", "HEAD", "--"], cwd=root,
                       capture_output=True, text=True, env=_git_env())  # fmt: skip
    out = []
    for line in r.stdout.splitlines():
        status, _, path = line.partition("\t")
        if status in ("D", "M") and integrity.managed(path):
            out.append(f"{status} {path}")
    return out


def links(root: Path) -> list[str]:
    """Symbolic links in the post tree of the working tree (relative paths)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        in_tree = rel.parts[:1] and (rel.parts[0] in TREES or any(p.endswith(".threads") for p in rel.parts))
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            if full.is_symlink() and (in_tree or name in TREES or name.endswith(".threads")):
                found.append(str(rel / name))
    return sorted(found)


def check(root: Path) -> list[str]:
    """Problems of the knowledge base at ``root`` (French, one per line); empty when all is well."""
    problems: list[str] = []
    v = integrity.verify(root)
    for f in v.open_findings:
        problems.append(f"Changement illégitime, mis en quarantaine — {f}")
    stale = stale_index(root)
    if stale:
        problems.append(
            f"Index git périmé : un `git commit` ordinaire supprimerait ou modifierait {len(stale)} fichier(s) de la base "
            f"({', '.join(stale[:5])}{' …' if len(stale) > 5 else ''}). Réparez avec `git reset -q -- .` "
            "ou en rouvrant la base avec planeco."
        )
    if _journal(root).exists():
        problems.append("Un envoi interrompu attend d'être terminé (index ou copie de travail) : il le sera au prochain envoi.")
    for p in links(root):
        problems.append(f"{p} : lien symbolique dans l'arborescence des messages ; supprimez-le.")
    git = shutil.which("git")
    if git:
        r = subprocess.run([git, "fsck", "--no-dangling"], cwd=root, capture_output=True, text=True, env=_git_env())
        if r.returncode != 0:
            problems.append("git fsck : " + (r.stderr or r.stdout).strip()[:500])
    return problems
