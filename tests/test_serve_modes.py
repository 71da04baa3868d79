"""Who ``planeco serve`` serves: local, public or behind the hub; the local knowledge base of ``make run``; warm pools."""

from __future__ import annotations

import asyncio

import pytest

from planeco_kernel import serve as S
from planeco_kernel.apps.gallery import GalleryNotice, pools_warm, render_gallery
from planeco_kernel.hub import local_kb


@pytest.mark.parametrize(("ip", "public", "hub", "mode"), [
    ("127.0.0.1", False, False, "local"),
    ("localhost", False, False, "local"),
    ("::1", False, False, "local"),
    ("127.0.0.1", True, False, "public"),
    ("0.0.0.0", False, False, "public"),       # any non-loopback interface: strangers may come
    ("192.168.1.10", False, False, "public"),
    ("127.0.0.1", False, True, "hub"),
])
def test_mode(ip, public, hub, mode):
    assert S.ServeOptions(ip=ip, public=public, behind_hub=hub).mode == mode


def test_the_mode_reaches_kernels_through_the_kernel_environment(monkeypatch):
    env = S.kernel_environment(S.ServeOptions(public=True, sign_in_url="https://hub.exemple.fr/"))
    assert env["PLANECO_SERVE_MODE"] == "public" and env["PLANECO_SIGN_IN_URL"] == "https://hub.exemple.fr/"
    monkeypatch.setenv("PLANECO_SERVE_MODE", env["PLANECO_SERVE_MODE"])
    monkeypatch.setenv("PLANECO_SIGN_IN_URL", env["PLANECO_SIGN_IN_URL"])
    S.serving_context.cache_clear()
    try:
        ctx = S.serving_context()
        assert ctx.read_only and "https://hub.exemple.fr/" in ctx.sign_in_hint()
        monkeypatch.setenv("PLANECO_SERVE_MODE", "n'importe")
        S.serving_context.cache_clear()
        with pytest.raises(S.ConfigError, match="PLANECO_SERVE_MODE invalide"):
            S.serving_context()
    finally:
        S.serving_context.cache_clear()


def test_public_gallery_says_how_to_sign_in(tmp_path):
    notices = S.gallery_notices(S.ServeOptions(public=True, sign_in_url="https://hub.exemple.fr/"))
    html = render_gallery([], notices=notices)
    assert "connectez-vous" in html and 'href="https://hub.exemple.fr/"' in html


def test_warming_notice_reloads_the_page_and_is_escaped():
    html = render_gallery([], notices=[GalleryNotice("<b>prêt</b>", kind="warming", refresh_s=2)])
    assert '<meta http-equiv="refresh" content="2">' in html and "&lt;b&gt;prêt&lt;/b&gt;" in html


class _Pools:
    def __init__(self, pools):
        self._pools = pools


def _done(value):
    loop = asyncio.new_event_loop()
    f = loop.create_future()
    f.set_result(value)
    loop.close()
    return f


def _pending():
    loop = asyncio.new_event_loop()
    f = loop.create_future()
    loop.close()
    return f


def test_pools_warm_only_when_each_app_ran_up_to_the_visit(monkeypatch):
    from voila.request_info_handler import RequestInfoSocketHandler

    monkeypatch.setattr(RequestInfoSocketHandler, "_waiters", {"k-waiting": object()})
    finished = {"kernel_id": "k-done", "task": _done(None)}          # ran to the end (Échanges)
    waiting = {"kernel_id": "k-waiting", "task": _pending()}         # waits for the visitor (Comparateur)
    loading = {"kernel_id": "k-loading", "task": _pending()}         # still importing and loading data
    assert pools_warm(object(), ["a.ipynb"])                           # no preheating at all
    assert pools_warm(_Pools({"a.ipynb": [_done(finished)], "b.ipynb": [_done(waiting)]}), ["a.ipynb", "b.ipynb"])
    assert not pools_warm(_Pools({"a.ipynb": [_done(finished)], "b.ipynb": [_done(loading)]}), ["a.ipynb", "b.ipynb"])
    assert not pools_warm(_Pools({"a.ipynb": [_pending()]}), ["a.ipynb"])  # kernel not even started
    assert not pools_warm(_Pools({}), ["a.ipynb"])


def test_ensure_local_kb_creates_it_once_with_the_person_at_the_machine(tmp_path, monkeypatch):
    from planeco_kernel.knowledge import KnowledgeBase

    monkeypatch.setattr(local_kb, "_git_config", lambda key: {"user.name": "Camille Dupré", "user.email": "c@exemple.fr"}[key])
    monkeypatch.setattr("planeco_kernel.knowledge.identity.os_login", lambda: "Camille")
    root, created = local_kb.ensure_local_kb(tmp_path / "kb")
    assert created
    me = KnowledgeBase(root).member("camille")
    assert (me.name, me.email, me.role, me.moderator, me.hub_user) == ("Camille Dupré", "c@exemple.fr", "agent", True, "Camille")
    assert local_kb.ensure_local_kb(tmp_path / "kb") == (root, False)


def test_local_admin_falls_back_to_the_os_account(monkeypatch):
    monkeypatch.setattr(local_kb, "_git_config", lambda key: "")
    monkeypatch.setattr("planeco_kernel.knowledge.identity.os_login", lambda: "J.Martin")
    assert local_kb.local_admin() == local_kb.LocalAdmin("j.martin", "J.Martin", "", "système", "J.Martin")


def test_default_pool_follows_available_memory(tmp_path):
    """Without --pool-size the gallery preheats one kernel per app only where memory allows (measured 4.8 GB)."""
    from planeco_kernel.serve import POOL_MEMORY_BYTES, available_memory, default_pool_size

    assert default_pool_size(POOL_MEMORY_BYTES)[0] == 1
    assert default_pool_size(None)[0] == 1  # unknown (not Linux): keep the fast default
    size, why = default_pool_size(3 * 1024**3)
    assert size == 0 and "3.0 Go" in why and "--pool-size 1" in why
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:    2097152 kB\n")
    assert available_memory(meminfo) == 2 * 1024**3
    meminfo.write_text("garbage")
    assert available_memory(meminfo) is None
    assert available_memory(tmp_path / "absent") is None
