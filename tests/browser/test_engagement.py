"""The « Auto-évaluation » and « Plan d'actions » apps in headless Chromium (offline).

The knowledge base is the session fixture ``kb_dir`` (invented test data); the server's local
identity is ``marie``. The action inventory imported is tests/fixtures/actions (invented).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
TIMEOUT = 90_000
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "actions"


def _open(page, server, app: str, root: str) -> None:
    page.goto(server + f"voila/render/{app}.ipynb")
    page.locator(root).wait_for(state="visible", timeout=TIMEOUT)


def _status(page, prefix: str, text: str) -> None:
    page.locator(f".{prefix}-status", has_text=text).wait_for(timeout=TIMEOUT)


def _choose(page, files) -> None:
    """Pick files with the upload button's file chooser, as a user does."""
    with page.expect_file_chooser(timeout=TIMEOUT) as chooser:
        page.locator(".planeco-pa-upload").click()
    chooser.value.set_files([str(f) for f in files])


def test_gallery_lists_both_apps(server, offline_page):
    op = offline_page()
    op.page.goto(server)
    for title in ("Auto-évaluation des acteurs", "Plan d'actions"):
        card = op.page.locator(".planeco-card", has_text=title)
        assert card.count() == 1
        assert card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")


def test_fill_questionnaire_end_to_end_then_resume(server, offline_page, kb_dir, artifacts_dir):
    from planeco_kernel.assessment import load_referentiel, store
    from planeco_kernel.knowledge import KnowledgeBase

    ref = load_referentiel()
    op = offline_page()
    page = op.page
    _open(page, server, "auto_evaluation", ".planeco-ae-app")
    assert "Marie Essai" in page.locator(".planeco-ae-identity").inner_text()
    page.locator(".planeco-ae-name input").fill("Métropole d'essai <b>test</b>")
    page.locator(".planeco-ae-type select").select_option(label="Établissement public")
    page.locator(".planeco-ae-size select").select_option(label="250 personnes et plus")
    page.locator(".planeco-ae-territory input").fill("69123")
    page.locator(".planeco-ae-territory input").press("Tab")
    page.locator(".planeco-ae-profile-save").click()
    _status(page, "planeco-ae", "Profil enregistré")

    for i, f in enumerate(ref.fields):
        page.locator(f".planeco-ae-save-{f.id}").wait_for(state="visible", timeout=TIMEOUT)
        for j, c in enumerate(f.criteria):
            select = page.locator(f".planeco-ae-crit-{c.id} select")
            if c.id == "eau_rejets":
                select.select_option(label="Non concerné")
            else:
                select.select_option(index=1 + (i + j) % 5)   # option 0 is « à renseigner »; level (i + j) % 5
        page.locator(".planeco-ae-evidence-" + f.criteria[0].id + " input").fill(f"Preuve {f.id} (essai)")
        page.locator(".planeco-ae-evidence-" + f.criteria[0].id + " input").press("Tab")
        page.locator(f".planeco-ae-save-{f.id}").click()
        _status(page, "planeco-ae", f"Champ « {f.title} » enregistré")

    results = page.locator(".planeco-ae-results")
    results.wait_for(timeout=TIMEOUT)
    assert "Score global" in results.inner_text()
    assert page.locator(".planeco-ae-radar svg").count() == 1
    assert "<b>" in page.locator(".planeco-ae-results h2").inner_text()  # shown as text, not markup
    assert "moins de 5 structures" in page.locator(".planeco-ae-comparison").inner_text()
    assert page.locator(".planeco-ae-recommendations li").count() >= 1
    page.screenshot(path=str(artifacts_dir / "40_auto_evaluation_resultats.png"), full_page=True)

    # stored in git, one commit per save, by marie
    kb = KnowledgeBase(kb_dir)
    year = dt.date.today().year
    a = store.load_assessment(kb, ref, "marie", year)
    assert a.actor.type == "etablissement_public" and a.actor.territory == "69123"
    assert a.answers["eau_rejets"].not_concerned and a.answers["ene_suivi"].level == (1 + 0) % 5
    assert a.answers["pil_strategie"].evidence == "Preuve pilotage (essai)"
    revs = store.revisions(kb, store.assessment_path("marie", year))
    assert len(revs) == 1 + len(ref.fields) and all(r.author.startswith("Marie Essai") for r in revs)

    # commit to the first recommended action, then print the summary
    page.locator(".planeco-ae-engage input").first.check()
    page.locator(".planeco-ae-commit-save").click()
    _status(page, "planeco-ae", "Engagements enregistrés")
    page.locator(".planeco-ae-summary").click()
    link = page.locator(".planeco-ae-downloads a", has_text="HTML")
    link.wait_for(timeout=TIMEOUT)
    assert link.get_attribute("download").endswith(".html")

    # resume: a new visit finds every answer where it was left
    op2 = offline_page()
    page2 = op2.page
    _open(page2, server, "auto_evaluation", ".planeco-ae-app")
    _status(page2, "planeco-ae", "Reprise de votre auto-évaluation")
    page2.locator(".planeco-ae-nav button", has_text="Eau").click()
    sel = page2.locator(".planeco-ae-crit-eau_rejets select")
    sel.wait_for(state="visible", timeout=TIMEOUT)
    assert sel.evaluate("s => s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ')") == "Non concerné"
    page2.locator(".planeco-ae-nav button", has_text="Énergie").click()
    sel = page2.locator(".planeco-ae-crit-ene_suivi select")
    sel.wait_for(state="visible", timeout=TIMEOUT)
    assert sel.evaluate("s => s.options[s.selectedIndex].text.replace(/\\u00a0/g, ' ')").startswith("1 — ")
    assert page2.locator(".planeco-ae-name input").input_value() == "Métropole d'essai <b>test</b>"
    page2.screenshot(path=str(artifacts_dir / "41_auto_evaluation_reprise.png"), full_page=True)
    assert op.blocked == [] and op2.blocked == [], f"network requests: {op.blocked + op2.blocked}"


