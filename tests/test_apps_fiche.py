"""The "Fiche territoire" logic and widgets, on the territory tests' INVENTED fixture bundle.

The fixture (tests/fixtures/territory/fake_bundle.py) borrows real names and codes but every
figure in it is invented test data; the real bundle is exercised by tests/browser (marked
``bundle``-dependent through the ``bundle_dir`` fixture).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from planeco_kernel.apps import fiche_data as D
from planeco_kernel import fmt
from planeco_kernel.apps.request import parse_query

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "territory"))
from fake_bundle import write_fake_bundle  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from planeco_kernel.territory import load_model

    return load_model(write_fake_bundle(tmp_path_factory.mktemp("fake_bundle")))


@pytest.fixture()
def app(model):
    from planeco_kernel.apps.fiche import FicheTerritoire

    return FicheTerritoire(model)


def test_population_rows_follow_the_model(model):
    t = model.get("42218")
    rows = D.population_rows(t)
    assert [r.year for r in rows] == sorted(t.population)
    assert {r.year: r.value for r in rows} == t.population
    assert all(r.label == fmt.integer(r.value) for r in rows)


def test_missing_year_is_missing_never_zero(model):
    t = model.get("01015")  # test data: no 2021 figure
    rows = D.population_rows(t)
    by_year = {r.year: r for r in rows}
    assert 2021 not in t.population
    if 2021 in by_year:
        assert by_year[2021].value is None and by_year[2021].label == fmt.MISSING
    caption = D.population_caption(rows)
    assert "0 " not in caption.split("Pas de donnée")[0][-5:]
    png = D.population_chart_png(rows)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_caption_names_source_and_vintages(model):
    rows = D.population_rows(model.get("42218"))
    cap = D.population_caption(rows)
    years = [r.year for r in rows]
    assert cap.startswith(f"Source : Insee, populations municipales {years[0]} à {years[-1]} (via Etalab)")
    assert "communes.json" not in cap and "@etalab" not in cap  # file names only in the folded provenance
    prov = D.population_provenance(rows)
    assert "communes.json" in prov and "@etalab/decoupage-administratif" in prov


@pytest.mark.parametrize(("rate", "decimals"), [(0.0054, 4), (0.027, 3), (0.25, 2), (0.43, 2), (1.9, 1), (-3.2, 1),
                                                (0.0, 1), (None, 1)])
def test_rate_decimals_two_significant_digits(rate, decimals):
    assert D.rate_decimals(rate) == decimals


@pytest.mark.parametrize(("nature", "expected"), [("METRO", "Métropole"), ("CC", "Communauté de communes"),
                                                  ("CA", "Communauté d'agglomération"), ("MET69", "Métropole de Lyon"),
                                                  ("PETR", "Pôle d'équilibre territorial et rural")])
def test_nature_in_words(nature, expected):
    assert D.NATURES[nature] == expected


def test_chart_title_gives_the_change():
    rows = [D.PopulationRow(2018, 173089), D.PopulationRow(2023, 173136)]
    assert D.chart_title(rows) == "Évolution : +0,027\u202f% de 2018 à 2023"
    assert D.chart_title(rows[:1]) is None


def test_no_population_at_all_is_said_plainly():
    assert D.population_chart_png([]) is None
    assert "aucune donnée" in D.population_caption([])
    assert D.population_summary([]) is None
    assert D.population_summary([D.PopulationRow(2023, None)]) is None


def test_summary_growth_in_french(model):
    rows = [D.PopulationRow(2018, 1000), D.PopulationRow(2023, 1100)]
    assert D.population_summary(rows) == ("1\u202f100 habitants en 2023 (population municipale), "
                                          "soit +1,9\u202f% par an en moyenne depuis 2018.")


def test_parents_smallest_first_and_members_most_populated_first(model):
    t = model.get("42218")
    levels = [p.level for p in D.parents_of(t)]
    assert levels == [lvl for lvl in D.PARENT_ORDER if lvl in levels]
    assert levels[0] == "epci"
    members = D.members_of(t.parent("epci"))
    pops = [D.latest_population(m) for m in members]
    assert pops == sorted(pops, reverse=True)
    assert D.members_of(t) == []


@pytest.mark.parametrize(("bounds", "center", "zoom"), [
    ((4.2, 45.3, 4.5, 45.6), (45.45, 4.35), 10),        # a commune-sized box
    ((-5.2, 41.3, 9.6, 51.1), (46.2, 2.2), 5),          # metropolitan France
    ((2.3, 48.8, 2.3, 48.8), (48.8, 2.3), 15),          # a point: clipped at max zoom
])
def test_view_for_bounds(bounds, center, zoom):
    c, z = D.view_for_bounds(bounds)
    assert c == pytest.approx(center)
    assert z == zoom


@pytest.mark.parametrize(("qs", "expected"), [
    ("territoire=42218", {"territoire": "42218"}),
    ("?territoire=saint%20etienne&x=", {"territoire": "saint etienne"}),
    ("", {}),
    ("territoire=a&territoire=b", {"territoire": "a"}),
])
def test_parse_query(qs, expected):
    assert parse_query(qs) == expected


def test_query_params_outside_voila(monkeypatch):
    from planeco_kernel.apps.request import query_params

    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv("QUERY_STRING", "territoire=01053")
    assert query_params() == {"territoire": "01053"}


def test_search_without_accents_then_select(app, model):
    app.search.value = "st etienne"
    labels = [b.description for b in app.results.children]
    assert any("(42218)" in lab for lab in labels)
    button = next(b for b in app.results.children if "(42218)" in b.description)
    button.click()
    assert app.current == model.get("42218")
    assert app.results.children == ()
    assert "data-key='commune:42218'" in app.header.value
    pop = model.get("42218").population
    assert f"<td>{fmt.integer(pop[max(pop)])}</td>" in app.chart.value
    assert "img class='planeco-chart-img'" in app.chart.value
    assert app.fiche.layout.display == "flex"


def test_level_filter(app):
    app.search_level.value = "epci"
    app.search.value = "saint etienne"
    assert app.results.children and all("Intercommunalité" in b.description for b in app.results.children)


def test_no_result_is_said(app):
    app.search.value = "qqqqzzzz"
    assert app.results.children == ()
    assert "Aucun territoire" in app.search_status.value


def test_parent_buttons_navigate(app, model):
    app.open("42218")
    epci = model.get("42218").parent("epci")
    btn = next(c for c in app.parents.children if getattr(c, "description", "").endswith(epci.name))
    btn.click()
    assert app.current == epci
    assert "Communes membres" in app.members_title.value
    assert len(app._members_layer.data["features"]) == len(epci.members(level="commune"))
    assert app._contour_layer.data["features"][0]["properties"]["code"] == epci.code


def test_member_filter_and_map_click(app, model):
    epci = model.get("42218").parent("epci")
    app.select(epci)
    app.members_filter.value = "chamond"
    names = [r.children[0].description for r in app.members_list.children if hasattr(r, "children")]
    assert names == ["Saint-Chamond"]
    app._on_map_click(feature={"properties": {"code": "42207"}})
    assert app.current.code == "42207"


def test_commune_without_epci_and_without_geometry(app):
    app.open("29083")  # test data: island commune, no EPCI, no geometry
    parents_text = " ".join(getattr(c, "value", "") for c in app.parents.children)
    assert "aucune intercommunalité" in parents_text
    assert "Contour non disponible" in app.map_note.value


def test_unknown_deep_link_says_so_and_searches(app):
    app.open("zzqxw")
    assert "introuvable" in app.message.value
    assert app.search.value == "zzqxw"
    assert app.current is None
    assert app._search.status.value == ""  # one message, not the alert and « aucun territoire » again


@pytest.mark.parametrize(("query", "level", "href", "link"), [
    ("75", "departement", "?territoire=region:75", "Afficher la région Nouvelle-Aquitaine"),
    ("247200132", "epci", "?territoire=scot:247200132", "Afficher le SCoT Le Mans Métropole"),
])
def test_code_of_two_levels_offers_a_link_to_the_other(app, query, level, href, link):
    app.open(query)  # test data: one code, two levels
    assert app.current.level == level
    msg = app.message.value
    assert f"href='{href}'" in msg and link in msg
    assert "level=" not in msg and "--level" not in msg


def test_deep_link_by_old_code_explains(app, model):
    app.open("01340")  # test data: merged into 01015
    assert app.current.code == "01015"
    assert app.message.value  # the model's note says what was assumed


def test_basemap_is_optional(app):
    assert all("openstreetmap" not in getattr(lyr, "url", "") for lyr in app.map.layers)
    app.basemap_toggle.value = True
    assert any("openstreetmap" in getattr(lyr, "url", "") for lyr in app.map.layers)
    app.basemap_toggle.value = False
    assert all("openstreetmap" not in getattr(lyr, "url", "") for lyr in app.map.layers)


@pytest.mark.parametrize("key", ["commune:42218", "epci:244200770", "departement:42", "region:84", "scot:247200132",
                                 "epci:247200132", "france:FR"])
def test_deep_link_value_round_trips(model, key):
    from planeco_kernel.apps.fiche import deep_link_value

    level, code = key.split(":")
    t = model.get(code, level=level)
    assert model.resolve(deep_link_value(t)).territory == t


@pytest.mark.parametrize(("code", "level", "drawn_level"), [
    ("84", "region", "epci"), ("FR", "france", "departement"), ("42", "departement", "epci"),
])
def test_big_territories_draw_groups_not_communes(model, monkeypatch, code, level, drawn_level):
    monkeypatch.setattr(D, "MAX_DRAWN_MEMBERS", 1)
    t = model.get(code, level=level)
    lvl, drawn = D.map_members(t, D.members_of(t))
    assert lvl == drawn_level
    assert drawn == list(t.members(level=drawn_level))


def test_small_territories_draw_their_communes(model):
    t = model.get("244200770")
    assert D.map_members(t, D.members_of(t)) == ("commune", D.members_of(t))
    assert D.map_members(model.get("42218"), []) == (None, [])


def test_map_click_opens_the_level_clicked(app, model):
    app._on_map_click(feature={"properties": {"code": "42", "level": "departement"}})
    assert app.current.key == "departement:42"


def test_preheated_kernel_freezes_its_set_up_before_waiting_for_the_visit(monkeypatch):
    """In a preheated kernel the set-up's objects are collected and frozen before the wait, so that
    no full garbage collection walks them once the visitor is there."""
    import gc

    import voila.utils

    from planeco_kernel.apps.request import query_params

    seen = []
    monkeypatch.setattr(voila.utils, "wait_for_request", lambda: seen.append(gc.get_freeze_count()))
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    monkeypatch.setenv("QUERY_STRING", "territoire=42218")
    try:
        assert query_params() == {"territoire": "42218"}
        assert len(seen) == 1 and seen[0] > 0
    finally:
        gc.unfreeze()


def _run_in_fresh_loop(coro_fn):
    """Run ``coro_fn()`` in its own event loop, in a thread (the suite's thread may already run one:
    Playwright's)."""
    import asyncio
    import threading

    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro_fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join(30)
    if "error" in out:
        raise out["error"]
    return out.get("value")


class _Recorder:
    def __init__(self):
        self.widget = None
        self.applied: list[dict] = []

    def apply(self, query: dict) -> None:
        self.applied.append(query)


def test_a_visitors_deep_link_is_applied_once_the_cell_is_over(monkeypatch):
    """In a kernel (an event loop runs the cell), the visitor's query is applied just after the
    cell, so that Voilà ends the page at once; an explicit query is applied immediately."""
    import asyncio

    import IPython.display

    from planeco_kernel.apps.request import display_then_apply

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.setenv("QUERY_STRING", "territoire=42218")

    app_ref = _Recorder()

    async def run():
        display_then_apply(app_ref, app_ref.apply)
        during_cell = list(app_ref.applied)
        await asyncio.sleep(0)  # the cell is over: the loop gets control back
        return during_cell

    assert _run_in_fresh_loop(run) == []
    assert app_ref.applied == [{"territoire": "42218"}]
    explicit = _Recorder()
    display_then_apply(explicit, explicit.apply, {"territoire": "01053"})
    assert explicit.applied == [{"territoire": "01053"}]


def test_a_deferred_deep_link_that_fails_is_logged(monkeypatch, caplog):
    import asyncio

    from planeco_kernel.apps.request import after_cell

    def boom(_q):
        raise ValueError("page parameters exploded")

    async def run():
        after_cell(boom, {})
        await asyncio.sleep(0)

    with caplog.at_level("ERROR", logger="planeco"):
        _run_in_fresh_loop(run)
    assert "page parameters exploded" in caplog.text
