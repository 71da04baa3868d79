"""``planeco kb …`` end to end through the CLI entry point. Invented test data."""

from __future__ import annotations

import json
import subprocess

import pytest

from planeco_kernel.cli import main


@pytest.fixture(autouse=True)
def _no_territory_model(tmp_path_factory, monkeypatch):
    """"Nearby" falls back to the same département here (no data bundle visible); the
    model-based proximity is tested on the real bundle in test_nearby.py."""
    monkeypatch.setenv("PLANECO_DATA_DIR", str(tmp_path_factory.mktemp("no-bundle")))


@pytest.fixture()
def kb(tmp_path, monkeypatch, capsys):
    root = tmp_path / "kb"
    monkeypatch.setenv("PLANECO_KB", str(root))
    monkeypatch.delenv("PLANECO_KB_USER", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert main(["kb", "init", str(root), "--admin", "marie", "--name", "Marie Test", "--role", "elu", "--territory", "69123"]) == 0
    assert main(["kb", "members", "add", "acme", "--name", "ACME Test", "--role", "entreprise", "--territory", "69001"]) == 0
    capsys.readouterr()
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_post_list_show_reply_json(kb, capsys):
    code, out, _ = run(capsys, "kb", "post", "--kind", "rex_request", "--title", "Covoiturage ?", "--anchor", "territory:69123",
                       "--theme", "mobilité", "--body", "Qui a un REX ?", "--json")  # fmt: skip
    assert code == 0
    thread = json.loads(out)["thread"]
    code, out, _ = run(capsys, "kb", "reply", thread, "--as", "acme", "--kind", "rex", "--body", "Trois communes équipées.")
    assert code == 0 and "enregistré" in out
    code, out, _ = run(capsys, "kb", "list", "--json")
    listed = json.loads(out)
    assert [(t["id"], t["replies"], t["themes"]) for t in listed] == [(thread, 1, ["mobilité"])]
    code, out, _ = run(capsys, "kb", "show", thread, "--json")
    assert [p["author"] for p in json.loads(out)["posts"]] == ["marie", "acme"]
    code, out, _ = run(capsys, "kb", "search", "--territory", "69266", "--nearby", "--json")
    assert [p["kind"] for p in json.loads(out)] == ["rex"]
    code, out, _ = run(capsys, "kb", "show", thread)
    assert "# Covoiturage ?" in out and "Trois communes équipées." in out
    code, out, _ = run(capsys, "kb", "members", "list", "--json")
    assert [m["id"] for m in json.loads(out)] == ["acme", "marie"]


def test_body_from_stdin_file(kb, capsys, monkeypatch, tmp_path):
    f = tmp_path / "msg.md"
    f.write_text("Depuis un **fichier**", encoding="utf-8")
    code, out, _ = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body-file", str(f), "--json")
    assert code == 0 and json.loads(out)["body"] == "Depuis un **fichier**"


def test_moderation_commands(kb, capsys):
    _, out, _ = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body", "x", "--json")
    post = json.loads(out)["id"]
    assert run(capsys, "kb", "flag", post, "--as", "acme", "--reason", "hors sujet")[0] == 0
    code, _, err = run(capsys, "kb", "hide", post, "--as", "acme", "--reason", "x")
    assert code == 2 and "modérateur" in err
    assert run(capsys, "kb", "hide", post, "--reason", "doublon")[0] == 0
    _, out, _ = run(capsys, "kb", "list", "--moderation", "--json")
    assert json.loads(out)[0]["hidden"] is True and json.loads(out)[0]["flags"] == 1
    assert run(capsys, "kb", "restore", post, "--reason", "erreur")[0] == 0
    _, out, _ = run(capsys, "kb", "list", "--as", "acme", "--json")
    assert len(json.loads(out)) == 1
    log = subprocess.run(["git", "log", "--format=%an: %s", "-3"], cwd=kb, capture_output=True, text=True).stdout
    assert log.splitlines()[0].startswith("Marie Test: restore")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kb", "post", "--title", "t", "--anchor", "territory:../x", "--body", "x"], "Clé d'ancrage"),
        (["kb", "post", "--title", "t", "--anchor", "app:zan", "--body", "x", "--kind", "pub"], "Type de fil inconnu"),
        (["kb", "post", "--title", "t", "--anchor", "app:zan"], "Message vide"),
        (["kb", "post", "--as", "acme", "--title", "t", "--anchor", "app:zan", "--body", "Demandez votre devis", "--to", "elu"], "démarchage"),
        (["kb", "show", "t-20261124-00000000"], "Fil inconnu"),
        (["kb", "show", "../../etc"], "Identifiant de fil invalide"),
        (["kb", "members", "add", "x", "--as", "acme", "--name", "X", "--role", "elu"], "modérateur"),
        (["kb", "members", "add", "X Y", "--name", "X", "--role", "elu"], "Identifiant de membre invalide"),
        (["kb", "sync", "--", "-uhack"], "Dépôt distant invalide"),
    ],
)
def test_errors_are_clear(kb, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_held_message_is_reported(kb, capsys):
    _, out, _ = run(capsys, "kb", "post", "--title", "t", "--anchor", "app:zan", "--body", "x", "--json")
    thread = json.loads(out)["thread"]
    code, out, _ = run(capsys, "kb", "reply", thread, "--as", "acme", "--body", "Coût : 12 000 € HT")
    assert code == 0 and "retenu pour modération" in out


def test_missing_kb_says_how_to_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PLANECO_KB", str(tmp_path / "absent"))
    code, _, err = run(capsys, "kb", "list")
    assert code == 2 and "planeco kb init" in err


def test_sync_and_init_from(kb, capsys, tmp_path):
    remote = tmp_path / "commun.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    assert run(capsys, "kb", "sync", str(remote))[0] == 0
    copy = tmp_path / "copie"
    assert run(capsys, "kb", "init", str(copy), "--from", str(remote))[0] == 0
    code, _, err = run(capsys, "kb", "post", "--kb", str(copy), "--title", "t", "--anchor", "app:zan", "--body", "x")
    assert code == 2 and "Identité inconnue" in err  # a fresh copy has no identity until one is configured
    subprocess.run(["git", "config", "user.email", "marie@membres.planeco.invalid"], cwd=copy, check=True)
    _, out, _ = run(capsys, "kb", "post", "--kb", str(copy), "--title", "depuis la copie", "--anchor", "app:zan", "--body", "x", "--json")  # noqa: E501
    assert run(capsys, "kb", "sync", "--kb", str(copy), str(remote))[0] == 0
    code, out, _ = run(capsys, "kb", "sync", str(remote))
    assert code == 0 and "1 commit(s) reçu(s)" in out
    _, out, _ = run(capsys, "kb", "list", "--json")
    assert [t["title"] for t in json.loads(out)] == ["depuis la copie"]


def test_whoami(kb, capsys):
    assert "marie — Marie Test (elu, modérateur·rice)" in run(capsys, "kb", "whoami")[1]
    assert run(capsys, "kb", "whoami", "--set", "acme")[0] == 0
    assert run(capsys, "kb", "whoami")[1].startswith("acme")


def test_check(kb, capsys):
    code, out, _ = run(capsys, "kb", "check")
    assert code == 0 and "saine" in out
