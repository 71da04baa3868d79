"""The gallery page and the look, in headless Chromium (offline)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser


def test_gallery_lists_apps_offline(server, offline_page, artifacts_dir):
    op = offline_page()
    page = op.page
    page.goto(server)
    cards = page.locator(".planeco-card")
    assert cards.count() >= 1
    fiche = page.locator(".planeco-card", has_text="Fiche territoire")
    assert "population" in fiche.inner_text()
    # the thumbnail is really served (an image with a size, not a broken icon)
    assert fiche.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(".planeco-brand__name").inner_text() == "planeco"
    page.screenshot(path=str(artifacts_dir / "01_galerie.png"), full_page=True)
    assert op.blocked == [], f"the gallery asked for network resources: {op.blocked}"


def test_gallery_keyboard_and_tablet(server, offline_page, artifacts_dir):
    op = offline_page(width=768, height=1024)
    page = op.page
    page.goto(server)
    # keyboard: Tab reaches the skip link first, then the brand, then the app link, with a visible outline
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "planeco-skip"
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Fiche territoire":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Fiche territoire"
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('.planeco-card')).outlineStyle")
    assert outline == "solid"
    # no horizontal scrolling at tablet width
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(artifacts_dir / "02_galerie_tablette.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/voila/render/fiche_territoire.ipynb")


def test_hello_app_uses_planeco_template(server, offline_page, artifacts_dir):
    op = offline_page()
    page = op.page
    t0 = time.monotonic()
    page.goto(server + "voila/render/hello.ipynb")
    page.locator("h1.hello").wait_for(state="visible", timeout=60_000)
    elapsed = time.monotonic() - t0
    assert page.locator(".planeco-brand__name").is_visible()
    # code is never shown
    assert page.locator(".jp-InputArea:visible, .jp-CodeMirrorEditor:visible").count() == 0
    assert "import ipywidgets" not in page.content()
    page.screenshot(path=str(artifacts_dir / "03_hello.png"))
    assert op.blocked == [], f"the app asked for network resources: {op.blocked}"
    assert elapsed < 30


def test_voila_file_listing_redirects_to_gallery(server, offline_page):
    op = offline_page()
    op.page.goto(server + "voila/tree")
    op.page.locator(".planeco-card").first.wait_for(timeout=30_000)
    assert op.page.url == server


@pytest.mark.parametrize("path", [
    "voila/api/themes/@jupyterlab/theme-light-extension/index.css",
])
def test_voila_theme_assets_are_served(server, path):
    """A missing theme stylesheet makes JupyterLab pop up « Error Loading Theme » over the apps."""
    import urllib.request

    with urllib.request.urlopen(server + path, timeout=10) as r:
        assert r.status == 200 and len(r.read()) > 1000


def test_no_error_dialog_on_the_comparateur(server, offline_page):
    op = offline_page()
    page = op.page
    page.goto(server + "voila/render/comparateur.ipynb?territoire=42218")
    page.locator(".planeco-cmp-cards-body").first.wait_for(state="visible", timeout=90_000)
    page.wait_for_timeout(1000)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()


def _kernel_status(op, url: str) -> int:
    return op.context.request.get(url).status


def test_leaving_an_app_shuts_its_kernel_down(server, offline_page):
    """A visitor who closes the tab frees the app's kernel (1.5 GB for the Comparateur) at once,
    not when culled 15 min later: Voilà's page posts the ``_xsrf`` cookie's token to
    ``voila/api/shutdown/<kernel>`` on ``beforeunload``, and planeco's page handler sets that
    cookie (Voilà's own does not: the post was refused, voila-dashboards/voila#1458)."""
    op = offline_page()
    page = op.page
    page.goto(server + "voila/render/hello.ipynb")
    page.locator("h1.hello").wait_for(state="visible", timeout=90_000)
    cfg = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    xsrf = [c for c in op.context.cookies() if c["name"] == "_xsrf"]
    assert len(xsrf) == 1 and xsrf[0]["path"] == cfg["baseUrl"], xsrf
    kernel = server + f"api/kernels/{cfg['kernelId']}"
    assert _kernel_status(op, kernel) == 200
    page.goto("about:blank")  # the person leaves the app
    deadline = time.monotonic() + 20
    while _kernel_status(op, kernel) != 404:
        assert time.monotonic() < deadline, "the kernel still runs 20 s after its page was left"
        time.sleep(0.2)


def test_a_forged_shutdown_without_the_token_is_refused(server, offline_page):
    """The shutdown stays protected against cross-site requests: without the token it is refused."""
    op = offline_page()
    page = op.page
    page.goto(server + "voila/render/hello.ipynb")
    page.locator("h1.hello").wait_for(state="visible", timeout=90_000)
    kernel_id = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    r = op.context.request.post(server + f"voila/api/shutdown/{kernel_id}", form={"_xsrf": "forged"})
    assert r.status == 403
    assert _kernel_status(op, server + f"api/kernels/{kernel_id}") == 200
