"""The source catalogue and its availability check (mirror, cache, network) — without downloads."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path

import pytest

from planeco_kernel import config
from planeco_kernel.sources import catalog
from planeco_kernel.sources.fetch import Cache, _cache_name_for_url

EXPECTED = {"filosofi", "insee_rp", "insee_iris_pop", "insee_comparateur", "cerema_conso", "cerema_lyon", "ademe_dpe",
            "sitadel", "energy", "ghg",
            # per-commune aggregates of national files, read from the mirror only (mirror_only releases)
            "sitadel_communes", "insee_rp_logement", "filosofi_2021", "lovac", "sru", "catnat", "cartofriches",
            "anct_programmes"}
MIRROR_ONLY = {s for s in EXPECTED if catalog.SOURCES[s].release().extra.get("mirror_only")}


def test_catalogue_lists_every_connector_with_its_metadata() -> None:
    assert set(catalog.SOURCES) == EXPECTED
    for sid, info in catalog.SOURCES.items():
        module = import_module(f"planeco_kernel.sources.{sid}")
        assert module.SOURCE_ID == sid
        assert info.title and info.publisher and info.licence and info.vintages and info.themes
        assert all(u.startswith("https://") for u in info.urls), sid
        rel = info.release()
        assert rel.source_id == sid and rel.url == info.urls[0], sid
        assert rel.mirror_path, sid


@pytest.fixture()
def clean_env(monkeypatch, isolated_cache):
    monkeypatch.delenv("PLANECO_MIRROR", raising=False)
    monkeypatch.delenv("PLANECO_OFFLINE", raising=False)
    return isolated_cache


def _never(url: str) -> tuple[bool, str]:
    raise AssertionError(f"the network must not be probed here ({url})")


def test_offline_everything_unavailable_with_reasons(clean_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    status = catalog.available(mirror=tmp_path, probe=_never)
    assert set(status) == EXPECTED
    for sid, s in status.items():
        assert s["status"] == "unavailable", sid
        assert "hors ligne" in s["reason"] and "miroir" in s["reason"], s


def test_mirror_then_cache_then_network(clean_env, tmp_path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "cerema").mkdir(parents=True)
    (mirror / "cerema" / "conso2009_2024_resultats_com.csv").write_text("idcom\n", encoding="utf-8")
    ghg_url = catalog.SOURCES["ghg"].release().url
    src = tmp_path / "igt.csv"
    src.write_text("INSEE commune\n", encoding="utf-8")
    Cache(clean_env).put("url", _cache_name_for_url(ghg_url), src)
    probed: list[str] = []

    def probe(url: str) -> tuple[bool, str]:
        probed.append(url)
        return ("agenceore" in url, "HTTP 200" if "agenceore" in url else "injoignable (test)")

    status = catalog.available(mirror=mirror, probe=probe)
    assert status["cerema_conso"]["status"] == "mirror"
    assert status["ghg"]["status"] == "cache"
    assert status["energy"]["status"] == "network"
    assert status["insee_rp"]["status"] == "unavailable" and "injoignable (test)" in status["insee_rp"]["reason"]
    # Sources found locally are not probed; the others are, once each.
    # (cerema_lyon is an extract readable from the mirror only: never probed)
    never_probed = MIRROR_ONLY | {"cerema_lyon"}
    assert ghg_url not in probed and len(probed) == len(set(probed)) == len(EXPECTED - never_probed) - 2
    assert all(status[s]["status"] == "unavailable" for s in MIRROR_ONLY)  # never probed: the mirror or nothing


def test_filosofi_falls_back_to_an_old_mirrored_vintage(clean_env, tmp_path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "insee").mkdir(parents=True)
    (mirror / "insee" / "filosofi_com_2016.csv").write_text("CODGEO\n", encoding="utf-8")
    status = catalog.available(mirror=mirror, network=False, probe=_never)
    assert status["filosofi"]["status"] == "mirror"
    assert "millésime ancien 2016" in status["filosofi"]["reason"]
    assert status["insee_rp"] == {
        "status": "unavailable",
        "location": catalog.SOURCES["insee_rp"].release().url,
        "reason": "réseau non vérifié ; fichier absent du miroir (insee/dossier_complet.zip) et du cache",
    }


class _Recorder(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self.server.methods.append("HEAD")
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", "123456789")
        self.end_headers()

    def do_GET(self) -> None:  # pragma: no cover - must not happen
        self.server.methods.append("GET")
        self.send_response(500)
        self.end_headers()


@pytest.fixture()
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.methods = []
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "ok", "reason"), [("/ok", True, "HTTP 200"), ("/missing", False, "HTTP 404")])
def test_probe_sends_only_head(recorder, path: str, ok: bool, reason: str) -> None:
    url = f"http://127.0.0.1:{recorder.server_address[1]}{path}"
    assert catalog.probe_url(url) == (ok, reason)
    assert recorder.methods == ["HEAD"]


def test_probe_unreachable_host() -> None:
    ok, reason = catalog.probe_url("http://127.0.0.1:9/nothing", timeout=1)
    assert (ok, reason) == (False, "injoignable (connexion refusée)")


def test_probe_unknown_host_says_so_in_plain_french() -> None:
    """What users read carries no raw OS error (« [Errno -2] … »)."""
    ok, reason = catalog.probe_url("http://planeco-test.invalid/x", timeout=2)
    assert (ok, reason) == (False, "injoignable (pas d'accès à internet ou serveur inconnu)")


_ENV_MIRROR = os.environ.get("PLANECO_MIRROR")
_REAL_MIRROR = next(
    (p for p in ([Path(_ENV_MIRROR)] if _ENV_MIRROR else []) + config.default_mirror_candidates()
     if (p / "insee" / "filosofi_com_2016.csv").is_file()),
    None,
)


@pytest.mark.skipif(_REAL_MIRROR is None, reason="offline mirror not found (set PLANECO_MIRROR)")
def test_real_mirror_reports_filosofi(clean_env, monkeypatch) -> None:
    mirror = _REAL_MIRROR
    monkeypatch.setenv("PLANECO_OFFLINE", "1")
    status = catalog.available(mirror=mirror, probe=_never)
    assert status["filosofi"]["status"] == "mirror"
    assert status["filosofi"]["location"].endswith("insee/filosofi_com_2016.csv")


def test_load_by_id(clean_env, tmp_path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "sources" / "test-data_IGT - Pouvoir de réchauffement global.csv"
    with pytest.warns(UserWarning, match="2016"):
        df = catalog.load("ghg", url=fixture.as_uri())
    assert set(df["commune_code"]) == {"01001", "01004", "2A004"}
    with pytest.raises(KeyError, match=r"Sources connues : filosofi, insee_rp"):
        catalog.load("dvf")
