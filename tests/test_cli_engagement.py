"""``planeco assessment …`` and ``planeco actions …`` through the CLI entry point.

Knowledge base, actors and answers are INVENTED TEST DATA; territories come from the real bundle.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from planeco_kernel.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "actions" / "plan_essai.csv"


@pytest.fixture()
def kb(tmp_path, monkeypatch):
    from planeco_kernel.knowledge import KnowledgeBase, Member

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    root = tmp_path / "kb"
    k = KnowledgeBase.init(root, Member("agent", "Agent Essai", "agent", territory="86194"))
    for i in range(6):
        k.add_member(Member(f"a{i}", f"Entreprise {i} (essai)", "entreprise", territory="86194"), actor="agent")
    monkeypatch.setenv("PLANECO_KB", str(root))
    monkeypatch.setenv("JUPYTERHUB_USER", "agent")
    return k


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_shipped_and_bad_referentiel(capsys, tmp_path):
    from planeco_kernel.assessment.referentiel import DEFAULT_FILE
    from planeco_kernel.assessment.toolbox import DEFAULT_FILE as TOOLBOX

    code, out, _ = run(capsys, "assessment", "check", str(DEFAULT_FILE), "--toolbox", str(TOOLBOX))
    assert code == 0 and "7 champs" in out and "Boîte à outils valide" in out
    bad = tmp_path / "ref.yaml"
    bad.write_text(DEFAULT_FILE.read_text("utf-8").replace("          4: Pilotage en continu avec alertes et objectifs par usage.\n", ""), "utf-8")
    line = next(i for i, t in enumerate(bad.read_text("utf-8").splitlines(), 1) if "id: ene_suivi" in t) + 3  # its ladder
    code, _, err = run(capsys, "assessment", "check", str(bad))
    assert code == 2 and f"ref.yaml, ligne {line} : critère « ene_suivi » : l'échelle doit avoir les niveaux 0 à 4 ; manquent 4." in err


def test_score_text_and_json(capsys, tmp_path):
    f = tmp_path / "reponses.yaml"
    f.write_text(textwrap.dedent("""\
        format: 1
        referentiel: planeco-acteurs
        year: 2026
        actor: {id: a1, name: Entreprise d'essai, type: entreprise, size_class: micro, territory: "86194"}
        answers:
          ene_suivi: {level: 4, evidence: relevés mensuels}
          ene_sobriete: {level: 2}
          ene_renouvelable: {status: non_concerne}
        """), "utf-8")
    code, out, _ = run(capsys, "assessment", "score", str(f), "--json")
    d = json.loads(out)
    energie = next(x for x in d["fields"] if x["id"] == "energie")
    assert code == 0 and energie["percent"] == 75.0 and energie["not_concerned"] == ["ene_renouvelable"]
    code, out, _ = run(capsys, "assessment", "score", str(f))
    assert code == 0 and "75\u202f%" in out and "redistribués" in out
    f.write_text(f.read_text("utf-8").replace("level: 2", "level: 9"), "utf-8")
    code, _, err = run(capsys, "assessment", "score", str(f))
    assert code == 2 and "reponses.yaml, ligne 7" in err and "hors de l'échelle" in err


@pytest.mark.bundle
def test_territory_view_threshold(capsys, kb, monkeypatch, bundle_dir):
    from planeco_kernel.assessment import (
        ActorProfile,
        Answer,
        load_referentiel,
        new_assessment,
    )
    from planeco_kernel.assessment.store import save_assessment

    ref = load_referentiel()
    for i in range(5):
        monkeypatch.setenv("JUPYTERHUB_USER", f"a{i}")
        a = new_assessment(ref, ActorProfile(f"a{i}", f"Entreprise {i} (essai)", "entreprise", "micro", "86194"), 2026)
        save_assessment(kb, ref, a.with_answers({c: Answer(i % 5) for c in ref.criteria}))
        code, out, _ = run(capsys, "assessment", "territory", "86194", "--json")
        d = json.loads(out)
        assert code == 0 and d["actors"] == i + 1 and d["shown"] == (i + 1 >= 5)
        assert "Entreprise" not in json.dumps(d["distribution"]) and all(f"a{j}" not in out for j in range(5))
    code, out, _ = run(capsys, "assessment", "territory", "86194")
    assert code == 0 and "Répartition des niveaux" in out and "Poitiers" in out
    code, out, _ = run(capsys, "kb", "check")
    assert code == 0, out                                  # assessments are checked knowledge-base documents


@pytest.mark.bundle
def test_actions_import_list_export(capsys, kb, tmp_path, bundle_dir, monkeypatch):
    code, out, _ = run(capsys, "actions", "import", str(FIXTURE))
    assert code == 0 and "3 actions importées" in out
    code, out, _ = run(capsys, "actions", "import", str(FIXTURE))
    assert code == 0 and "aucune modification" in out
    code, out, _ = run(capsys, "kb", "check")
    assert code == 0, out                                  # action sheets are checked knowledge-base documents
    # a sheet belongs to the member who imported it first: another member cannot rewrite it
    changed = tmp_path / "autre.csv"
    changed.write_text(FIXTURE.read_text("utf-8").replace("en cours", "réalisé"), "utf-8")
    monkeypatch.setenv("JUPYTERHUB_USER", "a0")
    code, _, err = run(capsys, "actions", "import", str(changed))
    assert code != 0 and "appartient à « agent »" in err
    monkeypatch.setenv("JUPYTERHUB_USER", "agent")
    code, out, _ = run(capsys, "actions", "import", str(FIXTURE))
    assert code == 0 and "aucune modification" in out     # nothing was written by the refused import
    code, out, _ = run(capsys, "actions", "list", "--lever", "augm_covoit")
    assert code == 0 and "ESSAI-01" in out and "ESSAI-02" not in out
    code, out, _ = run(capsys, "actions", "list", "--territory", "200069854", "--json")
    assert code == 0 and [a["id"] for a in json.loads(out)] == ["ESSAI-01", "ESSAI-02", "ESSAI-03"]
    code, out, _ = run(capsys, "actions", "list", "--territory", "69123")
    assert code == 0 and "Aucune action" in out
    code, _, err = run(capsys, "actions", "list", "--lever", "nope")
    assert code == 2 and "Levier SGPE inconnu" in err
    code, out, _ = run(capsys, "actions", "export", str(tmp_path / "out.xlsx"))
    assert code == 0 and (tmp_path / "out.xlsx").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(FIXTURE.read_text("utf-8").replace("en cours", "fini"), "utf-8")
    code, _, err = run(capsys, "actions", "import", str(bad))
    assert code == 2 and "bad.csv, ligne 2, colonne « statut » : statut inconnu « fini »" in err
    code, out, _ = run(capsys, "actions", "list", "--levers")
    assert code == 0 and "augm_covoit" in out and "SGPE" in out
