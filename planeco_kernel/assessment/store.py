"""Storage of assessments and action sheets as files in the knowledge-base repository.

Every save is one commit whose author is the knowledge base's current identity
(:meth:`KnowledgeBase.identity`: ``JUPYTERHUB_USER`` matched against the member registry, else
the local identity) — never a name passed by the caller. History is git history.

This is the one module that writes engagement documents into the knowledge base; it uses the
knowledge base's public git store (:func:`~planeco_kernel.knowledge.gitstore.locked` and
:func:`~planeco_kernel.knowledge.gitstore.commit_files`), so it can switch to a
``KnowledgeBase`` method committing an arbitrary validated document when one exists.

Layout (beside the knowledge base's own records)::

    engagement/evaluations/<member id>/<year>.yaml   one actor's assessment for one year
    engagement/actions/<action id>.yaml              one action sheet (in one or several plans)

Reading goes through the tree at ``HEAD`` (the only source of truth), never the working tree.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from planeco_kernel.assessment.answers import Assessment, parse_assessment
from planeco_kernel.assessment.referentiel import Referentiel
from planeco_kernel.assessment.yamldoc import DocumentError

if TYPE_CHECKING:
    from planeco_kernel.knowledge import KnowledgeBase, Member

EVALUATIONS_DIR = "engagement/evaluations"
ACTIONS_DIR = "engagement/actions"
_SAFE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")


@dataclass(frozen=True)
class Revision:
    """One commit that changed a stored document."""

    sha: str
    time: dt.datetime
    author: str
    message: str


def identity(kb: KnowledgeBase) -> Member:
    """The member acting now (the knowledge base's identity; raises if unknown)."""
    return kb.identity()


def commit(kb: KnowledgeBase, files: dict[str, bytes], message: str) -> str:
    """Commit ``files`` (paths relative to the knowledge base) as the current identity; return the sha."""
    from planeco_kernel.knowledge import cache
    from planeco_kernel.knowledge.gitstore import commit_files, head_sha, locked

    who = identity(kb)
    trailer = f"\n\nPlaneco-Member: {who.id}\n" + "".join(f"Planeco-Document: {p}\n" for p in sorted(files))
    with locked(kb.root):
        old = head_sha(kb.root).decode()
        new = commit_files(kb.root, files, author=who.git_identity(), message=message.strip() + trailer,
                           allow_overwrite=True).decode()
        cache.append(kb.root, old, new, {})  # no knowledge-base record changed: keep its listing cache chained
    return new


def read_tree(kb: KnowledgeBase, prefix: str) -> dict[str, bytes]:
    """All files under ``prefix`` in the tree at ``HEAD`` (path → content)."""
    from dulwich.object_store import tree_lookup_path
    from dulwich.objects import Tree
    from dulwich.repo import Repo

    out: dict[str, bytes] = {}
    with Repo(str(kb.root)) as repo:
        try:
            _mode, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, prefix.encode())
        except KeyError:
            return out
        stack = [(prefix, repo[sha])]
        while stack:
            base, tree = stack.pop()
            if not isinstance(tree, Tree):
                continue
            for entry in tree.items():
                path = f"{base}/{entry.path.decode('utf-8', 'replace')}"
                obj = repo[entry.sha]
                if isinstance(obj, Tree):
                    stack.append((path, obj))
                else:
                    out[path] = obj.as_raw_string()
    return out


def read_file(kb: KnowledgeBase, path: str) -> bytes | None:
    """One file of the tree at ``HEAD`` (None when absent)."""
    from dulwich.object_store import tree_lookup_path
    from dulwich.repo import Repo

    with Repo(str(kb.root)) as repo:
        try:
            _mode, sha = tree_lookup_path(repo.__getitem__, repo[repo.head()].tree, path.encode())
        except KeyError:
            return None
        return repo[sha].as_raw_string()


def revisions(kb: KnowledgeBase, path: str) -> list[Revision]:
    """Commits that changed ``path``, newest first (the document's history)."""
    from dulwich.repo import Repo

    out = []
    with Repo(str(kb.root)) as repo:
        for entry in repo.get_walker(paths=[path.encode()]):
            c = entry.commit
            out.append(Revision(c.id.decode(), dt.datetime.fromtimestamp(c.author_time, dt.UTC),
                                c.author.decode("utf-8", "replace"), c.message.decode("utf-8", "replace").split("\n")[0]))
    return out


def safe_key(value: str, what: str) -> str:
    """Validate a value used as a file name (member or action id)."""
    if not isinstance(value, str) or not _SAFE.match(value):
        raise DocumentError([f"{what} « {value} » invalide : minuscules, chiffres, . _ - seulement (64 caractères au plus)."])
    return value


# ------------------------------------------------------------------ assessments
def assessment_path(actor_id: str, year: int) -> str:
    return f"{EVALUATIONS_DIR}/{safe_key(actor_id, 'Identifiant d’acteur')}/{int(year)}.yaml"


def save_assessment(kb: KnowledgeBase, ref: Referentiel, assessment: Assessment, note: str = "") -> Assessment:
    """Validate and commit ``assessment`` as the current identity's own (one commit per save).

    The actor id is always the identity's member id: nobody saves another actor's answers.
    Returns the stored assessment (with its ``updated`` time).

    Raises
    ------
    DocumentError
        If the answers do not validate against ``ref`` (nothing is written).
    """
    who = identity(kb)
    stamped = replace(assessment, actor=replace(assessment.actor, id=who.id),
                      updated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    data = stamped.dump()
    path = assessment_path(who.id, stamped.year)
    checked = parse_assessment(data, ref, where=path)  # the stored bytes themselves must validate
    summary = f"auto-évaluation {stamped.year} : {stamped.actor.name}" + (f" — {note}" if note else "")
    commit(kb, {path: data}, " ".join(summary.split())[:120])
    return checked


def load_assessment(kb: KnowledgeBase, ref: Referentiel, actor_id: str, year: int) -> Assessment | None:
    """The stored assessment of ``actor_id`` for ``year`` (None when there is none)."""
    path = assessment_path(actor_id, year)
    data = read_file(kb, path)
    return None if data is None else parse_assessment(data, ref, where=path)


def all_assessments(kb: KnowledgeBase, ref: Referentiel) -> tuple[list[Assessment], list[str]]:
    """Every stored assessment (all actors, all years) and the problems of unreadable files.

    A file that does not validate (edited by hand, another référentiel) is skipped and reported,
    so one bad file never hides the others.
    """
    out: list[Assessment] = []
    problems: list[str] = []
    for path, data in sorted(read_tree(kb, EVALUATIONS_DIR).items()):
        if not path.endswith(".yaml"):
            continue
        try:
            a = parse_assessment(data, ref, where=path)
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        actor_dir = path.split("/")[-2]
        if a.actor.id != actor_dir:
            problems.append(f"{path} : l'acteur « {a.actor.id} » n'est pas celui du dossier « {actor_dir} » ; ignoré.")
            continue
        out.append(a)
    return out, problems
