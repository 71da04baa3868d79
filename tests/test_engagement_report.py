"""The engagement report template runs through ``planeco reports run`` (papermill) on a knowledge
base of INVENTED TEST DATA (five actors of Poitiers and the action fixture), on the real bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.bundle, pytest.mark.slow, pytest.mark.usefixtures("use_small_bundle")]
FIXTURE = Path(__file__).parent / "fixtures" / "actions" / "plan_essai.csv"


@pytest.fixture()
def kb(tmp_path, monkeypatch):
    from planeco_kernel.actions import import_table, save, territory_resolver
    from planeco_kernel.assessment import (
        ActorProfile,
        Answer,
        load_referentiel,
        new_assessment,
    )
    from planeco_kernel.assessment.levers import load_levers
    from planeco_kernel.assessment.store import save_assessment
    from planeco_kernel.knowledge import KnowledgeBase, Member

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    k = KnowledgeBase.init(tmp_path / "kb", Member("agent", "Agent Essai", "agent", territory="86194"))
    ref = load_referentiel()
    for i in range(5):
        k.add_member(Member(f"e{i}", f"Structure secrète {i}", "entreprise", territory="86194"), actor="agent")
    for i in range(5):
        monkeypatch.setenv("JUPYTERHUB_USER", f"e{i}")
        a = new_assessment(ref, ActorProfile(f"e{i}", f"Structure secrète {i}", "entreprise", "micro", "86194"), 2026)
        save_assessment(k, ref, a.with_answers({c: Answer(i % 5) for c in ref.criteria}))
    monkeypatch.setenv("JUPYTERHUB_USER", "agent")
    save(k, import_table(FIXTURE, load_levers(), territory_resolver()), "import")
    return k


def test_engagement_report_runs_through_papermill(kb, tmp_path, small_bundle_dir):
    from planeco_kernel.reports import executor
    from planeco_kernel.reports.runner import RunOptions, run_reports

    try:
        res = run_reports(RunOptions(level="epci", territories=["200069854"], template="engagement_territoire",
                                     out=tmp_path / "out", progress=False, parameters={"kb": str(kb.root)}))
    finally:
        executor.close_pool()
    assert [(o.status, o.error) for o in res.outcomes] == [("ok", None)]
    folder = tmp_path / "out" / "epci" / "200069854"
    html = (folder / "rapport.html").read_text("utf-8")
    body = html[html.index("<body"):]
    assert "Engagement des acteurs — CU du Grand Poitiers" in body
    assert "Répartition des niveaux de maturité" in body and "ESSAI-01" in body and "Covoiturage" in body
    assert "Structure secrète" not in body            # no actor is named next to a score
    csv = (folder / "annexe_chiffres.csv").read_text("utf-8")
    assert "structures engagées" in csv and "engagements — Covoiturage" in csv
