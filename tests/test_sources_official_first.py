"""An online machine without the mirror's aggregate still builds LOVAC and Cartofriches from the
publisher's own file (read first), and says both reasons when neither can be read.

The official reads are replaced by functions returning invented frames (no network here)."""

from __future__ import annotations

import pandas as pd
import pytest

from planeco_kernel.bundle import sources_step
from planeco_kernel.errors import SourceUnavailableError
from planeco_kernel.sources import cartofriches, lovac

UNAVAILABLE = {sid: {"status": "unavailable", "reason": "fichier absent du miroir", "location": "x"}
               for sid in ("lovac", "cartofriches")}


def test_lovac_is_read_from_the_publisher_when_the_aggregate_is_absent(tmp_path, monkeypatch):
    frame = pd.DataFrame({"commune_code": ["61214"], "variable": ["parc_prive_lovac"], "year": [2025], "value": [1.0]})
    monkeypatch.setattr(lovac, "load_official", lambda **kw: frame)
    got = sources_step.load_source("lovac", mirror=tmp_path, network=True, availability=UNAVAILABLE)
    assert got.frames["lovac"] is frame and "éditeur" in got.origin


def test_cartofriches_sites_are_read_from_the_publisher_when_the_aggregate_is_absent(tmp_path, monkeypatch):
    counts, sites = pd.DataFrame({"commune_code": ["61214"]}), pd.DataFrame({"site_id": ["a"]})
    monkeypatch.setattr(cartofriches, "load_sites", lambda **kw: (counts, sites))
    got = sources_step.load_source("cartofriches", mirror=tmp_path, network=True, availability=UNAVAILABLE)
    assert got.frames["cartofriches"] is counts and got.tables["cartofriches_sites"] is sites


def test_neither_file_gives_one_error_with_both_reasons(tmp_path, monkeypatch):
    def down(**kw):
        raise SourceUnavailableError("data.gouv.fr ne répond pas")

    monkeypatch.setattr(lovac, "load_official", down)
    with pytest.raises(SourceUnavailableError, match="(?s)ne répond pas.*agrégat du miroir absent"):
        sources_step.load_source("lovac", mirror=tmp_path, network=True, availability=UNAVAILABLE)


def test_offline_without_the_aggregate_is_refused_before_any_fetch(tmp_path, monkeypatch):
    monkeypatch.setattr(lovac, "load_official", lambda **kw: pytest.fail("no fetch offline"))
    with pytest.raises(SourceUnavailableError, match="absent du miroir"):
        sources_step.load_source("lovac", mirror=tmp_path, network=False, availability=UNAVAILABLE)
