"""The « Échanges » app in headless Chromium: browse, read (hostile HTML neutralised), reply, nearby REX.

The knowledge base is the session fixture ``kb_dir`` (invented test data); the server's local
identity is ``marie`` (the git identity that ``KnowledgeBase.init`` writes in the repository).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
TIMEOUT = 60_000


def _open_app(op, server):
    page = op.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "voila/render/echanges.ipynb")
    page.locator(".planeco-kb-app").wait_for(state="visible", timeout=TIMEOUT)
    return page, dialogs


def test_gallery_lists_echanges(server, offline_page):
    op = offline_page()
    op.page.goto(server)
    card = op.page.locator(".planeco-card", has_text="Échanges entre territoires")
    assert card.count() == 1
    assert card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")


def test_browse_read_reply(server, offline_page, kb_dir, artifacts_dir):
    from planeco_kernel.knowledge import KnowledgeBase

    op = offline_page()
    page, dialogs = _open_app(op, server)
    assert "Marie Essai" in page.locator(".planeco-kb-identity").inner_text()
    item = page.locator(".planeco-kb-thread-item", has_text="Réseau de chaleur bois")
    item.wait_for(state="visible", timeout=TIMEOUT)
    item.click()
    view = page.locator(".planeco-kb-thread-view")
    view.locator("strong", has_text="2024").wait_for(timeout=TIMEOUT)   # Markdown rendered
    # hostile HTML is neutralised: no script ran, no event handler fired, no <script> in the DOM
    assert page.evaluate("window.__pwned === undefined")
    assert view.locator("script, img[onerror]").count() == 0
    assert dialogs == []
    page.screenshot(path=str(artifacts_dir / "20_echanges_fil.png"), full_page=True)

    page.locator(".planeco-kb-reply-body textarea").fill("Merci : quel coût par logement raccordé ? (essai)")
    page.locator(".planeco-kb-reply-send").click()
    view.get_by_text("quel coût par logement raccordé", exact=False).wait_for(timeout=TIMEOUT)
    assert "Réponse publiée" in page.locator(".planeco-kb-status").inner_text()
    # the reply is a commit by marie in the git repository
    thread = KnowledgeBase(kb_dir).threads("marie", text="chaleur")[0]
    posts = KnowledgeBase(kb_dir).thread(thread.id, "marie").posts
    assert [p.author for p in posts] == ["marie", "marie"] and "coût" in posts[-1].body
    page.screenshot(path=str(artifacts_dir / "21_echanges_reponse.png"), full_page=True)
    assert op.blocked == [], f"the app asked for network resources: {op.blocked}"


def test_nearby_rex_of_a_neighbouring_commune(server, offline_page):
    op = offline_page()
    page, _ = _open_app(op, server)
    page.get_by_role("tab", name="REX proches").click()
    # marie's territory is Lyon (69123): the REX of Villeurbanne (same Métropole) is listed
    nearby = page.locator(".planeco-kb-nearby")
    nearby.locator("li", has_text="Réseau de chaleur bois").wait_for(timeout=TIMEOUT)
    assert "modèle de territoires" in nearby.inner_text()
