"""Storage: one file per post, one commit per post by its author, derived cache, privacy.

All members, territories and posts here are invented test data.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from planeco_kernel.knowledge import KBNotFoundError, KnowledgeBase, Member, NotFoundError
from planeco_kernel.knowledge import frontmatter
from planeco_kernel.knowledge.cache import CACHE_NAME


@pytest.fixture(autouse=True)
def _no_territory_model(tmp_path_factory, monkeypatch):
    """These tests exercise the fallback (same département): no data bundle is visible."""
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def kb(tmp_path) -> KnowledgeBase:
    base = KnowledgeBase.init(
        tmp_path / "kb", Member(id="marie", name="Marie Test", role="elu", territory="69123", email="marie@test.invalid")
    )
    base.add_member(Member(id="paul", name="Paul Test", role="agent", territory="69266"), actor="marie")
    return base


def test_init_layout_and_first_commit(kb):
    files = git(kb.root, "ls-files").split()
    assert "planeco-kb.yaml" in files
    assert any(f.startswith("members/marie/e-") for f in files)
    assert git(kb.root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert [m.id for m in kb.members()] == ["marie", "paul"]
    assert kb.member("marie").moderator and not kb.member("paul").moderator


def test_post_is_one_file_one_commit_by_the_poster(kb):
    before = int(git(kb.root, "rev-list", "--count", "HEAD"))
    p = kb.start_thread(
        "paul", kind="solution", title="Chaufferie bois", body="Mise en service en 2024.", anchor="lever:chaleur-renouvelable",
        themes=["Énergie", "énergie", "chaleur"], details={"results": "-40 % de fioul", "cost_eur": "1 200 000", "partners": "ADEME, SDE"},
    )  # fmt: skip
    assert int(git(kb.root, "rev-list", "--count", "HEAD")) == before + 1
    assert p.path == f"discussions/lever/chaleur-renouvelable/{p.thread}/{p.id}.md"
    assert git(kb.root, "log", "-1", "--format=%an|%ae|%cn|%ce").strip() == (
        "Paul Test|paul@membres.planeco.invalid|Paul Test|paul@membres.planeco.invalid"
    )
    assert git(kb.root, "show", "--name-status", "--format=", "HEAD").split() == ["A", p.path]
    meta, body = frontmatter.parse((kb.root / p.path).read_bytes())
    assert {k: meta[k] for k in ("id", "thread", "author", "role", "territory", "reply_to", "kind", "audience")} == {
        "id": p.id, "thread": p.thread, "author": "paul", "role": "agent", "territory": "69266", "reply_to": None,
        "kind": "solution", "audience": "open",
    }  # fmt: skip
    assert meta["themes"] == ["énergie", "chaleur"]
    assert meta["details"] == {"results": "-40 % de fioul", "cost_eur": 1200000.0, "partners": ["ADEME", "SDE"]}
    assert body == "Mise en service en 2024."
    assert git(kb.root, "status", "--porcelain") == ""


def test_front_matter_is_valid_yaml():
    import yaml

    data = frontmatter.dump({"id": "p-1", "title": 'Guillemets " et : deux-points\nligne', "themes": ["a", "é"], "reply_to": None}, "corps")
    head = data.decode().split("---\n")[1]
    assert yaml.safe_load(head) == {"id": "p-1", "title": 'Guillemets " et : deux-points\nligne', "themes": ["a", "é"], "reply_to": None}
    assert frontmatter.parse(data) == (yaml.safe_load(head), "corps")


@pytest.mark.parametrize(
    ("text", "meta"),
    [
        ("---\nid: p-1\ntitle: Écrit à la main\nthemes:\n  - eau\n---\ncorps\n", {"id": "p-1", "title": "Écrit à la main", "themes": ["eau"]}),
        ("---\nid: 'p-2'\ncreated: 2026-11-24T01:02:03Z\n---\n", {"id": "p-2", "created": "2026-11-24T01:02:03+00:00"}),
    ],
)
def test_front_matter_hand_written_yaml(text, meta):
    assert frontmatter.parse(text)[0] == meta


@pytest.mark.parametrize("text", ["pas d'en-tête", "---\nid: p\n", "---\n- a\n- b\n---\n"])
def test_front_matter_errors(text):
    from planeco_kernel.knowledge import InvalidInputError

    with pytest.raises(InvalidInputError, match="[Ee]n-tête YAML|sans en-tête"):
        frontmatter.parse(text)


def test_reply_edit_and_history_kept(kb):
    p = kb.start_thread("marie", kind="question", title="Quelle méthode ?", body="Bonjour", anchor="indicator:conso_naf")
    r = kb.reply("paul", p.thread, "Voir le portail.", reply_to=p.id)
    kb.edit("paul", r.id, "Voir le portail de l'artificialisation.")
    t = kb.thread(p.thread, "marie")
    assert [x.id for x in t.posts] == [p.id, r.id]
    assert t.posts[1].body == "Voir le portail de l'artificialisation." and t.posts[1].edited
    assert (kb.root / r.path).read_text("utf-8").endswith("Voir le portail.\n")  # original never rewritten
    assert "Voir le portail.\n" in git(kb.root, "show", f"HEAD~1:{r.path}")


def test_edit_by_someone_else_refused(kb):
    from planeco_kernel.knowledge import PermissionDeniedError

    p = kb.start_thread("paul", kind="discussion", title="t", body="x", anchor="app:zan")
    kb.add_member(Member(id="luc", name="Luc", role="association"), actor="marie")
    with pytest.raises(PermissionDeniedError, match="auteur"):
        kb.edit("luc", p.id, "vandalisme")


def test_notebook_sidecar_folder(kb):
    nb = kb.root / "analyses" / "zan.ipynb"
    nb.parent.mkdir()
    nb.write_text(json.dumps({"cells": [], "metadata": {"planeco": {"author": "paul"}}, "nbformat": 4, "nbformat_minor": 5}))
    q = kb.ask_notebook_author("marie", nb, title="Source des surfaces ?", body="D'où viennent-elles ?")
    assert q.path.startswith(f"analyses/zan.threads/{q.thread}/")
    assert q.addressed_to == ["paul"] and q.kind == "question"
    assert [t.id for t in kb.notebook_threads("analyses/zan.ipynb", "marie")] == [q.thread]
    with pytest.raises(Exception, match="n'existe pas"):
        kb.start_thread("marie", kind="question", title="t", body="x", anchor="notebook:absent.ipynb")


def test_listing_filters(kb):
    a = kb.start_thread("marie", kind="rex", title="Pistes cyclables", body="Bilan positif", anchor="territory:69123", themes=["mobilité"])
    b = kb.start_thread("paul", kind="solution", title="Cantine bio", body="Approvisionnement local", anchor="action:cantine", themes=["alimentation"])
    kb.start_thread("paul", kind="discussion", title="Divers", body="…", anchor="app:zan", territory="13055")
    ids = lambda ts: [t.id for t in ts]  # noqa: E731
    assert set(ids(kb.threads("marie", kind="rex"))) == {a.thread}
    assert ids(kb.threads("marie", theme="Mobilité")) == [a.thread]
    assert ids(kb.threads("marie", territory="69266")) == [b.thread]
    assert set(ids(kb.threads("marie", territory="69001", nearby=True))) == {a.thread, b.thread}
    assert ids(kb.threads("marie", text="approvisionnement")) == [b.thread]
    assert ids(kb.threads("marie", anchor="action:cantine")) == [b.thread]
    assert [p.thread for p in kb.search("marie", territory="69999", nearby=True)] == [b.thread, a.thread]
    assert [p.thread for p in kb.search("marie", theme="alimentation")] == [b.thread]


def test_cache_is_derived_and_rebuildable(kb):
    for i in range(5):
        kb.start_thread("marie", kind="discussion", title=f"fil {i}", body="x", anchor="app:zan")
    expected = [t.to_dict() for t in kb.threads("marie")]
    cache_file = kb.root / ".git" / "planeco-kb" / CACHE_NAME
    for damage in (lambda: cache_file.unlink(), lambda: cache_file.write_text("{corrompu"),
                   lambda: cache_file.write_text(json.dumps({"head": "0" * 40, "records": {}}))):  # fmt: skip
        damage()
        fresh = KnowledgeBase(kb.root)
        assert [t.to_dict() for t in fresh.threads("marie")] == expected
    # a commit made by another process (fresh object) is picked up incrementally
    other = KnowledgeBase(kb.root)
    other.start_thread("paul", kind="discussion", title="nouveau", body="y", anchor="app:zan")
    assert len(kb.threads("marie")) == 6


def test_reading_stores_nothing(kb):
    """Privacy: listing, showing and searching leave no trace in the repository."""
    p = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan")
    head, tracked = git(kb.root, "rev-parse", "HEAD"), git(kb.root, "ls-files", "-s")
    for viewer in ("marie", "paul", None):
        kb.threads(viewer)
        kb.thread(p.thread, viewer)
        kb.search(viewer, text="x")
    assert git(kb.root, "rev-parse", "HEAD") == head
    assert git(kb.root, "ls-files", "-s") == tracked
    assert git(kb.root, "status", "--porcelain", "--ignored") == ""


def test_init_inside_an_existing_repository_keeps_its_files(tmp_path):
    repo = tmp_path / "projet"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "diag.ipynb").write_text("{}")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid", "HOME": str(tmp_path)}
    for cmd in (["init", "-q", "-b", "dev"], ["add", "."], ["commit", "-qm", "projet"]):
        subprocess.run(["git", *cmd], cwd=repo, env=env, check=True)
    base = KnowledgeBase.init(repo, Member(id="ana", name="Ana", role="agent"))
    assert "notebooks/diag.ipynb" in git(repo, "ls-files")
    p = base.start_thread("ana", kind="question", title="t", body="x", anchor="notebook:notebooks/diag.ipynb")
    assert p.path.startswith("notebooks/diag.threads/")
    assert git(repo, "rev-list", "--count", "dev").strip() == "3"
    assert KnowledgeBase(repo / "notebooks").root == repo  # found from a sub-folder


def test_open_missing_kb_says_how_to_fix(tmp_path):
    with pytest.raises(KBNotFoundError, match="planeco kb init"):
        KnowledgeBase(tmp_path)


def test_identity_resolution(kb, monkeypatch):
    """Identity comes from the hub user, else the git identity of the copy; never from $PLANECO_KB_USER."""
    kb.add_member(Member(id="jeanne", name="Jeanne", role="elu", hub_user="Jeanne.D"), actor="marie")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert kb.identity().id == "marie"  # the repository's git identity written by init
    monkeypatch.setenv("PLANECO_KB_USER", "paul")  # a variable anyone can set: ignored
    assert kb.identity().id == "marie"
    monkeypatch.setenv("JUPYTERHUB_USER", "Jeanne.D")
    assert kb.identity().id == "jeanne"
    monkeypatch.setenv("JUPYTERHUB_USER", "inconnu")
    with pytest.raises(NotFoundError, match="JupyterHub"):
        kb.identity()


def test_unknown_thread_and_post(kb):
    with pytest.raises(NotFoundError, match="Fil inconnu"):
        kb.thread("t-20261124-00000000")
    with pytest.raises(NotFoundError, match="Message inconnu"):
        kb.flag("marie", "p-20261124T000000-00000000", "x")


def test_cache_log_chain_broken_line_and_compaction(kb, monkeypatch):
    from planeco_kernel.knowledge import cache

    for i in range(3):
        kb.start_thread("marie", kind="discussion", title=f"fil {i}", body="x", anchor="app:zan")
    state = kb.root / ".git" / "planeco-kb"
    assert (state / cache.LOG_NAME).exists()
    assert json.loads((state / CACHE_NAME).read_text())["head"] != git(kb.root, "rev-parse", "HEAD").strip()
    assert len(KnowledgeBase(kb.root).threads("marie")) == 3  # base + log chain
    with open(state / cache.LOG_NAME, "ab") as f:
        f.write(b'{"from": "coupe')  # a writer killed mid-line
    kb.start_thread("marie", kind="discussion", title="après coupure", body="x", anchor="app:zan")
    assert len(KnowledgeBase(kb.root).threads("marie")) == 4
    monkeypatch.setattr(cache, "LOG_COMPACT_BYTES", 10)
    kb.start_thread("marie", kind="discussion", title="compaction", body="x", anchor="app:zan")
    assert not (state / cache.LOG_NAME).exists()
    assert json.loads((state / CACHE_NAME).read_text())["head"] == git(kb.root, "rev-parse", "HEAD").strip()
    assert len(KnowledgeBase(kb.root).threads("marie")) == 5
