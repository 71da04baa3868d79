"""What ``jupyterhub_config.py`` applies: planeco for many people on one machine.

Each signed-in person gets their own server, spawned as a local process
(:class:`PlanecoSpawner`, JupyterHub's ``SimpleLocalProcessSpawner``):

- the default server is the planeco gallery and Voilà apps (:mod:`planeco_kernel.hub.singleuser`,
  the same Voilà application and options as ``planeco serve``), for everyone;
- a named server ``lab`` is JupyterLab (``jupyterhub-singleuser``), for technical staff only:
  hub administrators and members whose role in the knowledge base is *agent* or who moderate.

Every server reads one knowledge base (``PLANECO_KB`` in the spawner's environment) and the
data bundle; every write goes to the knowledge-base service (:mod:`planeco_kernel.hub.kb_service`,
a hub-managed service, ``PLANECO_KB_SERVICE_URL`` in the servers' environment), which acts as
the hub user owning the request's API token, matched to the member registry's ``hub_user``. Idle servers are stopped by ``jupyterhub-idle-culler``, run by the
hub as a managed service. The proxy is configurable-http-proxy from npm, installed by
``make setup`` in ``.hub-node/`` (no global install).

Settings come from the environment of the hub process (``planeco hub`` / ``make hub`` set them):

=============================== ============================================================
``PLANECO_HUB_IP``/``_PORT``    public address of the hub (``127.0.0.1:8000``)
``PLANECO_HUB_API_PORT``        the hub's internal API port (8081)
``PLANECO_HUB_PROXY_API_PORT``  the proxy's control port (8001)
``PLANECO_HUB_KB_SERVICE_PORT`` the knowledge-base service's port, on 127.0.0.1 (8082)
``PLANECO_HUB_DIR``             hub state: database, cookie secret, users' folders
                                (default ``<user data dir>/planeco/hub``)
``PLANECO_HUB_AUTHENTICATOR``   ``native`` (default), ``oauth``, ``dummy`` (loopback only) or a class
``PLANECO_HUB_ADMINS``          hub administrators, comma-separated
``PLANECO_HUB_POOL_SIZE``       preheated kernels per app and per person (1)
``PLANECO_HUB_CULL_IDLE``       stop servers idle for this many seconds (3600)
``PLANECO_HUB_APPS_DIR``        the apps folder with its ``gallery.yaml`` (default: ``apps/``)
``PLANECO_HUB_PROXY``           configurable-http-proxy executable (default: ``.hub-node``)
``PLANECO_HUB_EXTRA_CONFIG``    a Python file loaded last (your authenticator's settings)
``PLANECO_KB``                  the shared knowledge base (required: ``planeco kb init``)
=============================== ============================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from planeco_kernel import config as planeco_config
from planeco_kernel.errors import ConfigError

AUTHENTICATORS: dict[str, str] = {
    "native": "planeco_kernel.hub.native.PlanecoNativeAuthenticator",  # NativeAuthenticator, fixed for JupyterHub 6
    "oauth": "oauthenticator.generic.GenericOAuthenticator",
    "dummy": "jupyterhub.auth.DummyAuthenticator",
}
"""Short names of the authenticators ``PLANECO_HUB_AUTHENTICATOR`` accepts (or a class path)."""

LAB_SERVER = "lab"
"""Name of the JupyterLab server of technical staff (``/user/NAME/lab/``)."""

STAFF_ROLES = frozenset({"agent"})
"""Knowledge-base roles that may open JupyterLab (besides moderators and hub admins)."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} doit être un nombre entier (reçu « {raw} »).") from None


def proxy_command(env: Mapping[str, str] | None = None) -> str:
    """The configurable-http-proxy executable: ``PLANECO_HUB_PROXY``, ``.hub-node/``, else ``PATH``.

    Raises
    ------
    ConfigError
        If it is nowhere (``make setup`` installs it from npm).
    """
    env = os.environ if env is None else env
    candidates = [env.get("PLANECO_HUB_PROXY", ""),
                  str(planeco_config.PROJECT_ROOT / ".hub-node" / "node_modules" / ".bin" / "configurable-http-proxy"),
                  shutil.which("configurable-http-proxy") or ""]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    raise ConfigError("configurable-http-proxy introuvable : lancez `make setup` (il l'installe depuis npm dans .hub-node/) "
                      "ou indiquez-le avec PLANECO_HUB_PROXY.")


