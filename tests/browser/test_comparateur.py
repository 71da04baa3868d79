"""The « Comparateur territorial » app in headless Chromium (offline), on the real data bundle.

One scenario, step by step, with a screenshot of each step in ``tests/artifacts/``: gallery →
app → search without accents → cards equal to the library's numbers → theme switch → map
indicator change (legend changes) → hover and click a commune on the map (selection changes) →
address bar follows → deep link → CSV / Excel / PNG exports.
"""

from __future__ import annotations

import io
import math
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from planeco_kernel.indicators.sentences import format_value

from _keyboard import tab_until

pytestmark = pytest.mark.browser

APP = "voila/render/comparateur.ipynb"
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def data(use_small_bundle):
    from planeco_kernel.apps.comparateur_data import ComparateurData

    return ComparateurData()


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _wait_key(page, selector: str, key: str) -> None:
    page.locator(f"{selector}[data-key='{key}']").wait_for(state="attached", timeout=TIMEOUT)


def _check_cards(page, data, t, theme: str) -> None:
    """Every card of the theme shows the library's own value, formatted in French, or says it is missing."""
    _wait_key(page, ".planeco-cmp-cards-body", t.key)
    cards, _missing = data.cards(t, theme)
    assert cards
    for c in cards:
        el = page.locator(f".planeco-cmp-cards-body[data-key='{t.key}'] .planeco-ind-card[data-indicator='{c.id}']")
        shown = el.locator(".planeco-ind-value").inner_text()
        if c.value is None:
            assert shown == "donnée non disponible pour ce millésime"
            assert el.get_attribute("data-value") == ""
        else:
            assert float(el.get_attribute("data-value")) == c.value
            assert shown == format_value(c.value, c.unit)
            assert str(c.year) in el.locator(".planeco-ind-meta").inner_text()


def _lonlat_to_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    scale = 256 * 2 ** zoom
    x = scale * (lon + 180) / 360
    y = scale * (0.5 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi))
    return x, y


def _commune_pixel(page, data, code: str) -> tuple[float, float]:
    """Page coordinates of a point inside commune ``code`` on the map (Web Mercator, like Leaflet)."""
    from planeco_kernel.apps.fiche_data import view_for_bounds
    from planeco_kernel import geo

    t = data.model.get(code)
    scope = data.map_scope(t)
    s, w, n, e = geo.bbox(scope.level, scope.codes)
    (clat, clon), zoom = view_for_bounds((w, s, e, n), width_px=900, height_px=480)
    p = t.geometry(display=True).point_on_surface()
    box = page.locator(".planeco-map .leaflet-container").first.bounding_box()
    px, py = _lonlat_to_px(p.x, p.y, zoom)
    cx, cy = _lonlat_to_px(clon, clat, zoom)
    return box["x"] + box["width"] / 2 + (px - cx), box["y"] + box["height"] / 2 + (py - cy)


