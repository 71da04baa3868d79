"""Cartofriches official site list (CNIG « Friches » layout): :func:`cartofriches.parse_sites` and
:func:`cartofriches.aggregate`.

The fixture ``tests/fixtures/sources/test-data_friches-standard.csv`` and the files written here
(``tmp_path``) are INVENTED test data in the documented layout, not real sites.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from planeco_kernel.errors import SchemaError
from planeco_kernel.sources import cartofriches

FIXTURE = Path(__file__).parent / "fixtures" / "sources" / "test-data_friches-standard.csv"
REL = dataclasses.replace(cartofriches.SITES_RELEASE, filename=FIXTURE.name)


def _sites() -> pd.DataFrame:
    return cartofriches.parse_sites(FIXTURE, REL)


def test_parse_sites_reads_the_layout_points_and_statuses():
    s = _sites().set_index("site_id")
    assert len(s) == 5
    assert s.loc["61214_0001", ["longitude", "latitude"]].tolist() == pytest.approx([0.6286, 48.7649])
    # written latitude first (as in the standard's example): swapped back
    assert s.loc["61214_0002", ["longitude", "latitude"]].tolist() == pytest.approx([0.6301, 48.7655])
    assert pd.isna(s.loc["61214_0003", "longitude"])  # no point: kept, not placed on the map
    assert s.loc["97411_0001", ["longitude", "latitude"]].tolist() == pytest.approx([55.4504, -20.8823])  # Réunion kept
    assert s.loc["61214_0003", "site_type"] == "friche carrière ou mine"  # the standard's capital F normalised
    assert s.loc["61214_0002", "status"] == "friches_avec_projet"
    assert s.loc["97411_0001", "status"] == "autre"
    assert pd.isna(s.loc["61214_0002", "surface_m2"])  # NA is missing, never 0


def test_aggregate_has_the_columns_of_the_mirror_aggregate_and_adds_up():
    agg = cartofriches.aggregate(_sites()).set_index("commune_code")
    aigle = agg.loc["61214"]
    assert aigle["friches_sites"] == 3
    assert aigle["friches_sans_projet"] == 1 and aigle["friches_avec_projet"] == 1 and aigle["friches_reconverties"] == 1
    assert aigle["surface_m2"] == 15_500  # the NA surface is left out
    assert agg.loc["97411", "friches_sites"] == 1 and agg.loc["97411", [*cartofriches.STATUSES.values()]].sum() == 0
    tidy = cartofriches.tidy(agg.reset_index())
    ha = tidy[(tidy["commune_code"] == "61214") & (tidy["variable"] == "friches_surface_unites_foncieres_ha")]
    assert float(ha["value"].iloc[0]) == pytest.approx(1.55)
    # the same variables as the mirror aggregate's tidy frame
    mirror_like = cartofriches.tidy(pd.DataFrame([{"commune_code": "01001", "friches_sites": 0, "surface_m2": 0,
                                                   **{v: 0 for v in cartofriches.STATUSES.values()},
                                                   **{f"friches_type_{v}": 0 for v in cartofriches.TYPES.values()}}]))
    assert set(tidy["variable"]) == set(mirror_like["variable"])


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "friches.csv"
    p.write_text(text, encoding="utf-8")
    return p


HEAD = '"site_id";"site_nom";"site_type";"site_statut";"comm_nom";"comm_insee";"unite_fonciere_surface";"geompoint"\n'


@pytest.mark.parametrize("row, match", [
    ('"a";"x";"friche industrielle";"friche sans projet";"X";"NA";10;"POINT(2.3 48.8)"\n', "without comm_insee"),
    ('"a";"x";"friche volcanique";"friche sans projet";"X";"61214";10;"POINT(2.3 48.8)"\n', "unknown site_type"),
    ('"a";"x";"friche industrielle";"en cours";"X";"61214";10;"POINT(2.3 48.8)"\n', "site_statut"),
    ('"a";"x";"friche industrielle";"friche sans projet";"X";"61214";-5;"POINT(2.3 48.8)"\n', "unite_fonciere_surface"),
    ('"a";"x";"friche industrielle";"friche sans projet";"X";"61214";10;"POINT(652000 6862000)"\n', "outside France"),
    ('"a";"x";"friche industrielle";"friche sans projet";"X";"61214";10;"48.8, 2.3"\n', "not a WKT POINT"),
    ('"a";"x";"friche industrielle";"friche sans projet";"X";"61214";10;"POINT(2.3 48.8)"\n'
     '"a";"y";"friche industrielle";"friche sans projet";"X";"61214";10;"POINT(2.3 48.8)"\n', "duplicated"),
])
def test_bad_site_lists_are_refused_with_the_reason(tmp_path, row, match):
    with pytest.raises(SchemaError, match=match):
        cartofriches.parse_sites(_write(tmp_path, HEAD + row), REL)


def test_missing_coordinates_column_is_refused(tmp_path):
    text = HEAD.replace(';"geompoint"', "") + '"a";"x";"friche industrielle";"friche sans projet";"X";"61214";10\n'
    with pytest.raises(SchemaError, match="no site coordinates"):
        cartofriches.parse_sites(_write(tmp_path, text), REL)


def test_longitude_latitude_columns_win_over_geompoint(tmp_path):
    text = ('"site_id";"site_nom";"site_type";"site_statut";"comm_nom";"comm_insee";"unite_fonciere_surface";'
            '"geompoint";"longitude";"latitude"\n'
            '"a";"x";"friche industrielle";"friche sans projet";"X";"61214";10;"NA";0.63;48.76\n')
    s = cartofriches.parse_sites(_write(tmp_path, text), REL)
    assert s[["longitude", "latitude"]].iloc[0].tolist() == pytest.approx([0.63, 48.76])


def test_load_sites_from_a_file_url(tmp_path):
    tidy, sites = cartofriches.load_sites(url=FIXTURE.resolve().as_uri(), cache=None)
    assert len(sites) == 5 and tidy["commune_code"].isin(["61214", "69123", "97411"]).all()


def test_build_step_reads_the_site_list_from_the_mirror_when_present(tmp_path):
    """A mirror holding the official list (here the invented fixture) gives points even offline."""
    from planeco_kernel.bundle.sources_step import _cartofriches

    (tmp_path / "cerema").mkdir()
    (tmp_path / "cerema" / "friches-standard.csv").write_bytes(FIXTURE.read_bytes())
    got = _cartofriches(tmp_path, network=False, origin="miroir")
    assert len(got.tables["cartofriches_sites"]) == 5
    assert set(got.frames) == {"cartofriches"}
    assert "liste officielle" in got.notes[0]


def test_build_step_offline_without_the_list_falls_back_to_the_mirror_aggregate():
    from planeco_kernel import config
    from planeco_kernel.bundle.sources_step import _cartofriches

    mirror = config.mirror_dir()
    if mirror is None or not (mirror / cartofriches.RELEASE.mirror_path).is_file():
        pytest.skip("offline mirror with the Cartofriches aggregate not found (set PLANECO_MIRROR)")
    got = _cartofriches(mirror, network=False, origin="miroir")
    assert not got.tables and "hors ligne" in got.notes[0]
    assert got.frames["cartofriches"]["commune_code"].nunique() == 9138


def test_backslash_escaped_quotes_in_names_are_read_as_quotes(tmp_path):
    """Invented rows: a name with \\" (as in some exports) and one with a doubled quote, both one quote."""
    text = (HEAD + '"a";"Usine \\"La Forge\\"";"friche industrielle";"friche sans projet";"X";"61214";10;"POINT(0.63 48.76)"\n'
            '"b";"Hôtel ""Le Lion""";"friche industrielle";"friche sans projet";"X";"61214";20;"POINT(0.63 48.76)"\n')
    s = cartofriches.parse_sites(_write(tmp_path, text), REL)
    assert s["site_nom"].tolist() == ['Usine "La Forge"', 'Hôtel "Le Lion"']
    assert s["surface_m2"].tolist() == [10, 20]
