"""The fast bundle of the tests (planeco_kernel.bundle.subset): a cut of the real bundle, not a copy
with other numbers — every commune value, and every roll-up of a territory wholly inside the cut,
equals the complete bundle's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planeco_kernel.bundle.subset import DEFAULT_DEPARTEMENTS, derive_subset
from planeco_kernel.errors import BundleError

pytestmark = pytest.mark.bundle


@pytest.fixture(scope="module")
def cubes(bundle_dir, small_bundle_dir):
    from planeco_kernel.indicators.cube import load_cube

    return load_cube(bundle_dir), load_cube(small_bundle_dir)


def test_manifest_says_it_is_a_subset_and_is_complete(bundle_dir, small_bundle_dir):
    from planeco_kernel.bundle import manifest as mf
    from planeco_kernel.bundle.reader import Bundle

    man = Bundle(small_bundle_dir).manifest_dict()
    assert man["subset"]["departements"] == sorted(DEFAULT_DEPARTEMENTS)
    assert "Pour les tests" in man["subset"]["note"]
    # every table file as the manifest records it; otherwise as current as the bundle it was cut from
    assert mf.problems(small_bundle_dir, scot_perimeters=man.get("scot_perimeters")) == mf.problems(
        bundle_dir, scot_perimeters=man.get("scot_perimeters"))
    assert not [p for p in mf.problems(small_bundle_dir) if p.startswith("table")]


def test_only_the_departements_communes(bundle_dir, small_bundle_dir):
    full = pd.read_parquet(bundle_dir / "territories.parquet")
    small = pd.read_parquet(small_bundle_dir / "territories.parquet")
    communes = small[small["level"] == "commune"]
    assert set(communes["departement_code"]) == set(DEFAULT_DEPARTEMENTS)
    expected = full[(full["level"] == "commune") & full["departement_code"].isin(DEFAULT_DEPARTEMENTS)]
    assert sorted(communes["code"]) == sorted(expected["code"])
    assert set(small.loc[small["level"] == "departement", "code"]) == set(DEFAULT_DEPARTEMENTS)
    # every parent a commune names is in the cut (no dangling EPCI, SCoT, région)
    for level, col in (("epci", "epci_code"), ("scot", "scot_code"), ("region", "region_code")):
        assert set(communes[col].dropna()) == set(small.loc[small["level"] == level, "code"]), level
    merged = small.merge(full, on=["level", "code"], suffixes=("", "_full"))
    assert len(merged) == len(small)
    assert (merged["population"].fillna(-1) == merged["population_full"].fillna(-1)).all()


def test_commune_values_are_the_complete_bundles(cubes):
    full, small = cubes
    codes = small["commune"]["territory"].values
    compared = 0
    for ind in small.available():
        a = full["commune"][ind].sel(territory=codes).values
        b = small["commune"][ind].values
        assert np.array_equal(a, b, equal_nan=True), ind
        compared += int((~np.isnan(b)).sum())
    assert compared > 100_000


def test_rollups_of_territories_inside_the_cut_are_the_complete_bundles(cubes):
    full, small = cubes
    inside = {"epci": "246900765", "departement": "69"}  # CC du Pays de l'Ozon (7 communes, all in the Rhône); Rhône
    for level, code in inside.items():
        for ind in small.available():
            a = full[level][ind].sel(territory=code).values
            b = small[level][ind].sel(territory=code).values
            assert np.allclose(a, b, equal_nan=True, rtol=1e-12), (level, ind)


def test_a_region_of_the_cut_sums_only_its_communes(cubes):
    full, small = cubes
    year = 2023
    pop_small = float(small["region"]["population"].sel(territory="84", year=year))
    deps = sum(float(small["departement"]["population"].sel(territory=d, year=year)) for d in ("01", "42", "69"))
    assert pop_small == pytest.approx(deps)
    assert pop_small < float(full["region"]["population"].sel(territory="84", year=year))


def test_bad_requests_are_refused_and_nothing_is_half_written(bundle_dir, small_bundle_dir, tmp_path):
    with pytest.raises(BundleError, match="Département.*inconnu.*99"):
        derive_subset(bundle_dir, tmp_path / "x", ["86", "99"])
    assert not (tmp_path / "x").exists()
    with pytest.raises(BundleError, match="déjà un paquet réduit"):
        derive_subset(small_bundle_dir, tmp_path / "y", ["86"])
    with pytest.raises(BundleError, match="Aucun département"):
        derive_subset(bundle_dir, tmp_path / "z", [" "])
    assert list(tmp_path.iterdir()) == []


def test_target_is_replaced_whole(bundle_dir, tmp_path):
    target = tmp_path / "small"
    target.mkdir()
    (target / "stale.txt").write_text("left by an older cut")
    man = derive_subset(bundle_dir, target, ["86"])
    assert not (target / "stale.txt").exists() and (target / "manifest.json").is_file()
    assert man["subset"]["communes"] == len(pd.read_parquet(target / "territories.parquet").query("level == 'commune'"))
    assert [p.name for p in tmp_path.iterdir()] == ["small"]  # no temporary folder left


def test_cli_subset_and_status(bundle_dir, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PLANECO_DATA_DIR": str(bundle_dir)}
    r = subprocess.run([sys.executable, "-m", "planeco_kernel", "data", "subset", str(tmp_path / "s"), "--departements", "86,2A"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "86, 2A" in r.stdout or "2A, 86" in r.stdout
    st = subprocess.run([sys.executable, "-m", "planeco_kernel", "data", "status"],
                        env={**env, "PLANECO_DATA_DIR": str(tmp_path / "s")}, capture_output=True, text=True, timeout=120)
    assert st.returncode == 0 and "Paquet réduit aux départements 2A, 86" in st.stdout
    bad = subprocess.run([sys.executable, "-m", "planeco_kernel", "data", "subset", str(tmp_path / "t"), "--departements", "99"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "inconnu" in bad.stderr


def test_missing_reasons_are_cut_to_the_departements(bundle_dir, small_bundle_dir):
    """The bundle's ``missing_reasons`` (sources/missing_reasons.parquet, commune_code) is cut like the tidy frames."""
    from planeco_kernel.bundle.reader import Bundle
    from planeco_kernel.indicators.missing import missing_reason

    full, small = Bundle(bundle_dir), Bundle(small_bundle_dir)
    if not full.has("missing_reasons"):
        pytest.fail(f"{bundle_dir} has no missing_reasons table: rebuild it (planeco data build).")
    a, b = full.read("missing_reasons"), small.read("missing_reasons")
    communes = set(small.read("territories").query("level == 'commune'")["code"])
    expected = a[a["commune_code"].isin(communes)].reset_index(drop=True)
    assert len(b) and len(b) < len(a) and set(b["commune_code"]) <= communes
    assert b.reset_index(drop=True).equals(expected)
    assert missing_reason(small, "taux_vacance_lovac", "commune", "01187") == missing_reason(
        full, "taux_vacance_lovac", "commune", "01187")
