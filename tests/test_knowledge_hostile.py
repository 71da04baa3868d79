"""The hostile test's findings on the knowledge base (issue 15, items 3, 5, 6, 7, 9, 10, 11), each
reproduced and now failing to break anything. Members, posts and evasions are invented test data.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from planeco_kernel.cli import main
from planeco_kernel.knowledge import (
    InvalidInputError,
    KnowledgeBase,
    Member,
    NeutralityError,
    frontmatter,
    gitstore,
    model,
)
from planeco_kernel.knowledge.rules import fold, solicitation
from planeco_kernel.knowledge.ui import EchangesApp, post_html, thread_html

HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(autouse=True)
def _env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)


@pytest.fixture()
def kb(tmp_path, monkeypatch) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="marie", name="Marie Test", role="elu", territory="69123"))
    base.add_member(Member(id="acme", name="ACME Test", role="entreprise", territory="69001"), actor="marie")
    monkeypatch.setenv("PLANECO_KB", str(base.root))
    return base


def git(root: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, **kw)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------- item 3: stored XSS
def test_a_created_that_is_no_date_never_reaches_the_html(kb):
    """The file arrives by git with the author's own identity: authorship holds, the field does not."""
    p = kb.start_thread("marie", kind="discussion", title="Fil", body="x", anchor="app:zan")
    created = model.now_utc()
    rid = model.new_record_id(created)
    meta = {"id": rid, "thread": p.thread, "author": "marie", "role": "elu", "created": HOSTILE, "reply_to": p.id,
            "kind": "reply", "audience": "open", "status": "published", "held_reason": "", "details": {}}  # fmt: skip
    path = p.path.rsplit("/", 1)[0] + f"/{rid}.md"
    with gitstore.locked(kb.root):
        gitstore.commit_files(kb.root, {path: frontmatter.dump(meta, "réponse")}, author=kb.member("marie").git_identity(), message="x")
    base = KnowledgeBase(kb.root)
    assert [q.id for q in base.thread(p.thread, "marie").posts] == [p.id]
    app = EchangesApp(base, member="marie")
    app.open_thread(p.thread)
    assert "<img" not in app.view.html.value and "onerror" not in app.view.html.value
    assert any("date de création invalide" in line for line in base.check())


@pytest.mark.parametrize("field", ["created", "role", "held_reason", "hidden_reason", "acted_by", "id", "edited"])
def test_every_post_field_is_escaped_in_the_html(kb, field):
    p = kb.start_thread("marie", kind="discussion", title="Fil", body="x", anchor="app:zan")
    hostile = dataclasses.replace(p, status="held", hidden=True, body="corps", **{field: HOSTILE})
    html = post_html(hostile, {m.id: m for m in kb.members()})
    assert "<img" not in html and "&lt;img" in html or field in ("created", "edited")
    assert "<img" not in html  # dates that are no dates become « date inconnue »
    details = dataclasses.replace(p, details={HOSTILE: [HOSTILE]})
    assert "<img" not in post_html(details, {})
    th = kb.thread(p.thread, "marie")
    assert "<img" not in thread_html(dataclasses.replace(th, title=HOSTILE, territory=HOSTILE, themes=[HOSTILE]), {})


# ---------------------------------------------------------------- item 5: solicitation evasions
ZW = "\u200b"
EVASIONS = [
    (f"contactez{ZW}-nous pour un devis{ZW} gratuit", "refuse"),
    ("c\u200dontactez-nous pour une démo", "refuse"),
    ("ｃｏｎｔａｃｔｅｚ－ｎｏｕｓ pour un ｄｅｖｉｓ ｇｒａｔｕｉｔ", "refuse"),
    ("CONTACTEZ-NOUS", "refuse"),
    ("Offre spe\u0301ciale de lancement", "refuse"),  # decomposed accent
    ("оffre spéciale", "refuse"),  # Cyrillic о
    ("réserv\u00adez votre démo", "refuse"),  # soft hyphen
    ("Code promo\u2060 ÉTÉ", "refuse"),
    ("voir //exemple-commercial.fr", "hold"),
    ("https:exemple.com/offre", "hold"),
    ("hxxp //www . exemple . fr", "hold"),
    ("Appelez le +33 (0)6 12 34 56 78", "hold"),
    ("Appelez le 0033 6 12 34 56 78", "hold"),
    ("06.12.34.56.78", "hold"),
    ("jean [at] exemple [dot] fr", "hold"),
    ("jean (arobase) exemple (point) fr", "hold"),
    ("jean＠exemple．fr", "hold"),
    ("Nous avons équipé trois communes en 2024 ; le bilan carbone baisse de 12 %.", "ok"),
]


