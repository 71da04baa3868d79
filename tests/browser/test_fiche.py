"""The "Fiche territoire" app in headless Chromium (offline), on the real data bundle."""

from __future__ import annotations

import re

import pytest

from planeco_kernel import fmt

from _keyboard import tab_until

pytestmark = pytest.mark.browser

APP = "voila/render/fiche_territoire.ipynb"
TIMEOUT = 90_000


HAS_CONTOURS = True


@pytest.fixture(scope="module")
def model(use_small_bundle):
    global HAS_CONTOURS
    from planeco_kernel.bundle.schema import DISPLAY_GEOMETRY

    HAS_CONTOURS = (use_small_bundle / DISPLAY_GEOMETRY.path).is_file()
    from planeco_kernel.territory import load_model

    return load_model()


def _wait_app(page) -> None:
    page.locator(".planeco-search input").wait_for(state="visible", timeout=TIMEOUT)


def _digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _check_fiche(page, t) -> None:
    """The fiche of ``t`` is shown: title, chart image, figures equal to the model's, map drawn."""
    title = page.locator(".planeco-fiche-title")
    title.wait_for(state="visible", timeout=TIMEOUT)
    assert title.get_attribute("data-key") == t.key
    assert page.locator(".planeco-fiche-title h2").inner_text() == t.name
    page.locator(f".planeco-chart-body[data-key='{t.key}']").wait_for(timeout=TIMEOUT)
    pop = t.population
    if pop:
        img = page.locator("img.planeco-chart-img")
        img.wait_for(state="visible", timeout=TIMEOUT)
        assert img.evaluate("i => i.complete && i.naturalWidth > 300")
        # every figure of the table is the library's own number, in French formatting
        shown = {int(r.get_attribute("data-year")): r.locator("td").first.text_content()
                 for r in page.locator(".planeco-pop-table tbody tr").all()}
        for year, value in pop.items():
            assert shown[year] == fmt.integer(value), (year, shown[year], value)
        assert str(max(pop)) in page.locator(".planeco-chart figcaption").inner_text()
        assert "Insee" in page.locator(".planeco-chart figcaption").inner_text()
    else:
        assert "Aucune donnée de population" in page.locator(".planeco-chart").inner_text()
    # the map has drawn something (canvas renderer: prefer_canvas) inside the leaflet container
    if not HAS_CONTOURS:  # a bundle built without contours: the app must say so, not draw nothing silently
        page.locator(".planeco-map-note .planeco-alert", has_text="Carte indisponible").wait_for(timeout=TIMEOUT)
        return
    drawn = page.locator(".planeco-map .leaflet-overlay-pane canvas, .planeco-map .leaflet-overlay-pane path")
    drawn.first.wait_for(state="attached", timeout=TIMEOUT)
    assert drawn.count() >= 1


def test_search_without_accents_select_and_navigate(server, offline_page, artifacts_dir, model):
    op = offline_page()
    page = op.page
    page.goto(server + APP)
    _wait_app(page)
    page.screenshot(path=str(artifacts_dir / "10_fiche_accueil.png"))
    assert "planeco_kernel" not in page.content()  # code is never shown
    expected = model.get("42218")  # Saint-Étienne
    page.locator(".planeco-search input").fill("saint etienne")
    result = page.locator(".planeco-result", has_text="(42218)")
    result.wait_for(state="visible", timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "11_fiche_recherche.png"))
    result.click()
    _check_fiche(page, expected)
    page.screenshot(path=str(artifacts_dir / "12_fiche_commune.png"), full_page=True)
    # the parent EPCI is a link to its own fiche
    epci = expected.parent("epci")
    assert epci is not None
    page.locator(".planeco-parents .planeco-link", has_text=epci.name).first.click()
    page.locator(f".planeco-fiche-title[data-key='{epci.key}']").wait_for(timeout=TIMEOUT)
    _check_fiche(page, epci)
    # its members are listed with the library's populations, most populated first
    first = page.locator(".planeco-members .planeco-pop").first
    members = sorted(epci.members(level="commune"), key=lambda m: -(m.population[max(m.population)] if m.population else -1))
    assert first.get_attribute("data-code") == members[0].code
    assert _digits(first.inner_text()) == members[0].population[max(members[0].population)]
    page.screenshot(path=str(artifacts_dir / "13_fiche_epci.png"), full_page=True)
    assert op.blocked == [], f"the app asked for network resources: {op.blocked}"
    assert op.errors == []
    # the "direct link" of the fiche reopens it (new page load, deep link)
    page.locator(".planeco-permalink").click()
    page.wait_for_url(f"**?territoire={epci.code}")
    _check_fiche(page, epci)


@pytest.mark.parametrize("code", ["244200770", "42", "region:84"])
def test_deep_link(server, offline_page, artifacts_dir, model, code):
    op = offline_page()
    page = op.page
    page.goto(f"{server}{APP}?territoire={code}")
    t = model.resolve(code).territory
    _check_fiche(page, t)
    page.screenshot(path=str(artifacts_dir / f"14_lien_direct_{code.replace(':', '_')}.png"), full_page=True)
    assert op.blocked == []


def test_shared_code_links_to_the_other_level(server, offline_page, model):
    op = offline_page()
    page = op.page
    page.goto(f"{server}{APP}?territoire=84")
    link = page.locator(".planeco-link-other")
    link.wait_for(timeout=TIMEOUT)
    assert link.inner_text() == f"Afficher la région {model.get('region:84').name}"
    link.click()
    page.wait_for_url("**?territoire=region:84")
    _check_fiche(page, model.get("region:84"))


def test_unknown_deep_link_says_so(server, offline_page):
    op = offline_page()
    page = op.page
    page.goto(f"{server}{APP}?territoire=zzqxw")
    alert = page.locator(".planeco-alert")
    alert.wait_for(timeout=TIMEOUT)
    assert "introuvable" in alert.inner_text()
    assert "Aucun territoire ne correspond" not in page.locator(".planeco-search-status").inner_text()


def test_tablet_width(server, offline_page, artifacts_dir):
    op = offline_page(width=768, height=1024)
    page = op.page
    page.goto(f"{server}{APP}?territoire=42218")
    page.locator(".planeco-fiche-title").wait_for(timeout=TIMEOUT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(artifacts_dir / "15_fiche_tablette.png"), full_page=True)


def test_keyboard_only(server, offline_page, artifacts_dir, model):
    """Search, pick a result and follow a parent link with the keyboard alone, focus always visible."""
    op = offline_page()
    page = op.page
    page.goto(server + APP)
    _wait_app(page)
    tab_until(page, "!!document.activeElement.closest('.planeco-search')")
    page.keyboard.type("lyon")
    page.locator(".planeco-result", has_text="(69123)").wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(1000)  # results are replaced at each keystroke: let the last update land
    tab_until(page, "document.activeElement.classList.contains('planeco-result')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.screenshot(path=str(artifacts_dir / "16_clavier_focus.png"))
    label = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    code = re.search(r"\((\w+)\)", label).group(1)
    page.locator(".planeco-fiche-title").wait_for(timeout=TIMEOUT)
    assert f":{code}" in page.locator(".planeco-fiche-title").get_attribute("data-key")