def test_comparateur_scenario(server, offline_page, artifacts_dir, data):
    op = offline_page(width=1280, height=1000)
    page = op.page
    shots = artifacts_dir

    # 1. the gallery lists the app; open it from there
    page.goto(server)
    card = page.locator(".planeco-card", has_text="Comparateur territorial")
    assert card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(shots / "30_comparateur_galerie.png"), full_page=True)
    card.locator("a").click()
    page.wait_for_url(f"**/{APP}")
    search = page.locator(".planeco-search input")
    search.wait_for(state="visible", timeout=TIMEOUT)
    page.screenshot(path=str(shots / "31_comparateur_accueil.png"))
    assert "planeco_kernel" not in page.content()

    # 2. search a real commune typed without accents
    t = data.model.get("42218")  # Saint-Étienne
    search.fill("saint etienne")
    result = page.locator(".planeco-result", has_text="(42218)")
    result.wait_for(state="visible", timeout=TIMEOUT)
    page.screenshot(path=str(shots / "32_comparateur_recherche.png"))
    result.click()

    # 3. cards show the library's numbers; the address bar follows the selection
    _check_cards(page, data, t, "demographie")
    pop = page.locator(".planeco-ind-card[data-indicator='population'] .planeco-ind-value").inner_text()
    assert pop == format_value(float(t.population[max(t.population)]), "habitants")
    assert page.locator(".planeco-ind-card[data-indicator='population'] .planeco-pos").count() == 4
    page.wait_for_function("() => location.search.includes('territoire=42218')", timeout=TIMEOUT)
    _wait_key(page, ".planeco-legend-body", t.key)
    page.screenshot(path=str(shots / "33_comparateur_fiches.png"), full_page=True)

    # 4. switch theme: revenus et pauvreté
    page.locator(".planeco-themes button", has_text="Revenus et pauvreté").click()
    page.locator(".planeco-ind-card[data-indicator='taux_pauvrete']").wait_for(timeout=TIMEOUT)
    _check_cards(page, data, t, "revenus_pauvrete")
    assert page.locator(".planeco-unavailable summary").count() == (1 if data.cards(t, "revenus_pauvrete")[1] else 0)
    page.wait_for_function("() => location.search.includes('theme=revenus_pauvrete')", timeout=TIMEOUT)
    page.screenshot(path=str(shots / "34_comparateur_theme_revenus.png"), full_page=True)

    # 5. change the map indicator: the legend changes
    legend = page.locator(".planeco-legend-body")
    before = legend.inner_text()
    ind = data.catalogue.indicators["densite_population"]
    page.locator(".planeco-indicator select").select_option(label=f"{data.themes[ind.theme]} — {ind.label}")
    page.locator(".planeco-legend-body[data-indicator='densite_population']").wait_for(timeout=TIMEOUT)
    after = legend.inner_text()
    assert after != before and "Densité" in after and "quantiles" in after
    scope = data.map_scope(t)
    ch = data.choropleth(scope, "densite_population")
    assert [i.inner_text() for i in page.locator(".planeco-legend-item").all()] == [i["label"] for i in ch.legend]
    page.locator(".planeco-method button", has_text="Jenks").click()
    page.locator(".planeco-legend-body[data-method='jenks']").wait_for(timeout=TIMEOUT)
    page.locator(".planeco-map .leaflet-overlay-pane canvas").first.wait_for(state="attached", timeout=TIMEOUT)
    page.locator(".planeco-map").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "35_comparateur_carte_densite.png"), full_page=True)

    # 6. hover then click a commune on the map: the selection changes
    target = max((m for m in data.model.get(scope.key.split(":")[1], level="epci").members("commune") if m.code != t.code),
                 key=lambda m: m.geometry(display=True).area)
    page.locator(".planeco-map").scroll_into_view_if_needed()
    x, y = _commune_pixel(page, data, target.code)
    page.mouse.move(x, y)
    page.locator(f".planeco-hover[data-code='{target.code}']").wait_for(timeout=TIMEOUT)
    assert target.name in page.locator(".planeco-hover").inner_text()
    page.screenshot(path=str(shots / "36_comparateur_survol.png"))
    page.mouse.click(x, y)
    _check_cards(page, data, target, "revenus_pauvrete")
    assert page.locator(".planeco-cmp-title h2").inner_text() == target.name
    page.wait_for_function(f"() => location.search.includes('territoire={target.code}')", timeout=TIMEOUT)
    _wait_key(page, ".planeco-legend-body", target.key)
    page.screenshot(path=str(shots / "37_comparateur_clic_carte.png"), full_page=True)
    assert op.blocked == [], f"the app asked for network resources: {op.blocked}"
    assert op.errors == []