@dataclass
class HubSettings:
    """The hub's settings (see the module docstring for the environment variables)."""

    ip: str = "127.0.0.1"
    port: int = 8000
    api_port: int = 8081
    proxy_api_port: int = 8001
    kb_service_port: int = 8082
    state_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("planeco")) / "hub")
    authenticator: str = "native"
    admins: list[str] = field(default_factory=list)
    pool_size: int = 1
    cull_idle_s: int = 3600
    kb_dir: Path | None = None
    extra_config: Path | None = None
    apps_dir: Path = field(default_factory=lambda: planeco_config.PROJECT_ROOT / "apps")

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> HubSettings:
        """Read the ``PLANECO_HUB_*`` variables and ``PLANECO_KB``."""
        env = dict(os.environ if env is None else env)
        s = cls()
        s.ip = env.get("PLANECO_HUB_IP") or s.ip
        s.port = _int(env, "PLANECO_HUB_PORT", s.port)
        s.api_port = _int(env, "PLANECO_HUB_API_PORT", s.api_port)
        s.proxy_api_port = _int(env, "PLANECO_HUB_PROXY_API_PORT", s.proxy_api_port)
        s.kb_service_port = _int(env, "PLANECO_HUB_KB_SERVICE_PORT", s.kb_service_port)
        if env.get("PLANECO_HUB_DIR"):
            s.state_dir = Path(env["PLANECO_HUB_DIR"]).expanduser().resolve()
        s.authenticator = env.get("PLANECO_HUB_AUTHENTICATOR") or s.authenticator
        s.admins = [a.strip() for a in env.get("PLANECO_HUB_ADMINS", "").split(",") if a.strip()]
        s.pool_size = _int(env, "PLANECO_HUB_POOL_SIZE", s.pool_size)
        s.cull_idle_s = _int(env, "PLANECO_HUB_CULL_IDLE", s.cull_idle_s)
        from planeco_kernel.knowledge.location import default_kb_dir

        s.kb_dir = default_kb_dir() if not env.get("PLANECO_KB") else Path(env["PLANECO_KB"]).expanduser().resolve()
        if env.get("PLANECO_HUB_APPS_DIR"):
            s.apps_dir = Path(env["PLANECO_HUB_APPS_DIR"]).expanduser().resolve()
        if env.get("PLANECO_HUB_EXTRA_CONFIG"):
            s.extra_config = Path(env["PLANECO_HUB_EXTRA_CONFIG"]).expanduser().resolve()
        return s

    def authenticator_class(self) -> str:
        """The authenticator's import path; ``dummy`` is refused off loopback (anyone could sign in)."""
        from planeco_kernel.serve import is_loopback

        cls = AUTHENTICATORS.get(self.authenticator, self.authenticator)
        if "." not in cls:
            raise ConfigError(f"Authentificateur inconnu « {self.authenticator} » : choisissez {', '.join(AUTHENTICATORS)} "
                              "ou un nom de classe Python (module.Classe).")
        if cls == AUTHENTICATORS["dummy"] and not is_loopback(self.ip):
            raise ConfigError("L'authentificateur « dummy » accepte n'importe qui : il est réservé aux essais sur 127.0.0.1.")
        return cls

    def check(self, env: Mapping[str, str] | None = None) -> None:
        """Raise a French :class:`ConfigError` for a hub that cannot work (no knowledge base, no proxy…);
        ``env``: the environment the hub will run with (default: this process's)."""
        from planeco_kernel.knowledge.location import find_root

        self.authenticator_class()
        if self.kb_dir is None or find_root(self.kb_dir) is None:
            raise ConfigError(
                f"Pas de base de connaissances dans « {self.kb_dir} » : le hub la partage entre tous. Créez-la avec "
                "`planeco kb init DOSSIER --admin ID --name \"…\" --role agent` puis PLANECO_KB=DOSSIER.")
        proxy_command(env)
        if not (self.apps_dir / "gallery.yaml").is_file():
            raise ConfigError(f"PLANECO_HUB_APPS_DIR : pas de gallery.yaml dans « {self.apps_dir} ».")
        if self.extra_config is not None and not self.extra_config.is_file():
            raise ConfigError(f"PLANECO_HUB_EXTRA_CONFIG : fichier introuvable « {self.extra_config} ».")


