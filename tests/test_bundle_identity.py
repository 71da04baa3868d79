"""Issue 15 item 12: declared file identities and headline-count tolerances between builds.

Reproduces the finding: BANATIC ``groupements_membres.csv`` cut at a line boundary to half its
rows was accepted and moved the SCoT layer from 609 carriers to 922. Now the file is refused
(its sha256 differs from the registry's), and read as another edition only with
``--accept-edition``; the headline counts then need ``--accept-changes``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planeco_kernel import config
from planeco_kernel.errors import BundleError

MEMBERS = "banatic/groupements_membres.csv"


def _halved_mirror(tmp_path: Path) -> Path:
    src = config.mirror_dir()
    if src is None or not (src / MEMBERS).is_file():
        pytest.skip("no BANATIC files in the mirror (PLANECO_MIRROR)")
    mirror = tmp_path / "mirror"
    (mirror / "banatic").mkdir(parents=True)
    shutil.copy(src / "banatic" / "groupements.csv", mirror / "banatic" / "groupements.csv")
    lines = (src / MEMBERS).read_bytes().splitlines(keepends=True)
    (mirror / MEMBERS).write_bytes(b"".join(lines[: len(lines) // 2]))  # cut at a line boundary
    return mirror


def test_halved_banatic_file_is_refused(tmp_path):
    from planeco_kernel.sources import fetch, identity

    mirror = _halved_mirror(tmp_path)
    with pytest.raises(identity.IdentityError, match="accept-edition") as exc:
        fetch.mirror_file(MEMBERS, mirror)
    assert "banatic" in str(exc.value) and "paquet de données existant reste utilisé" in str(exc.value)
    ok = fetch.mirror_file("banatic/groupements.csv", mirror)  # the untouched file passes
    assert ok.sha256 == identity.declared_identity("banatic/groupements.csv")[1].sha256


def test_accept_edition_records_the_different_file(tmp_path):
    from planeco_kernel.sources import fetch, identity

    mirror = _halved_mirror(tmp_path)
    with identity.policy(accept_editions=True) as pol:
        art = fetch.mirror_file(MEMBERS, mirror)
        fetch.mirror_file("banatic/groupements.csv", mirror)
    assert [e["file"] for e in pol.editions] == [MEMBERS]
    assert pol.editions[0]["sha256"] == art.sha256 != pol.editions[0]["declared_sha256"]
    assert [v["file"] for v in pol.verified] == ["banatic/groupements.csv"]


def test_connector_files_are_checked_too(tmp_path):
    """A mirrored connector file (Filosofi 2016) re-saved by a tool is refused the same way."""
    from planeco_kernel.sources import base, filosofi, identity

    src = config.mirror_dir()
    if src is None or not (src / "insee" / "filosofi_com_2016.csv").is_file():
        pytest.skip("no Filosofi in the mirror")
    mirror = tmp_path / "mirror"
    (mirror / "insee").mkdir(parents=True)
    data = (src / "insee" / "filosofi_com_2016.csv").read_bytes()
    (mirror / "insee" / "filosofi_com_2016.csv").write_bytes(data.replace(b"\n", b"\r\n"))  # re-encoded line ends
    with pytest.raises(identity.IdentityError):
        base.obtain(filosofi.RELEASES[(2016, "commune")], mirror=mirror)


HEAD = {"territories": {"commune": 34_875, "epci": 1_254, "scot": 609, "departement": 101, "region": 18, "france": 1},
        "scot_carriers": 609, "population_year": 2023, "population": {"france": 68_000_000, "scot": 40_000_000}}
TOL = {"territories": 0.02, "scot_carriers": 0.05, "population": 0.01}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, []),
    ({"scot_carriers": 922, "territories": {**HEAD["territories"], "scot": 922}}, ["SCoT", "scot"]),
    ({"population": {"france": 68_100_000, "scot": 40_000_000}}, []),  # 0.15 %: within tolerance
    ({"population": {"france": 68_000_000, "scot": 30_000_000}}, ["population 2023 au niveau scot"]),
    ({"territories": {**HEAD["territories"], "commune": 30_000}}, ["niveau commune"]),
])
def test_headline_tolerances(change, expected):
    from planeco_kernel.bundle.checks import compare_headline

    moved = compare_headline(HEAD, {**HEAD, **change}, TOL)
    assert len(moved) >= len(expected) and all(any(e in m for m in moved) for e in expected), moved
    if not expected:
        assert moved == []


@pytest.mark.bundle
def test_headline_change_needs_accept_changes(bundle_dir):
    """The headline step refuses a SCoT layer that jumped from the previous bundle's count."""
    from planeco_kernel.bundle import build as b
    from planeco_kernel.bundle.reader import open_bundle

    bundle = open_bundle(bundle_dir)
    previous = dict(bundle.manifest.raw)
    if not previous.get("headline"):
        pytest.skip("bundle built before headline counts were recorded")
    st = b._State()
    st.tables["territories"] = bundle.read("territories").copy()
    st.tables["population"] = bundle.read("population").copy()
    scot = dict(bundle.manifest.scot or {})
    scot["structures"] = int(previous["headline"]["scot_carriers"] * 1.5)  # 609 -> 913, as with the cut file
    opts = b.BuildOptions(data_dir=Path(bundle_dir))
    with pytest.raises(BundleError, match="accept-changes"):
        b._check_headline(st, b.Reporter(quiet=True), opts, previous, scot)
    opts.accept_changes = True
    out = b._check_headline(st, b.Reporter(quiet=True), opts, previous, scot)
    assert any("SCoT" in line for line in out.changes)
    json.dumps(out.headline)  # goes to the manifest


@pytest.mark.bundle
def test_manifest_records_verified_identities(bundle_dir):
    from planeco_kernel.bundle.reader import open_bundle

    m = open_bundle(bundle_dir).manifest
    verified = {v["file"] for v in m.raw.get("verified_files", [])}
    assert {"banatic/groupements.csv", MEMBERS, "insee/base_cc_comparateur_csv_RP2018_COG2021.zip"} <= verified
    assert m.editions == ()
    assert m.headline["scot_carriers"] > 500