@pytest.mark.parametrize(("text", "verdict"), EVASIONS)
def test_solicitation_evasions_are_caught(text, verdict):
    assert solicitation(text)[0] == verdict, (fold(text), solicitation(text))


def test_evasions_are_caught_in_posts_and_edits(kb):
    with pytest.raises(NeutralityError):
        kb.start_thread("acme", kind="rex", title="REX", body=f"contactez{ZW}-nous pour un devis gratuit",
                        anchor="app:zan", addressed_to=["elu"])  # fmt: skip
    p = kb.start_thread("acme", kind="rex", title="REX", body="Trois bornes installées.", anchor="app:zan", addressed_to=["elu"])
    with pytest.raises(NeutralityError):
        kb.edit("acme", p.id, f"contactez{ZW}-nous pour un devis gratuit")
    with pytest.raises(Exception, match="retenu pour modération"):
        kb.edit("acme", p.id, "écrivez à jean [at] exemple [dot] fr")


# ---------------------------------------------------------------- item 6: idempotent posting
def test_index_lock_held_by_another_program(kb, capsys):
    """An editor's git holds .git/index.lock: the post is saved, the message says so, a retry does not duplicate."""
    lock = kb.root / ".git" / "index.lock"
    lock.write_bytes(b"")
    os.utime(lock, (0, 0))  # older than any journal: another program's
    argv = ["kb", "post", "--title", "Retenté", "--anchor", "app:zan", "--body", "Même texte", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and "Traceback" not in err and "Ne renvoyez pas le message" in err
    assert lock.exists()  # never removed under the other program's feet
    first = __import__("json").loads(out)["id"]
    code, out, _ = run(capsys, *argv)  # the user retries anyway
    assert code == 0 and __import__("json").loads(out)["id"] == first
    lock.unlink()
    base = KnowledgeBase(kb.root)  # opening repairs the index
    assert [t.title for t in base.threads("marie")] == ["Retenté"]
    assert git(kb.root, "status", "--porcelain").stdout == ""


def test_client_chosen_key_makes_retries_idempotent(kb):
    a = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", key="essai-42")
    b = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", key="essai-42")
    assert a.id == b.id and len(kb.threads("marie")) == 1
    c = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", key="essai-43")
    assert c.id != a.id
    r1 = kb.reply("marie", a.thread, "merci")
    r2 = kb.reply("marie", a.thread, "merci")
    assert r1.id == r2.id
    with pytest.raises(InvalidInputError, match="Clé d'idempotence"):
        kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", key="../x")


# ---------------------------------------------------------------- item 7: stale index repaired on open
def test_writer_killed_before_the_index_update_is_repaired_on_open(kb, capsys):
    p = kb.start_thread("marie", kind="discussion", title="Publié", body="x", anchor="app:zan")
    # the state a writer killed after publishing leaves: journal present, post missing from the index
    git(kb.root, "rm", "-q", "--cached", p.path, check=True)
    (kb.root / ".git" / "planeco-kb" / "journal.json").write_text(f'{{"paths": ["{p.path}"]}}')
    assert "D  " + p.path in git(kb.root, "status", "--porcelain").stdout  # a plain commit now would delete it
    KnowledgeBase(kb.root)  # opening the knowledge base (any command, the app) repairs it
    assert git(kb.root, "status", "--porcelain").stdout == ""
    r = git(kb.root, "commit", "-qm", "commit ordinaire", "--allow-empty", env={**os.environ, "GIT_AUTHOR_NAME": "x",
            "GIT_AUTHOR_EMAIL": "x@test.invalid", "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@test.invalid"})  # fmt: skip
    assert r.returncode == 0
    assert git(kb.root, "cat-file", "-e", f"HEAD:{p.path}").returncode == 0  # the post survives a plain commit
    assert main(["kb", "check"]) == 0


def test_stale_index_without_journal_is_detected(kb, capsys):
    p = kb.start_thread("marie", kind="discussion", title="Publié", body="x", anchor="app:zan")
    git(kb.root, "rm", "-q", "--cached", p.path, check=True)
    assert main(["kb", "check"]) == 1
    assert "supprimerait ou modifierait 1 fichier(s)" in capsys.readouterr().out


# ---------------------------------------------------------------- item 9: size limits
def test_big_french_body_file_says_limit_and_size(kb, capsys, tmp_path):
    big = tmp_path / "gros.md"
    big.write_text("Les élus ont décidé. " * 500_000, encoding="utf-8")  # ~10 Mo
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body-file", str(big))
    assert code == 2 and re.search(r"le fichier fait \d+,\d Mo", err) and "20\u202f000 caractères au plus" in err
    assert "UTF-8" not in err.replace("en UTF-8)", "")


def test_big_ascii_body_file_says_limit_and_size(kb, capsys, tmp_path):
    big = tmp_path / "gros.txt"
    big.write_bytes(b"a" * 10_000_000)
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body-file", str(big))
    assert code == 2 and "le fichier fait 9,5 Mo" in err and "80\u202f001" not in err


def test_body_just_over_the_limit_counts_characters(kb, capsys, tmp_path):
    f = tmp_path / "m.md"
    f.write_text("é" * 20_001, encoding="utf-8")
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body-file", str(f))
    assert code == 2 and "20\u202f001 caractères reçus pour 20\u202f000 au plus" in err


def test_truly_not_utf8_is_said_so(kb, capsys, tmp_path):
    f = tmp_path / "latin1.md"
    f.write_bytes("Les élus".encode("latin-1"))
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body-file", str(f))
    assert code == 2 and "n'est pas en UTF-8" in err


# ---------------------------------------------------------------- item 10: symbolic links
def test_untracked_symlink_under_an_anchor_folder_is_refused(kb, tmp_path, capsys):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (kb.root / "discussions" / "app").mkdir(parents=True)
    (kb.root / "discussions" / "app" / "zan").symlink_to(outside)
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body", "x")
    assert code == 2 and "lien symbolique" in err and "Traceback" not in err
    assert list(outside.iterdir()) == []  # nothing written outside the repository
    code, out, _ = run(capsys, "kb", "check")
    assert code == 1 and "discussions/app/zan : lien symbolique" in out


def test_committed_symlink_is_refused_and_reported(kb, tmp_path, capsys):
    (kb.root / "discussions" / "app").mkdir(parents=True)
    (kb.root / "discussions" / "app" / "zan").symlink_to("/tmp")
    git(kb.root, "add", "discussions", check=True)
    git(kb.root, "commit", "-qm", "lien", check=True)
    (kb.root / "discussions" / "app" / "zan").unlink()
    code, _, err = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body", "x")
    assert code == 2 and "lien symbolique validé" in err and "Traceback" not in err
    code, out, _ = run(capsys, "kb", "check")
    assert code == 1 and "discussions/app/zan — lien symbolique" in out


# ---------------------------------------------------------------- item 11: territory codes
@pytest.mark.bundle
def test_territory_codes_are_resolved_with_the_territory_model(kb, bundle_dir, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))
    with pytest.raises(InvalidInputError, match="Code de territoire inconnu"):
        kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", territory="99999")
    with pytest.raises(InvalidInputError, match="Code de territoire inconnu"):
        kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="territory:99999")
    p = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="territory:01340")  # merged commune
    from planeco_kernel.territory import load_model

    successor = load_model().resolve("01340").territory.code
    assert successor != "01340" and p.territory == successor and p.anchor == f"territory:{successor}"
    with pytest.raises(InvalidInputError, match="Code de territoire inconnu"):
        kb.add_member(Member(id="x", name="X", role="elu", territory="99999"), actor="marie")


def test_without_a_bundle_only_the_format_is_checked(kb):
    p = kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", territory="69266")
    assert p.territory == "69266"
    with pytest.raises(InvalidInputError, match="Code de territoire"):
        kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", territory="../x")
