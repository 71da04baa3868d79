"""Signed commits (issue 15, item 2, strong form): git's own SSH signing against the registry's keys.

Real ``ssh-keygen`` keys in temporary folders, real git (2.34 or later, else the module is
skipped). The author e-mail of a commit is anyone's to choose; a signature is not. Members,
keys and posts are invented test data.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from planeco_kernel.cli import main
from planeco_kernel.knowledge import KnowledgeBase, Member, frontmatter, identity, integrity, model, signing
from planeco_kernel.knowledge.errors import InvalidInputError, PermissionDeniedError

pytestmark = pytest.mark.skipif(not signing.git_supports_ssh_signing(),
                                reason="git ≥ 2.34 et ssh-keygen sont nécessaires pour les commits signés SSH")  # fmt: skip


@pytest.fixture(autouse=True)
def _env(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))
    for var in ("JUPYTERHUB_USER", signing.KEY_VARIABLE, "PLANECO_KB_SERVICE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # no signing set up by the machine's own git config


def keygen(d: Path, name: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)], check=True)
    return d / name


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})}).stdout  # fmt: skip


def as_(name: str, mail: str) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": mail, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": mail}


@pytest.fixture()
def keys(tmp_path) -> dict[str, Path]:
    return {who: keygen(tmp_path / "keys", who) for who in ("admin", "paul", "claire", "service")}


@pytest.fixture()
def kb(tmp_path, keys, monkeypatch) -> KnowledgeBase:
    base = KnowledgeBase.init(tmp_path / "kb", Member(id="admin", name="Admin Test", role="agent", email="admin@test.invalid"))
    base.add_member(Member(id="paul", name="Paul Test", role="agent", email="paul@test.invalid"), actor="admin")
    base.add_member(Member(id="claire", name="Claire Test", role="elu", email="claire@test.invalid", hub_user="claire"),
                    actor="admin")  # fmt: skip
    for who in ("admin", "paul", "claire"):
        base.set_signing_key(who, signing.read_public_key(keys[who]), actor="admin")
    return base


def _forged_post(author: str, title: str = "Faux") -> tuple[str, bytes]:
    created = model.now_utc()
    tid, pid = model.new_thread_id(created), model.new_record_id(created)
    meta = {"id": pid, "thread": tid, "author": author, "role": "agent", "created": created, "reply_to": None,
            "kind": "discussion", "audience": "open", "title": title, "anchor": "app:zan", "themes": [],
            "addressed_to": [], "status": "published", "held_reason": "", "details": {}}  # fmt: skip
    return f"discussions/app/zan/{tid}/{pid}.md", frontmatter.dump(meta, "Message forgé.")


def _commit_file(kb: KnowledgeBase, author: str, mail: str, *, key: Path | None = None, message: str = "forgé") -> str:
    path, data = _forged_post(author)
    (kb.root / path).parent.mkdir(parents=True, exist_ok=True)
    (kb.root / path).write_bytes(data)
    git(kb.root, "add", path)
    sign = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true"] if key else []
    git(kb.root, *sign, "commit", "-q", "-m", message, env=as_(author.title(), mail))
    return path


def _check(capsys, kb: KnowledgeBase) -> tuple[int, str]:
    code = main(["kb", "check", "--kb", str(kb.root)])
    return code, capsys.readouterr().out


def _titles(kb: KnowledgeBase) -> set[str]:
    kb.refresh()
    return {t.title for t in kb.threads()}


def test_fingerprint_is_the_one_ssh_keygen_prints(keys):
    out = subprocess.run(["ssh-keygen", "-lf", f"{keys['paul']}.pub"], capture_output=True, text=True, check=True).stdout
    assert signing.fingerprint(signing.read_public_key(keys["paul"])) == out.split()[1]
    with pytest.raises(InvalidInputError, match="clé publique SSH"):
        signing.public_key(keys["paul"].read_text())  # the private key is refused


def test_a_post_signed_by_its_author_is_accepted_and_signed_for_git(kb, keys, capsys, monkeypatch):
    kb.configure(actor="admin", signatures="required")
    monkeypatch.setenv(signing.KEY_VARIABLE, str(keys["paul"]))
    kb.start_thread("paul", kind="discussion", title="Signé", body="Texte.", anchor="app:zan")
    assert "Signé" in _titles(kb)
    assert _check(capsys, kb) == (0, "Base de connaissances saine.\n")
    (kb.root.parent / "allowed").write_text(f"paul {signing.read_public_key(keys['paul'])}\n")
    status = git(kb.root, "-c", f"gpg.ssh.allowedSignersFile={kb.root.parent / 'allowed'}", "log", "-1", "--format=%G? %GK")
    assert status.split()[0] == "G" and status.split()[1] == signing.fingerprint(signing.read_public_key(keys["paul"]))
    # a full verification (checkpoint deleted) reaches the same verdict from history alone
    (kb.root / ".git" / "planeco-kb" / integrity.CHECKPOINT).unlink()
    assert integrity.verify(kb.root).open_findings == []
    assert kb.signature_settings()["signatures"] == "required"


def test_under_required_a_plain_unsigned_commit_is_quarantined_and_listed(kb, capsys):
    kb.configure(actor="admin", signatures="required")
    path = _commit_file(kb, "paul", "paul@test.invalid")
    assert "Faux" not in _titles(kb)
    code, out = _check(capsys, kb)
    assert code == 1 and path in out and "commit non signé" in out


def test_under_required_planeco_refuses_to_write_unsigned(kb):
    kb.configure(actor="admin", signatures="required")
    with pytest.raises(signing.SigningError, match="exige des commits signés"):
        kb.start_thread("paul", kind="discussion", title="Sans clé", body="Texte.", anchor="app:zan")


def test_a_commit_signed_with_another_members_key_is_refused_under_both_policies(kb, keys, capsys):
    path = _commit_file(kb, "admin", "admin@test.invalid", key=keys["paul"])  # paul signs, claims to be admin
    assert "Faux" not in _titles(kb)
    code, out = _check(capsys, kb)
    assert code == 1 and path in out and "signé par une clé qui n'est pas celle de l'auteur" in out


def test_a_key_unknown_to_the_registry_is_refused(kb, tmp_path, capsys):
    stranger = keygen(tmp_path / "keys", "intrus")
    _commit_file(kb, "paul", "paul@test.invalid", key=stranger)
    assert "Faux" not in _titles(kb)
    assert "signé par une clé qui n'est pas celle de l'auteur" in _check(capsys, kb)[1]


def test_service_signed_commit_is_legitimate_for_the_hub_user_it_names(kb, keys, capsys, monkeypatch):
    kb.configure(actor="admin", signatures="required", service_key=signing.read_public_key(keys["service"]))
    kb.service_key_file = str(keys["service"])  # what the hub service does
    with identity.hub_session("claire"):
        post = kb.start_thread("claire", kind="discussion", title="Par le service", body="Texte.", anchor="app:zan")
    msg = git(kb.root, "log", "-1", "--format=%B")
    assert "Planeco-Hub-User: claire" in msg
    assert post.author == "claire" and "Par le service" in _titles(kb)
    assert _check(capsys, kb) == (0, "Base de connaissances saine.\n")
    # the service's key with a trailer naming someone else than the committer is refused
    _commit_file(kb, "paul", "paul@test.invalid", key=keys["service"], message="forgé\n\nPlaneco-Hub-User: claire\n")
    code, out = _check(capsys, kb)
    assert code == 1 and "signé par le service pour « claire », qui n'est pas le membre qui a commis" in out


def test_the_trailer_in_an_unsigned_commit_means_nothing(kb, capsys):
    kb.configure(actor="admin", signatures="required")
    path = _commit_file(kb, "claire", "claire@test.invalid", message="forgé\n\nPlaneco-Hub-User: claire\n")
    assert "Faux" not in _titles(kb)
    code, out = _check(capsys, kb)
    assert code == 1 and path in out and "commit non signé" in out


def test_existing_unsigned_bases_stay_healthy_under_optional(tmp_path, capsys):
    base = KnowledgeBase.init(tmp_path / "old", Member(id="admin", name="Admin Test", role="agent", email="admin@test.invalid"))
    base.add_member(Member(id="paul", name="Paul Test", role="agent", email="paul@test.invalid"), actor="admin")
    base.start_thread("paul", kind="discussion", title="Ancien", body="Texte.", anchor="app:zan")
    _commit_file(base, "paul", "paul@test.invalid")  # a plain unsigned commit with the right e-mail, as before
    assert {"Ancien", "Faux"} <= _titles(base)
    assert _check(capsys, base) == (0, "Base de connaissances saine.\n")
    assert base.signature_settings() == {"signatures": "optional", "service_key": ""}


def test_settings_change_only_by_a_moderator(kb, capsys):
    with pytest.raises(PermissionDeniedError):
        kb.configure(actor="paul", signatures="optional")
    marker = kb.root / "planeco-kb.yaml"
    marker.write_text(marker.read_text() + 'signatures: "required"\n')
    git(kb.root, "commit", "-qam", "réglage forgé", env=as_("Paul", "paul@test.invalid"))
    kb.refresh()
    assert kb.signature_settings()["signatures"] == "optional"
    assert "pas d'un·e modérateur·rice" in _check(capsys, kb)[1]


def test_a_member_sets_their_own_key_but_not_someone_elses(kb, tmp_path, keys, capsys, monkeypatch):
    new = keygen(tmp_path / "keys", "paul2")
    monkeypatch.setenv(signing.KEY_VARIABLE, str(keys["paul"]))  # signed with paul's current key
    kb.set_signing_key("paul", signing.read_public_key(new), actor="paul")
    assert git(kb.root, "log", "-1", "--format=%an %G?", env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0":
               "gpg.ssh.allowedSignersFile", "GIT_CONFIG_VALUE_0": "/dev/null"}).split() == ["Paul", "Test", "U"]  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        kb.set_signing_key("claire", signing.read_public_key(new), actor="paul")
    (kb.root / ".git" / "planeco-kb" / integrity.CHECKPOINT).unlink()
    kb.refresh()
    assert kb.member("paul").signing_key == signing.read_public_key(new)
    assert _check(capsys, kb)[0] == 0
    # the old key no longer signs for paul
    _commit_file(kb, "paul", "paul@test.invalid", key=keys["paul"])
    assert "signé par une clé qui n'est pas celle de l'auteur" in _check(capsys, kb)[1]


def test_a_plain_commit_giving_oneself_a_key_and_more_is_refused(kb, tmp_path, capsys):
    mine = keygen(tmp_path / "keys", "paul3")
    entry = sorted((kb.root / "members" / "paul").iterdir())[-1]
    meta, body = frontmatter.parse(entry.read_bytes())
    created = model.now_utc()
    meta.update(created=created, moderator=True, signing_key=signing.read_public_key(mine), by="paul")
    forged = kb.root / "members" / "paul" / f"{model.new_record_id(created, 'e')}.md"
    forged.write_bytes(frontmatter.dump(meta, body))
    git(kb.root, "add", str(forged))
    git(kb.root, "commit", "-qm", "je me fais modérateur", env=as_("Paul", "paul@test.invalid"))
    kb.refresh()
    assert not kb.member("paul").moderator
    assert kb.member("paul").signing_key != signing.read_public_key(mine)
    code, out = _check(capsys, kb)
    assert code == 1 and "n'est pas modérateur·rice" in out


def test_cli_set_key_and_settings(kb, tmp_path, capsys):
    other = keygen(tmp_path / "keys", "claire2")
    assert main(["kb", "members", "set-key", "claire", f"{other}.pub", "--kb", str(kb.root)]) == 0
    assert "Clé de signature de claire enregistrée." in capsys.readouterr().out
    assert main(["kb", "members", "list", "--kb", str(kb.root)]) == 0
    assert f"[clé {signing.fingerprint(signing.read_public_key(other))}]" in capsys.readouterr().out
    assert main(["kb", "settings", "--signatures", "obligatoire", "--kb", str(kb.root)]) == 2
    assert "Réglage « signatures » inconnu" in capsys.readouterr().err
    assert main(["kb", "settings", "--signatures", "required", "--kb", str(kb.root)]) == 0
    assert "signatures : required" in capsys.readouterr().out
    assert main(["kb", "members", "set-key", "paul", "-", "--kb", str(kb.root)]) == 2  # admin signs nothing here
    assert "exige des commits signés" in capsys.readouterr().err


def test_the_hub_service_makes_its_key_and_signs_once_registered(kb, tmp_path, capsys):
    pytest.importorskip("jupyterhub")
    from planeco_kernel.hub import kb_service as S

    w = S.Writer(kb.root, tmp_path / "service-state")
    assert (tmp_path / "service-state" / "signing_key").is_file()
    assert "non enregistrée" in w.key_note()
    w.perform("claire", "start_thread", {"kind": "discussion", "title": "Avant", "body": "Texte.", "anchor": "app:zan"})
    assert "Planeco-Hub-User" not in git(kb.root, "log", "-1", "--format=%B")  # unregistered key: not signed
    kb.configure(actor="admin", signatures="required", service_key=w.public_key)
    assert "enregistrée ; commits signés" in w.key_note()
    w.perform("claire", "start_thread", {"kind": "discussion", "title": "Après", "body": "Texte.", "anchor": "app:zan",
                                         "author": "paul"})  # fmt: skip
    assert "Planeco-Hub-User: claire" in git(kb.root, "log", "-1", "--format=%B")
    assert {"Avant", "Après"} <= _titles(kb)
    assert _check(capsys, kb) == (0, "Base de connaissances saine.\n")
    assert S.Writer(kb.root, tmp_path / "service-state").public_key == w.public_key  # the key is made once


def test_sync_accepts_a_signed_post_and_refuses_one_signed_by_the_wrong_key(kb, keys, tmp_path):
    from planeco_kernel.knowledge import SyncError
    from planeco_kernel.knowledge.sync import sync

    kb.configure(actor="admin", signatures="required")
    remote = tmp_path / "commun.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    other = KnowledgeBase.clone(str(remote), tmp_path / "autre")
    _commit_file(other, "paul", "paul@test.invalid", key=keys["paul"])
    git(other.root, "push", "-q", str(remote), "HEAD:main")
    sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    assert "Faux" in _titles(kb)
    path = _commit_file(other, "paul", "paul@test.invalid", key=keys["claire"])
    git(other.root, "push", "-q", str(remote), "HEAD:main")
    head = git(kb.root, "rev-parse", "HEAD")
    with pytest.raises(SyncError, match="Synchronisation refusée") as err:
        sync(kb.root, str(remote), name="Admin Test", email="admin@test.invalid")
    assert path in str(err.value) and "signé par une clé qui n'est pas celle de l'auteur" in str(err.value)
    assert git(kb.root, "rev-parse", "HEAD") == head


def test_a_signature_altered_after_signing_is_refused(kb, keys, capsys):
    _commit_file(kb, "paul", "paul@test.invalid", key=keys["paul"], message="original")
    raw = git(kb.root, "cat-file", "commit", "HEAD").replace("\noriginal\n", "\naltéré\n")
    forged = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=kb.root, input=raw,
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    git(kb.root, "update-ref", "refs/heads/main", forged)
    code, out = _check(capsys, kb)
    assert code == 1 and "signature invalide (le commit a été modifié après sa signature)" in out