def test_import_actions_then_timeline_and_cop_rollup(server, offline_page, tmp_path, artifacts_dir):
    op = offline_page()
    page = op.page
    _open(page, server, "plan_actions", ".planeco-pa-app")
    # a bad file first: refused with the row and column, nothing imported
    bad = tmp_path / "plan_faux.csv"
    bad.write_text((FIXTURES / "plan_essai.csv").read_text("utf-8").replace("2025-01-15", "2025-02-30"), "utf-8")
    _choose(page, [bad])
    page.locator(".planeco-pa-import").click()
    _status(page, "planeco-pa", "Import refusé")
    assert "plan_faux.csv, ligne 2, colonne « debut » : date invalide « 2025-02-30 »" in page.locator(".planeco-pa-status").inner_text()

    _choose(page, [FIXTURES / "plan_essai.csv", FIXTURES / "plan_essai_indicateurs.csv"])
    page.locator(".planeco-pa-import").click()
    _status(page, "planeco-pa", "3 actions importées")
    page.locator("table.planeco-pa-table caption", has_text="3 actions sur 3").wait_for(timeout=TIMEOUT)
    assert page.locator("table.planeco-pa-table tr[data-action]").count() == 3

    page.get_by_role("tab", name="Calendrier").click()
    page.locator(".planeco-pa-gantt", has_text="ESSAI-03").wait_for(state="visible", timeout=TIMEOUT)
    text = page.locator(".planeco-pa-gantt svg").inner_html()
    assert "ESSAI-01" in text and "ESSAI-02" in text and "en cours" in text
    page.screenshot(path=str(artifacts_dir / "42_plan_actions_calendrier.png"), full_page=True)

    page.get_by_role("tab", name="Indicateurs").click()
    page.locator(".planeco-pa-indicators", has_text="Trajets covoiturés").wait_for(timeout=TIMEOUT)
    assert "33\u202f%" in page.locator(".planeco-pa-indicators").inner_text()

    page.get_by_role("tab", name="Synthèse et COP").click()
    roll = page.locator(".planeco-pa-rollup")
    roll.locator("table", has_text="Covoiturage").first.wait_for(timeout=TIMEOUT)
    by_lever = roll.locator("table", has_text="Par levier COP").inner_text()
    assert "Covoiturage" in by_lever and "1,5" in by_lever
    cop = roll.locator("table", has_text="feuille de route COP").inner_text()
    assert "ESSAI-01" in cop and "ESSAI-02" in cop and "ktCO2e" in cop and "2030" in cop
    page.screenshot(path=str(artifacts_dir / "43_plan_actions_synthese.png"), full_page=True)

    # filter by lever: the table narrows
    page.locator(".planeco-pa-f-lever select").select_option(label="Covoiturage (augm_covoit)")
    page.get_by_role("tab", name="Tableau").click()
    page.locator("table.planeco-pa-table caption", has_text="1 action sur 3").wait_for(timeout=TIMEOUT)
    assert op.blocked == [], f"network requests: {op.blocked}"
