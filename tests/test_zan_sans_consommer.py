"""The ZAN « construire sans consommer » panel of the trajectories: real numbers of the bundle, with
their sources, escaped, and the caveat that they are never subtracted from the legal envelope."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def cube(bundle_dir):
    from planeco_kernel.indicators import load_cube

    return load_cube(bundle_dir)


def test_panel_shows_each_lever_with_its_source(cube):
    from planeco_kernel.indicators.zan_levers import CAVEAT, zan_levers
    from planeco_kernel.trajectories.land import sans_consommer_panel

    html = sans_consommer_panel("commune", "61214", cube=cube).data  # L'Aigle: brownfields in Cartofriches
    z = zan_levers(cube, "61214", "commune")
    assert "Construire sans consommer : L&#39;Aigle" in html or "Construire sans consommer : L'Aigle" in html
    assert CAVEAT.split(" : ")[0] in html
    for lever in z.levers:
        assert lever.label.replace("'", "&#39;") in html or lever.label in html
        assert lever.source.replace("'", "&#39;") in html or lever.source in html
    assert html.count("<tr>") == len(z.levers) + 1


def test_unknown_territory_is_a_clear_error(cube):
    from planeco_kernel.errors import TerritoryNotFoundError
    from planeco_kernel.trajectories.land import sans_consommer_panel

    with pytest.raises(TerritoryNotFoundError):
        sans_consommer_panel("commune", "99999", cube=cube)