def test_deep_link_and_exports(server, offline_page, artifacts_dir, data, tmp_path):
    op = offline_page(width=1280, height=1000)
    page = op.page
    page.goto(f"{server}{APP}?territoire=244200770&theme=revenus&indicateur=taux_pauvrete&comparer=42218,69123")
    epci = data.model.get("244200770")
    _check_cards(page, data, epci, "revenus_pauvrete")
    page.locator(f".planeco-legend-body[data-key='{epci.key}'][data-indicator='taux_pauvrete']").wait_for(timeout=TIMEOUT)
    assert page.locator(".planeco-themes button.mod-active").inner_text() == "Revenus et pauvreté"
    q = _query(page)
    assert q["territoire"] == "244200770" and q["theme"] == "revenus_pauvrete" and q["comparer"] == "42218,69123"
    page.locator(f".planeco-cmp-table-wrap[data-key='{epci.key}']").wait_for(timeout=TIMEOUT)
    page.screenshot(path=str(artifacts_dir / "38_comparateur_lien_direct.png"), full_page=True)

    # the CSV export is the library's comparison table
    with page.expect_download() as dl:
        page.locator("a.planeco-dl-csv").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == "comparaison_revenus_pauvrete_244200770.csv"
    got = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    terrs = [epci, data.model.get("42218"), data.model.get("69123")]
    expected = data.comparison_table(terrs + [p for p in data.auto_peers(epci) if p.key not in {x.key for x in terrs}],
                                     "revenus_pauvrete")
    assert list(got.columns) == list(expected.columns)
    assert got["indicateur"].tolist() == expected["indicateur"].tolist()
    for col in expected.columns[4:]:
        pd.testing.assert_series_equal(got[col].astype(float), expected[col].astype(float), check_names=False, rtol=1e-9)
    comp = data.compare(epci)
    assert got.set_index("indicateur").loc["taux_pauvrete", "Saint-Étienne Métropole (244200770)"] == \
        pytest.approx(comp["taux_pauvrete"].value)

    with page.expect_download() as dl:
        page.locator("a.planeco-dl-xlsx").click()
    x = pd.read_excel(io.BytesIO(open(dl.value.path(), "rb").read()))
    assert x.shape == expected.shape
    with page.expect_download() as dl:
        page.locator("a.planeco-dl-png").click()
    assert open(dl.value.path(), "rb").read(4) == b"\x89PNG"
    page.locator(".planeco-cmp-chart").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "39_comparateur_comparaison.png"))
    assert op.blocked == []


def test_unknown_deep_link_says_so(server, offline_page):
    op = offline_page()
    page = op.page
    page.goto(f"{server}{APP}?territoire=zzqxw&theme=zzz")
    alert = page.locator(".planeco-alert")
    alert.wait_for(timeout=TIMEOUT)
    assert "introuvable" in alert.inner_text()


def test_tablet_width_and_keyboard_only(server, offline_page, artifacts_dir):
    """At 768 px nothing scrolls sideways; the keyboard alone picks a territory and switches theme."""
    op = offline_page(width=768, height=1024)
    page = op.page
    page.goto(server + APP)
    page.locator(".planeco-search input").wait_for(state="visible", timeout=TIMEOUT)
    tab_until(page, "!!document.activeElement.closest('.planeco-search')")
    page.keyboard.type("lyon")
    page.locator(".planeco-result", has_text="(69123)").wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(1000)  # results are replaced at each keystroke: let the last update land
    tab_until(page, "document.activeElement.classList.contains('planeco-result')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.locator(".planeco-cmp-cards-body[data-key='commune:69123']").wait_for(state="visible", timeout=TIMEOUT)
    tab_until(page, "!!document.activeElement.closest('.planeco-themes')", max_tabs=60)
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    before = page.locator(".planeco-cmp-cards-body").get_attribute("data-theme-label")
    tab_until(page, "!!document.activeElement.closest('.planeco-themes') && "
                    "document.activeElement.textContent.trim() === 'Revenus et pauvreté'", max_tabs=15)
    page.keyboard.press("Enter")
    page.locator(".planeco-cmp-cards-body[data-theme-label='Revenus et pauvreté']").wait_for(timeout=TIMEOUT)
    assert before != "Revenus et pauvreté"
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(artifacts_dir / "39_comparateur_tablette_clavier.png"), full_page=True)
