"""The COP app in headless Chromium: the four steps, with two participants.

Participant 1 is the server's identity (``marie``, PLANECO_KB_USER) acting in the browser;
participant 2 (``paul``, INVENTED TEST MEMBER) acts through the knowledge base at the same time,
as from another session; the app shows both positions in the debate.
"""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.browser
TIMEOUT = 90_000


def test_cop_four_steps_two_participants(server, offline_page, kb_dir, artifacts_dir, small_bundle_dir):
    from planeco_kernel.knowledge import KnowledgeBase, Member
    from planeco_kernel.trajectories import debate as D

    kb = KnowledgeBase(kb_dir)
    if "paul" not in {m.id for m in kb.members()}:
        kb.add_member(Member("paul", "Paul Essai (données de test)", "agent", territory="59350"), actor="marie")
    op = offline_page(width=1400, height=1000)
    page = op.page
    page.goto(server + "voila/render/cop.ipynb?region=32")
    app = page.locator(".planeco-cop-app")
    app.wait_for(state="visible", timeout=TIMEOUT)
    page.get_by_text("COP territoriale — Hauts-de-France").wait_for(timeout=TIMEOUT)
    assert "indicatives, non contraignantes" in page.locator(".cop-notice-box").first.inner_text()

    # 1. Diagnostic partagé: a treemap tile opens its lever
    tile = page.locator(".cop-tile").nth(1)
    name = tile.inner_text().strip()
    tile.click()
    page.locator(".cop-lever h3", has_text=name[:20]).wait_for(timeout=TIMEOUT)
    assert "54,47" in page.locator(".cop-zan").inner_text()
    page.screenshot(path=str(artifacts_dir / "40_cop_diagnostic.png"), full_page=True)

    # 2. Débat: marie proposes, paul objects from elsewhere, marie supports, a conclusion is required
    page.get_by_role("tab", name="2. Débat").click()
    page.locator(".cop-p-title input").fill("Aires de covoiturage (essai)")
    page.locator(".cop-p-body textarea").fill("Une aire par bassin d'emploi.")
    page.locator(".cop-propose").click()
    page.locator(".cop-debates", has_text="Aires de covoiturage (essai)").wait_for(timeout=TIMEOUT)
    thread = kb.threads("paul", text="Aires de covoiturage")[0]
    D.take_position(kb, "paul", thread.id, "contre", "Plutôt des lignes de car (essai).")
    page.locator(".cop-pos-text textarea").fill("Indispensable hors des villes (essai).")
    page.locator(".cop-position").click()
    page.locator(".cop-debates", has_text="Pour : 1 · Contre : 1").wait_for(timeout=TIMEOUT)
    assert "Plutôt des lignes de car" in page.locator(".cop-debates").inner_text()
    page.locator(".cop-conclude").click()
    page.locator(".cop-status", has_text="conclusion est nécessaire").wait_for(timeout=TIMEOUT)
    page.locator(".cop-concl-text textarea").fill("Retenu : une aire par bassin (essai).")
    page.locator(".cop-conclude").click()
    page.locator(".cop-debates", has_text="Retenu : une aire par bassin").wait_for(timeout=TIMEOUT)
    # scenario card: a lever change updates the sector gaps live
    before = page.locator(".cop-scenario-gaps").inner_text()
    box = page.locator(".cop-scenario-input input").first
    box.fill("0")
    box.press("Enter")
    page.wait_for_function("b => document.querySelector('.cop-scenario-gaps').innerText !== b", arg=before, timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "41_cop_debat.png"), full_page=True)

    # 3. Déclinaison: sums checked
    page.get_by_role("tab", name="3. Déclinaison").click()
    check = page.locator(".cop-decl-check")
    check.wait_for(state="visible", timeout=TIMEOUT)
    assert "exact" in check.inner_text() and "clé de répartition" in check.inner_text()
    # one row per département of Hauts-de-France in the served bundle (5; 1 in the tests' fast bundle)
    deps = pd.read_parquet(small_bundle_dir / "territories.parquet").query("level == 'departement' and region_code == '32'")
    assert page.locator(".cop-declension tbody tr").count() == len(deps) >= 1
    page.screenshot(path=str(artifacts_dir / "42_cop_declinaison.png"), full_page=True)

    # 4. Feuille de route: a commitment moves the gauges; exports offered
    page.get_by_role("tab", name="4. Feuille de route 2030").click()
    page.locator(".cop-c-actor input").fill("Commune test (essai)")
    q = page.locator(".cop-c-quantity input")
    q.fill("40")
    q.press("Enter")
    page.locator(".cop-commit-add").click()
    page.locator(".cop-status", has_text="Engagement ajouté").wait_for(timeout=TIMEOUT)
    assert "Commune test (essai)" in page.locator(".cop-gauges-box").locator("xpath=..").inner_text()
    assert page.locator("a.cop-export-xlsx").count() == 1 and page.locator("a.cop-export-html").count() == 1
    page.screenshot(path=str(artifacts_dir / "43_cop_feuille_de_route.png"), full_page=True)
    assert op.errors == [], op.errors
    assert op.blocked == [], f"the app asked for network resources: {op.blocked}"
