"""Serve the planeco app gallery with Voilà.

One Voilà server (standalone, "tree" mode) serves every notebook in the apps directory
(``apps/`` in the checkout) with the ``planeco`` template (DSFR-inspired look, code never shown,
no CDN), and a gallery page of our own at ``/`` that lists the apps described in
``apps/gallery.yaml``.

Settings chosen for speed and for machines without internet (see ``shared/STACK.md``):

- preheated kernels (``preheat_kernel``, one per app by default): a visitor gets a kernel that
  has already imported the libraries and loaded the territory model; apps read the request's
  query string with :func:`planeco_kernel.apps.request.query_params`, which waits for the visit;
- kernel culling: kernels idle for ``cull_idle_s`` seconds are shut down;
- only the two front-end extensions the apps use are loaded (ipywidgets and ipyleaflet);
- the Voilà template loads nothing from a CDN (Font Awesome is already in Voilà's bundle).

Who is served (:attr:`ServeOptions.mode`):

- ``local`` (the default, on 127.0.0.1): the person at the machine, with the knowledge base's
  local identity (``make run`` creates a local knowledge base on first start);
- ``public`` (``--public``, or any non-loopback ``--ip``): anonymous visitors read, and every write
  control says how to sign in (through the hub, ``--sign-in-url``) instead of writing under the
  server's identity;
- ``hub``: one signed-in person's server behind JupyterHub (:mod:`planeco_kernel.hub`), whose
  identity is the hub user (``JUPYTERHUB_USER``, set by the spawner).

The mode reaches the app kernels through :func:`kernel_environment` (read back once in a kernel
by :func:`serving_context`), never through settings read mid-run elsewhere.

Voilà is imported lazily, inside :func:`serve`, so that ``planeco --help`` stays instant.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from planeco_kernel import config
from planeco_kernel.errors import BundleError, ConfigError

TEMPLATE_NAME = "planeco"
"""The Voilà template used for every app."""

SHARE_DIR = Path(__file__).resolve().parent / "apps" / "share"
"""A Jupyter data directory (added to ``JUPYTER_PATH``) holding ``voila/templates/planeco``."""

DEFAULT_APPS_DIR = config.PROJECT_ROOT / "apps"
"""The app notebooks of the checkout."""

FRONTEND_EXTENSIONS: tuple[str, ...] = (
    "@voila-dashboards/widgets-manager8",  # Voilà's own widget manager (ipywidgets 8): required
    "@jupyter-widgets/jupyterlab-manager",
    "jupyter-leaflet",
)
"""The only JupyterLab front-end extensions loaded by the apps (others cost seconds per page)."""


POOL_MEMORY_BYTES = 8 * 1024**3
"""Memory the default pool needs free: measured 4.8 GB for the six preheated app kernels of the gallery
(3.6 GB of them the Comparateur's indicator cube), with room left for the visitors' own kernels."""


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """``MemAvailable`` of the machine in bytes (Linux), ``None`` where it cannot be read."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def default_pool_size(available: int | None) -> tuple[int, str]:
    """The pool size ``planeco serve`` uses without ``--pool-size``, and the sentence that says why.

    One preheated kernel per app when the machine has :data:`POOL_MEMORY_BYTES` free (apps open in
    about the time of a hello-world page); none on a smaller machine (each visit then starts its
    kernel: a few seconds more, but the laptop does not run out of memory).
    """
    if available is None or available >= POOL_MEMORY_BYTES:
        return 1, "un noyau préchauffé par application"
    gib = available / 1024**3
    return 0, (f"aucun noyau préchauffé : {gib:.1f} Go de mémoire disponible, il en faut "
               f"{POOL_MEMORY_BYTES // 1024**3} (les applications démarrent à la visite ; --pool-size 1 pour forcer)")


@dataclass
class ServeOptions:
    """How to run the gallery server.

    Attributes
    ----------
    port
        TCP port on ``ip``; the server fails rather than silently taking another one.
    open_browser
        Open the gallery in the default browser once the server listens.
    apps_dir
        Directory of the app notebooks and of ``gallery.yaml``.
    pool_size
        Preheated kernels kept ready per app (``0`` disables preheating).
    cull_idle_s
        Shut down kernels idle for this many seconds.
    ip
        Interface to listen on (local only by default).
    public
        Serve anonymous visitors read-only (implied by any non-loopback ``ip``).
    sign_in_url
        Where a public visitor signs in to write (the hub's address), shown on write controls.
    base_url
        URL prefix of every page (``/user/NAME/`` behind JupyterHub).
    behind_hub
        One signed-in person's server spawned by JupyterHub (:mod:`planeco_kernel.hub.singleuser`).
    """

    port: int = 8866
    open_browser: bool = True
    apps_dir: Path = field(default_factory=lambda: DEFAULT_APPS_DIR)
    pool_size: int = 1
    cull_idle_s: int = 900
    ip: str = "127.0.0.1"
    public: bool = False
    sign_in_url: str = ""
    base_url: str = "/"
    behind_hub: bool = False

    @property
    def mode(self) -> Mode:
        """``hub``, ``public`` (explicit, or any non-loopback interface) or ``local``."""
        if self.behind_hub:
            return "hub"
        if self.public or not is_loopback(self.ip):
            return "public"
        return "local"

    def check(self) -> None:
        """Raise a :class:`ConfigError` (in French, saying how to fix) for unusable options."""
        if not (1 <= self.port <= 65535):
            raise ConfigError(f"Port invalide : {self.port}. Choisissez un nombre entre 1024 et 65535, par ex. --port 8866.")
        if self.pool_size < 0:
            raise ConfigError(f"--pool-size doit être positif ou nul (reçu {self.pool_size}).")
        if self.cull_idle_s < 0:
            raise ConfigError(f"--cull-idle doit être positif ou nul (reçu {self.cull_idle_s}).")
        apps = Path(self.apps_dir)
        if not (apps / "gallery.yaml").is_file():
            raise ConfigError(
                f"Dossier d'applications introuvable ou incomplet : « {apps} » (pas de gallery.yaml). "
                "Lancez la commande depuis le dépôt planeco ou passez --apps-dir DOSSIER."
            )


Mode = Literal["local", "public", "hub"]
MODES: tuple[str, ...] = ("local", "public", "hub")


def is_loopback(ip: str) -> bool:
    """True for an interface only this machine can reach (``127.0.0.1``, ``::1``, ``localhost``)."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def port_is_free(port: int, ip: str = "127.0.0.1") -> bool:
    """True if nothing listens on ``ip:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def check_bundle(data_dir: Path | None = None) -> Path:
    """Return the data bundle directory, or raise a :class:`BundleError` saying how to build it."""
    d = data_dir or config.data_dir()
    if not (d / "manifest.json").is_file():
        raise BundleError(
            f"Aucun paquet de données dans « {d} ». Construisez-le avec `make data` "
            "(ou `planeco data build`), ou indiquez-en un avec PLANECO_DATA_DIR."
        )
    return d


def voila_argv(opts: ServeOptions) -> list[str]:
    """The Voilà command-line arguments for ``opts`` (also usable with the ``voila`` command)."""
    argv = [
        str(Path(opts.apps_dir).resolve()),
        f"--port={opts.port}",
        f"--Voila.ip={opts.ip}",
        "--Voila.port_retries=0",
        "--Voila.open_browser=" + str(bool(opts.open_browser)),
        f"--Voila.base_url={opts.base_url}",
        f"--template={TEMPLATE_NAME}",
        "--theme=light",
        "--strip_sources=True",
        "--show_tracebacks=False",
        # Only images may be fetched from the apps folder (thumbnails); never notebooks or data.
        "--VoilaConfiguration.file_allowlist=.*\\.(png|svg|jpg|webp)$",
        f"--MappingKernelManager.cull_idle_timeout={opts.cull_idle_s}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=False",
    ]
    argv += [f"--VoilaConfiguration.extension_allowlist={e}" for e in FRONTEND_EXTENSIONS]
    if opts.pool_size > 0:
        argv += ["--preheat_kernel=True", f"--pool_size={opts.pool_size}"]
    return argv


def kernel_environment(opts: ServeOptions | None = None) -> dict[str, str]:
    """Environment variables set for the server and inherited by app kernels.

    ``PLANECO_SERVE_MODE`` and ``PLANECO_SIGN_IN_URL`` tell the apps who they serve (see
    :func:`serving_context`); in ``public`` mode no local identity is passed on.
    """
    opts = opts or ServeOptions()
    env = {
        "JUPYTER_PATH": os.pathsep.join(p for p in (str(SHARE_DIR), os.environ.get("JUPYTER_PATH", "")) if p),
        # The kernels must import this checkout's planeco_kernel, whatever the current directory.
        "PYTHONPATH": os.pathsep.join(p for p in (str(config.PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "PLANECO_DATA_DIR": str(config.data_dir()),
        "PLANECO_SERVE_MODE": opts.mode,
        "PLANECO_SIGN_IN_URL": opts.sign_in_url,
    }
    return env


@dataclass(frozen=True)
class ServingContext:
    """What an app kernel knows about the server that started it.

    Attributes
    ----------
    mode
        ``local``, ``public`` or ``hub`` (see the module docstring); ``local`` outside a server
        (a notebook in JupyterLab).
    sign_in_url
        Where a public visitor signs in to write; empty if the server names none.
    """

    mode: Mode = "local"
    sign_in_url: str = ""

    @property
    def read_only(self) -> bool:
        """True when nobody may write from this server (anonymous public visitors)."""
        return self.mode == "public"

    def sign_in_hint(self) -> str:
        """French sentence telling a public visitor how to write."""
        where = f" sur {self.sign_in_url}" if self.sign_in_url else " sur le JupyterHub de votre territoire"
        return (
            "Galerie publique : vous pouvez lire. Pour publier, répondre ou signaler, connectez-vous"
            f"{where} (compte JupyterHub inscrit par un·e modérateur·rice)."
        )


@lru_cache(maxsize=1)
def serving_context() -> ServingContext:
    """The :class:`ServingContext` of this process, from the environment set by :func:`kernel_environment`.

    Read once per process (a kernel's environment does not change while it runs).
    """
    mode = os.environ.get("PLANECO_SERVE_MODE", "local")
    if mode not in MODES:
        raise ConfigError(f"PLANECO_SERVE_MODE invalide : « {mode} » (attendu : {', '.join(MODES)}).")
    return ServingContext(mode=mode, sign_in_url=os.environ.get("PLANECO_SIGN_IN_URL", ""))  # type: ignore[arg-type]


def make_app(opts: ServeOptions, extra_argv: list[str] | None = None):
    """Build (without starting) the Voilà application serving the gallery.

    ``extra_argv`` adds Voilà options (the hub's identity provider, :mod:`planeco_kernel.hub.singleuser`).

    Returns
    -------
    voila.app.Voila
        A configured Voilà application with the gallery handlers; call ``start()`` to serve.
    """
    opts.check()
    os.environ.update(kernel_environment(opts))
    if opts.mode == "public":
        # Anonymous visitors must never write under the server's own identity.
        for name in ("PLANECO_KB_USER", "JUPYTERHUB_USER"):
            os.environ.pop(name, None)
    from planeco_kernel.apps.gallery import PlanecoVoila

    app = PlanecoVoila()
    app.apps_dir = Path(opts.apps_dir).resolve()
    app.notices = gallery_notices(opts)
    app.initialize(voila_argv(opts) + list(extra_argv or []))
    return app


def gallery_notices(opts: ServeOptions) -> list:
    """The lines the gallery page shows about who is served (see :class:`~planeco_kernel.apps.gallery.GalleryNotice`)."""
    from planeco_kernel.apps.gallery import GalleryNotice

    ctx = ServingContext(mode=opts.mode, sign_in_url=opts.sign_in_url)
    if opts.mode == "public":
        return [GalleryNotice(ctx.sign_in_hint(), link=opts.sign_in_url, link_text="Se connecter" if opts.sign_in_url else "")]
    if opts.mode == "hub":
        user = os.environ.get("JUPYTERHUB_USER", "")
        hub = os.environ.get("JUPYTERHUB_BASE_URL", "/")
        return [GalleryNotice(f"Connecté·e au hub en tant que « {user} ».", link=f"{hub.rstrip('/')}/hub/logout",
                              link_text="Se déconnecter")]
    from planeco_kernel.hub.local_kb import local_notice

    return [n for n in [local_notice()] if n is not None]


def serve(opts: ServeOptions) -> None:
    """Serve the gallery until interrupted (Ctrl+C).

    Raises
    ------
    BundleError
        If there is no data bundle (``make data`` builds it).
    ConfigError
        If an option is invalid or the port is taken.
    """
    check_bundle()
    if opts.port and not port_is_free(opts.port, opts.ip):
        raise ConfigError(
            f"Le port {opts.port} est déjà utilisé. Arrêtez l'autre serveur ou choisissez-en un autre : "
            f"planeco serve --port {opts.port + 1}"
        )
    app = make_app(opts)
    if opts.mode == "public":
        print("Galerie publique : les visiteurs anonymes lisent ; pour écrire, ils se connectent"
              + (f" sur {opts.sign_in_url}." if opts.sign_in_url else " au JupyterHub (--sign-in-url)."), flush=True)
    print(f"Galerie planeco : http://{opts.ip}:{opts.port}/  (Ctrl+C pour arrêter)", flush=True)
    app.start()
