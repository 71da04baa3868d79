"""Proximity on the real bundle: TerritoryModel.nearby and the knowledge base's "nearby" filter."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def model(bundle_dir):
    from planeco_kernel.territory import load_model

    return load_model(bundle_dir)


@pytest.mark.parametrize(
    ("code", "level", "expected_near"),
    [
        ("69123", "commune", "69266"),       # Lyon — Villeurbanne
        ("75056", "commune", "92012"),       # Paris — Boulogne-Billancourt
        ("200046977", "epci", "246900575"),  # Métropole de Lyon — CC de l'Est Lyonnais
        ("69", "departement", "01"),         # Rhône — Ain
    ],
)
def test_nearby_returns_neighbours_of_the_same_level(model, code, level, expected_near):
    near = model.nearby(code, limit=15, level=level)
    assert near and all(t.level == level for t in near)
    assert code not in [t.code for t in near]
    assert expected_near in [t.code for t in near]


def test_nearby_is_sorted_by_distance(model):
    import math

    def dist(a, b):
        pa, pb = a.geometry(display=False).representative_point(), b.geometry(display=False).representative_point()
        return math.hypot(pa.x - pb.x, pa.y - pb.y)

    lyon = model.get("69123")
    near = model.nearby("69123", limit=10)
    d = [dist(lyon, t) for t in near]
    assert d[0] < d[-1]


def test_nearby_unknown_code_raises(model):
    from planeco_kernel.errors import TerritoryNotFoundError

    with pytest.raises(TerritoryNotFoundError):
        model.nearby("99999")


def test_knowledge_base_nearby_uses_the_territory_model(bundle_dir, monkeypatch):
    from planeco_kernel.knowledge import nearby

    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))
    codes, prefix, method = nearby.related("69123")
    assert prefix is None and "modèle de territoires" in method
    assert {"69123", "69266", "200046977"} <= codes   # itself, a neighbour, its EPCI
    assert "13055" not in codes


def test_knowledge_base_nearby_includes_the_other_members_of_the_epci(bundle_dir, monkeypatch):
    from planeco_kernel.knowledge import nearby

    monkeypatch.setenv("PLANECO_DATA_DIR", str(bundle_dir))
    codes, _, _ = nearby.related("69266")          # Villeurbanne
    assert "69123" in codes                         # Lyon, same Métropole
    assert len(codes) > 58                          # the 58 members of the Métropole de Lyon, and more
