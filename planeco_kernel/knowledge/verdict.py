"""What the knowledge base's verification knows: its findings, its verdict, and the checkpoint that
keeps the verdict between runs (``.git/planeco-kb/verified.json``; a cache — deleting it only costs a
full verification). The verification itself is :mod:`planeco_kernel.knowledge.integrity`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planeco_kernel.atomic import atomic_write
from planeco_kernel.knowledge.location import MARKER

CHECKPOINT = "verified.json"
FORMAT = 2
DOCUMENTS = "documents/"
_REC = re.compile(r"(?:^|/)t-\d{8}-[0-9a-f]{8}/[pe]-\d{8}T\d{6}-[0-9a-f]{8}\.md$")


@dataclass(frozen=True)
class Finding:
    """One illegitimate change: which commit, which file, why (French)."""

    commit: str
    path: str
    reason: str
    who: str = ""
    resolved: bool = False

    def __str__(self) -> str:
        by = f" ({self.who})" if self.who else ""
        done = " [réglé depuis : fichier retiré ou version légitime remise]" if self.resolved else ""
        return f"commit {self.commit[:10]}{by} : {self.path} — {self.reason}{done}"

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "path": self.path, "reason": self.reason, "who": self.who, "resolved": self.resolved}


@dataclass
class Verdict:
    """The verified state of the knowledge base at commit ``head``.

    Attributes
    ----------
    findings
        Every illegitimate change found so far, oldest first.
    exclude
        Paths present at ``head`` whose content is illegitimate (left out of the state).
    restore
        Path → blob sha of the last legitimate version, for records modified or deleted illegitimately.
    member_records
        The legitimate member entries (path → record), from which identities are checked.
    owners
        Document path → member id of its creator.
    authors
        Post id → author id (who may edit it).
    """

    head: str = ""
    findings: list[Finding] = field(default_factory=list)
    exclude: set[str] = field(default_factory=set)
    restore: dict[str, str] = field(default_factory=dict)
    member_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    authors: dict[str, str] = field(default_factory=dict)
    created: bool = False
    settings: dict[str, str] = field(default_factory=lambda: {"signatures": "optional", "service_key": ""})

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "head": self.head, "findings": [f.to_dict() for f in self.findings],
                "exclude": sorted(self.exclude), "restore": self.restore, "member_records": self.member_records,
                "owners": self.owners, "authors": self.authors, "created": self.created, "settings": self.settings}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Verdict:
        return cls(head=d["head"], findings=[Finding(**f) for f in d["findings"]], exclude=set(d["exclude"]),
                   restore=dict(d["restore"]), member_records=dict(d["member_records"]), owners=dict(d["owners"]),
                   authors=dict(d["authors"]), created=bool(d["created"]), settings=dict(d["settings"]))  # fmt: skip

    def copy(self) -> Verdict:
        return Verdict.from_json(json.loads(json.dumps(self.to_json())))

    def resolve(self, path: str) -> None:
        """Mark the findings about ``path`` as resolved (the quarantined file was removed or put back)."""
        self.findings = [Finding(f.commit, f.path, f.reason, f.who, True) if f.path == path else f for f in self.findings]

    @property
    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.resolved]


def managed(path: str) -> bool:
    """Paths under the rules: the marker, member entries, post/event files, documents."""
    return path == MARKER or path.startswith("members/") or path.startswith(DOCUMENTS) or bool(_REC.search(path))


def in_post_tree(path: str) -> bool:
    """Paths where no symbolic link may be committed (the folders posts are written into)."""
    return managed(path) or path.startswith("discussions/") or path == "discussions" or any(
        part.endswith(".threads") for part in path.split("/")
    )


# ---------------------------------------------------------------------- checkpoint
def _checkpoint_path(root: Path) -> Path:
    from planeco_kernel.knowledge.gitstore import state_dir

    return state_dir(root) / CHECKPOINT


def load_checkpoint(root: Path) -> Verdict | None:
    try:
        d = json.loads(_checkpoint_path(root).read_text("utf-8"))
        return Verdict.from_json(d) if d.get("format") == FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_checkpoint(root: Path, v: Verdict) -> None:
    """Write the checkpoint atomically; a read-only copy simply verifies again next time."""
    try:
        atomic_write(_checkpoint_path(root), json.dumps(v.to_json(), ensure_ascii=False, separators=(",", ":")))
    except OSError:
        pass


def advance(root: Path, old: str, new: str, added: dict[str, dict[str, Any]], author: str) -> None:
    """After planeco itself committed ``added`` (legitimate by construction): move the checkpoint (writer lock held)."""
    v = load_checkpoint(root)
    if v is None or v.head != old:
        return  # a reader will verify the new commit
    for path, rec in added.items():
        if path.startswith("members/"):
            v.member_records[path] = rec
        elif path.startswith(DOCUMENTS):
            v.owners.setdefault(path, author)
        elif str(rec.get("id", "")).startswith("p-"):
            v.authors[rec["id"]] = rec["author"]
    v.head = new
    save_checkpoint(root, v)