def spawner_environment(s: HubSettings) -> dict[str, str]:
    """Environment of every user's server (and so of their kernels): shared data, knowledge base and its writer."""
    from planeco_kernel.hub.kb_service import client_url
    from planeco_kernel.knowledge.remote import SERVICE_VARIABLE
    from planeco_kernel.serve import ServeOptions, kernel_environment

    env = kernel_environment(ServeOptions(behind_hub=True))
    env["PLANECO_KB"] = str(s.kb_dir)
    env[SERVICE_VARIABLE] = client_url(s.kb_service_port)
    for name in ("PLANECO_CACHE", "PLANECO_MIRROR", "PLANECO_OFFLINE", "LANG", "LC_ALL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def may_open_lab(hub_user: str, is_admin: bool, kb_dir: Path | None) -> bool:
    """Technical staff: hub admins, and members (matched by ``hub_user``) who are agents or moderators."""
    if is_admin:
        return True
    from planeco_kernel.knowledge.errors import KnowledgeError
    from planeco_kernel.knowledge.kb import KnowledgeBase

    try:
        members = KnowledgeBase(kb_dir).members()
    except KnowledgeError:
        return False
    from planeco_kernel.knowledge.identity import member_for_hub_user

    m = member_for_hub_user(hub_user, {m.id: m for m in members})
    return m is not None and (m.role in STAFF_ROLES or m.moderator)


def _spawner_class():
    from jupyterhub.spawner import SimpleLocalProcessSpawner
    from tornado.web import HTTPError

    class PlanecoSpawner(SimpleLocalProcessSpawner):
        """Local processes: the planeco gallery (default server) or JupyterLab (server ``lab``, staff)."""

        async def start(self):
            settings: HubSettings = self.planeco_settings  # set by configure()
            if self.name == LAB_SERVER:
                if not may_open_lab(self.user.name, bool(self.user.admin), settings.kb_dir):
                    message = ("JupyterLab est réservé aux agents et aux modérateur·rices de la base d'échanges : "
                               "vos applications sont dans votre galerie ; pour JupyterLab, demandez à un·e modérateur·rice.")
                    exc = HTTPError(403, message)
                    exc.jupyterhub_message = message  # shown by the hub's spawn page
                    raise exc
                self.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
                self.args = ["--ServerApp.default_url=/lab"]
                if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
                    self.args.append("--ServerApp.allow_root=True")
            elif self.name == "":
                self.cmd = [sys.executable, "-m", "planeco_kernel.hub.singleuser"]
                self.args = [f"--pool-size={settings.pool_size}", "--cull-idle=900", f"--apps-dir={settings.apps_dir}"]
            else:
                raise HTTPError(404, f"Serveur inconnu « {self.name} » : le seul serveur nommé est « {LAB_SERVER} ».")
            return await super().start()

    return PlanecoSpawner


def configure(c, s: HubSettings | None = None) -> HubSettings:
    """Apply planeco's hub configuration to the traitlets config ``c`` of ``jupyterhub_config.py``."""
    s = s or HubSettings.from_environment()
    s.check()
    s.state_dir.mkdir(parents=True, exist_ok=True)
    (s.state_dir / "users").mkdir(exist_ok=True)

    c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = s.api_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [proxy_command()]
    c.ConfigurableHTTPProxy.pid_file = str(s.state_dir / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{s.state_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(s.state_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(s.state_dir / "jupyterhub.pid")
    # No calls home from the hub either, and the planeco gallery is everyone's landing page.
    c.JupyterHub.default_url = "/hub/spawn"

    c.JupyterHub.authenticator_class = s.authenticator_class()
    if s.admins:
        c.Authenticator.admin_users = set(s.admins)
    if s.authenticator in ("native", AUTHENTICATORS["native"], "nativeauthenticator.NativeAuthenticator"):
        c.NativeAuthenticator.open_signup = False          # a hub admin authorises each account
        c.NativeAuthenticator.check_common_password = True
        c.NativeAuthenticator.minimum_password_length = 10
    # Who may sign in is the authenticator's business: the native one only lets in accounts a hub
    # admin has authorised (admins are authorised when they sign up), an SSO only its users, the
    # dummy one (loopback tests) anyone. Who may *write* is the knowledge base's member registry.
    c.Authenticator.allow_all = True

    spawner = _spawner_class()
    spawner.planeco_settings = s
    c.JupyterHub.spawner_class = spawner
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = 1
    c.Spawner.environment = spawner_environment(s)
    c.SimpleLocalProcessSpawner.home_dir_template = str(s.state_dir / "users" / "{username}")
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90
    c.Spawner.default_url = "/"
    # Jupyter servers answer SIGINT with a confirmation prompt: go straight to SIGTERM after 2 s.
    c.LocalProcessSpawner.interrupt_timeout = 2
    c.LocalProcessSpawner.term_timeout = 5

    from planeco_kernel.hub import kb_service

    c.JupyterHub.services = [{
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={s.cull_idle_s}",
                    f"--cull-every={max(30, s.cull_idle_s // 4)}"],
    }, kb_service.service_spec(s.kb_dir, s.kb_service_port,
                              {**c.Spawner.environment, kb_service.STATE_VARIABLE: str(s.state_dir / "kb-service")})]
    c.JupyterHub.load_roles = [{
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }, *kb_service.roles()]
    # Users' servers identify their owner to the knowledge-base service with their API token.
    c.Spawner.server_token_scopes = kb_service.SERVER_TOKEN_SCOPES
    return s


def run_hub(*, ip: str = "127.0.0.1", port: int = 8000, authenticator: str = "native", admins: list[str] | None = None) -> int:
    """Start JupyterHub with the repository's ``jupyterhub_config.py`` (blocks; returns its exit code)."""
    import subprocess

    env = dict(os.environ)
    env.update({"PLANECO_HUB_IP": ip, "PLANECO_HUB_PORT": str(port), "PLANECO_HUB_AUTHENTICATOR": authenticator})
    if admins:
        env["PLANECO_HUB_ADMINS"] = ",".join(admins)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(planeco_config.PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    s = HubSettings.from_environment(env)
    s.check(env)  # before starting (clear French errors), as jupyterhub_config.py will
    s.state_dir.mkdir(parents=True, exist_ok=True)
    print(f"JupyterHub planeco : http://{s.ip}:{s.port}/  (état : {s.state_dir} ; Ctrl+C pour arrêter)", flush=True)
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(planeco_config.PROJECT_ROOT / "jupyterhub_config.py")]
    return subprocess.call(cmd, env=env, cwd=str(s.state_dir))
