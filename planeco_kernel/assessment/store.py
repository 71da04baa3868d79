"""Storage of assessments and action sheets as documents of the knowledge base.

Every save goes through the knowledge base's document API
(:meth:`~planeco_kernel.knowledge.KnowledgeBase.save_documents`): one commit whose author is the
session's identity (``JUPYTERHUB_USER`` behind the hub, else the copy's git identity / OS account,
matched to the member registry) — never a name passed by the caller. The knowledge base's
integrity rules (``planeco kb check``) cover these files: a document is owned by the member who
first saved it and changed only by them or a moderator; a change made with plain git by anyone
else is quarantined, and reading returns the last legitimate version. History is git history.

Layout::

    documents/engagement/evaluations/<member id>/<year>.yaml   one actor's assessment for one year
    documents/engagement/actions/<action id>.yaml              one action sheet (in one or several plans)

An action sheet therefore belongs to the member who imported it first (an agent of the
collectivité); another agent updating it needs a moderator (the import then says which sheets
and whose they are, and writes nothing).
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

EVALUATIONS_DIR = "documents/engagement/evaluations"
ACTIONS_DIR = "documents/engagement/actions"
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
    """Save ``files`` (``documents/…`` paths) as one commit of the current identity; return the sha.

    Raises
    ------
    PermissionDeniedError
        If one of the documents belongs to another member and the identity is not a moderator
        (nothing is written).
    """
    return kb.save_documents({p: d.decode("utf-8") for p, d in files.items()}, " ".join(message.split())[:120])


def read_tree(kb: KnowledgeBase, prefix: str) -> dict[str, bytes]:
    """All legitimate documents under ``prefix`` (path → content, last legitimate version)."""
    from planeco_kernel.knowledge.errors import NotFoundError

    out: dict[str, bytes] = {}
    for path in kb.documents(prefix.rstrip("/") + "/"):
        try:
            out[path] = kb.read_document(path).encode("utf-8")
        except NotFoundError:  # removed by its owner
            continue
    return out


def read_file(kb: KnowledgeBase, path: str) -> bytes | None:
    """One document's last legitimate version (None when absent)."""
    from planeco_kernel.knowledge.errors import NotFoundError

    try:
        return kb.read_document(path).encode("utf-8")
    except NotFoundError:
        return None


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
    commit(kb, {path: data}, summary)
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
    owners = kb.documents(EVALUATIONS_DIR + "/")
    for path, data in sorted(read_tree(kb, EVALUATIONS_DIR).items()):
        if not path.endswith(".yaml"):
            continue
        actor_dir = path.split("/")[-2]
        if owners.get(path) != actor_dir:  # only the actor saves its own answers (store.save_assessment)
            problems.append(f"{path} : enregistré par « {owners.get(path)} », pas par l'acteur « {actor_dir} » ; ignoré.")
            continue
        try:
            a = parse_assessment(data, ref, where=path)
        except DocumentError as exc:
            problems.extend(exc.problems)
            continue
        if a.actor.id != actor_dir:
            problems.append(f"{path} : l'acteur « {a.actor.id} » n'est pas celui du dossier « {actor_dir} » ; ignoré.")
            continue
        out.append(a)
    return out, problems
