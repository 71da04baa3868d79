"""Brownfield points of the Fiche's map (:func:`planeco_kernel.apps.fiche.brownfield_layer`).

The site list used here is the INVENTED fixture ``tests/fixtures/sources/test-data_friches-standard.csv``
(official CNIG layout, made-up sites); the offline case reads the real bundle (built from the mirror,
which has no site list).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planeco_kernel.apps import templates
from planeco_kernel.apps.fiche import OFFLINE_BROWNFIELDS, brownfield_layer
from planeco_kernel.sources import cartofriches

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "test-data_friches-standard.csv"


@pytest.fixture()
def online_bundle(tmp_path, bundle_dir) -> Path:
    """A copy of the real bundle's manifest with the invented site list added as the online build writes it."""
    d = tmp_path / "bundle"
    (d / "sources").mkdir(parents=True)
    shutil.copy(bundle_dir / "manifest.json", d / "manifest.json")
    (d / "territories.parquet").symlink_to(bundle_dir / "territories.parquet")
    sites = cartofriches.parse_sites(FIXTURE)
    sites.to_parquet(d / "sources" / "cartofriches_sites.parquet", index=False)
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    url = cartofriches.SITES_RELEASE.url
    man.setdefault("indicator_sources", []).append(
        {"name": "cartofriches_sites", "source": "cartofriches", "included": True, "table": True, "rows": len(sites),
         "years": [], "origin": f"éditeur : {url}", "vintage": cartofriches.export_vintage(url)})
    (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    return d


@pytest.mark.bundle
def test_offline_bundle_says_the_counts_come_from_the_mirror_and_how_to_get_the_points(bundle_dir):
    shown = brownfield_layer(bundle_dir, ["61214"])
    assert not shown.available and shown.geojson["features"] == []
    assert shown.note == OFFLINE_BROWNFIELDS.format(vintage="inventaire au 23 juillet 2026")
    html = templates.macro("fiche.html", "friches_legend", shown.available, shown.legend, shown.total_text,
                           shown.note, shown.source)
    assert "agrégat du miroir" in html and "planeco data build" in html and "cerema/friches-standard.csv" in html


@pytest.mark.bundle
def test_online_bundle_shows_points_coloured_by_status_with_legend_and_source(online_bundle):
    shown = brownfield_layer(online_bundle, ["61214"])
    assert shown.available
    feats = shown.geojson["features"]
    assert len(feats) == 2  # the third site of L'Aigle has no coordinates
    assert "1 site(s) sans coordonnées" in shown.note
    colours = {f["properties"]["status"]: f["properties"]["style"]["fillColor"] for f in feats}
    assert colours == {"friche sans projet": cartofriches.STATUS_COLOURS["friches_sans_projet"],
                       "friche avec projet": cartofriches.STATUS_COLOURS["friches_avec_projet"]}
    assert [label for _c, label, _n in shown.legend] == ["friche sans projet", "friche avec projet", "friche reconvertie"]
    assert shown.total_text.startswith("3 site")
    assert "export du 15 avril 2026" in shown.source
    html = templates.macro("fiche.html", "friches_legend", shown.available, shown.legend, shown.total_text,
                           shown.note, shown.source)
    assert "Cartofriches" in html and "unités foncières" in html


@pytest.mark.bundle
def test_online_bundle_commune_without_site_and_too_many_sites(online_bundle, monkeypatch):
    shown = brownfield_layer(online_bundle, ["01001"])
    assert shown.available and shown.geojson["features"] == [] and "Aucun site" in shown.total_text
    monkeypatch.setattr("planeco_kernel.apps.fiche.MAX_BROWNFIELD_POINTS", 1)
    shown = brownfield_layer(online_bundle, ["61214", "69123"])
    assert shown.geojson["features"] == [] and "trop pour la carte" in shown.note


@pytest.mark.bundle
def test_fiche_widget_shows_the_brownfield_note_under_the_map(bundle_dir):
    from planeco_kernel.apps.fiche import FicheTerritoire

    app = FicheTerritoire()
    app.open("61214")
    assert "Friches sur la carte" in app.friches_note.value
    assert app._friches_layer in app.map.layers
    expected_available = (bundle_dir / "sources" / "cartofriches_sites.parquet").is_file()
    assert ("data-available='1'" in app.friches_note.value) == expected_available
