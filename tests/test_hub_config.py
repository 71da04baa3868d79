"""The hub configuration (planeco_kernel.hub.config) without starting a hub: settings, checks, spawner."""

from __future__ import annotations

import sys

import pytest
from traitlets.config import Config

from planeco_kernel.errors import ConfigError
from planeco_kernel.hub import config as H
from planeco_kernel.hub.singleuser import options_from_environment


@pytest.fixture()
def kb(tmp_path):
    """A knowledge base with INVENTED TEST members: an agent (staff) and an elected official."""
    from planeco_kernel.knowledge import KnowledgeBase, Member

    kb = KnowledgeBase.init(tmp_path / "kb", Member("agent1", "Agent Essai", "agent", hub_user="agent-hub"))
    kb.add_member(Member("elue1", "Élue Essai", "elu", hub_user="elue-hub"), actor="agent1")
    return kb.root


def _env(kb, tmp_path, **kw):
    env = {"PLANECO_KB": str(kb), "PLANECO_HUB_DIR": str(tmp_path / "state"), "PLANECO_HUB_AUTHENTICATOR": "dummy",
           "PLANECO_HUB_PORT": "18500", "PLANECO_HUB_POOL_SIZE": "0"}
    env.update(kw)
    return env


def test_settings_from_environment(kb, tmp_path):
    s = H.HubSettings.from_environment(_env(kb, tmp_path, PLANECO_HUB_ADMINS="a, b", PLANECO_HUB_CULL_IDLE="600"))
    assert (s.port, s.pool_size, s.cull_idle_s, s.admins) == (18500, 0, 600, ["a", "b"])
    assert s.kb_dir == kb and s.authenticator_class() == "jupyterhub.auth.DummyAuthenticator"


@pytest.mark.parametrize(("extra", "match"), [
    ({"PLANECO_HUB_PORT": "huit"}, "nombre entier"),
    ({"PLANECO_HUB_AUTHENTICATOR": "facebook"}, "Authentificateur inconnu"),
    ({"PLANECO_HUB_IP": "0.0.0.0"}, "réservé aux essais sur 127.0.0.1"),
    ({"PLANECO_KB": "/nonexistent/kb"}, "Pas de base de connaissances"),
    ({"PLANECO_HUB_PROXY": "/nonexistent", "PATH": "/nonexistent"}, None),
])
def test_settings_errors_say_what_to_fix(kb, tmp_path, monkeypatch, extra, match):
    env = _env(kb, tmp_path, **extra)
    if match is None:  # a bad PLANECO_HUB_PROXY falls back to .hub-node (installed by make setup)
        assert H.proxy_command(env).endswith("configurable-http-proxy")
        return
    with pytest.raises(ConfigError, match=match):
        H.HubSettings.from_environment(env).check()


def test_configure_sets_spawner_proxy_culler_and_shared_kb(kb, tmp_path):
    c = Config()
    s = H.configure(c, H.HubSettings.from_environment(_env(kb, tmp_path)))
    assert c.JupyterHub.bind_url == "http://127.0.0.1:18500"
    assert c.ConfigurableHTTPProxy.command[0].endswith("configurable-http-proxy")
    env = c.Spawner.environment
    assert env["PLANECO_KB"] == str(kb) and env["PLANECO_SERVE_MODE"] == "hub"
    assert "JUPYTERHUB_USER" not in env and "PLANECO_KB_USER" not in env   # the spawner sets the hub user
    culler = c.JupyterHub.services[0]
    assert culler["command"][:3] == [sys.executable, "-m", "jupyterhub_idle_culler"]
    assert any("delete:servers" in r["scopes"] for r in c.JupyterHub.load_roles if "idle-culler" in r["services"])
    assert c.JupyterHub.spawner_class.planeco_settings is s
    assert (tmp_path / "state" / "users").is_dir()


def test_native_authenticator_needs_an_admin_to_authorise_accounts(kb, tmp_path):
    c = Config()
    H.configure(c, H.HubSettings.from_environment(_env(kb, tmp_path, PLANECO_HUB_AUTHENTICATOR="native",
                                                            PLANECO_HUB_ADMINS="agent-hub")))
    assert c.JupyterHub.authenticator_class == "planeco_kernel.hub.native.PlanecoNativeAuthenticator"
    assert c.NativeAuthenticator.open_signup is False and c.Authenticator.admin_users == {"agent-hub"}


@pytest.mark.parametrize(("hub_user", "admin", "allowed"), [
    ("agent-hub", False, True),     # role agent: technical staff
    ("elue-hub", False, False),
    ("elue-hub", True, True),       # hub admin
    ("inconnu", False, False),
])
def test_only_staff_may_open_jupyterlab(kb, hub_user, admin, allowed):
    assert H.may_open_lab(hub_user, admin, kb) is allowed


def test_singleuser_options_come_from_the_hub_environment(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:45678/user/marie/")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/marie/")
    monkeypatch.setenv("JUPYTERHUB_USER", "marie")
    o = options_from_environment(["--pool-size=2"])
    assert (o.ip, o.port, o.base_url, o.pool_size, o.mode) == ("127.0.0.1", 45678, "/user/marie/", 2, "hub")
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL")
    with pytest.raises(ConfigError, match="se lance depuis JupyterHub"):
        options_from_environment([])


def test_planeco_hub_refuses_to_start_without_a_shared_knowledge_base(tmp_path, monkeypatch, capsys):
    from planeco_kernel.cli import main

    monkeypatch.setenv("PLANECO_KB", str(tmp_path / "absente"))
    monkeypatch.setenv("PLANECO_HUB_DIR", str(tmp_path / "state"))
    assert main(["hub", "--authenticator", "dummy", "--port", "18501"]) == 2
    assert "Pas de base de connaissances" in capsys.readouterr().err


def test_planeco_hub_refuses_the_dummy_authenticator_on_the_network(kb, tmp_path, monkeypatch, capsys):
    from planeco_kernel.cli import main

    monkeypatch.setenv("PLANECO_KB", str(kb))
    monkeypatch.setenv("PLANECO_HUB_DIR", str(tmp_path / "state"))
    assert main(["hub", "--authenticator", "dummy", "--ip", "0.0.0.0"]) == 2
    assert "réservé aux essais" in capsys.readouterr().err


def test_the_knowledge_base_service_is_hub_managed_and_users_tokens_may_call_it(kb, tmp_path):
    from planeco_kernel.hub import kb_service as K

    c = Config()
    H.configure(c, H.HubSettings.from_environment(_env(kb, tmp_path, PLANECO_HUB_KB_SERVICE_PORT="18582")))
    service = next(s for s in c.JupyterHub.services if s["name"] == K.SERVICE_NAME)
    assert service["command"] == [sys.executable, "-m", "planeco_kernel.hub.kb_service"]
    assert service["url"] == "http://127.0.0.1:18582" and service["environment"]["PLANECO_KB"] == str(kb)
    assert "PLANECO_KB_SERVICE_URL" not in service["environment"]      # the service writes itself
    assert c.Spawner.environment["PLANECO_KB_SERVICE_URL"] == "http://127.0.0.1:18582/services/planeco-kb/"
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert K.ACCESS_SCOPE in user_role["scopes"] and "self" in user_role["scopes"]
    assert K.ACCESS_SCOPE in c.Spawner.server_token_scopes and "users:activity!user" in c.Spawner.server_token_scopes
