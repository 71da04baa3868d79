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

Voilà is imported lazily, inside :func:`serve`, so that ``planeco --help`` stays instant.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

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
    """

    port: int = 8866
    open_browser: bool = True
    apps_dir: Path = field(default_factory=lambda: DEFAULT_APPS_DIR)
    pool_size: int = 1
    cull_idle_s: int = 900
    ip: str = "127.0.0.1"

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


def kernel_environment() -> dict[str, str]:
    """Environment variables set for the server and inherited by app kernels."""
    env = {
        "JUPYTER_PATH": os.pathsep.join(p for p in (str(SHARE_DIR), os.environ.get("JUPYTER_PATH", "")) if p),
        # The kernels must import this checkout's planeco_kernel, whatever the current directory.
        "PYTHONPATH": os.pathsep.join(p for p in (str(config.PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "PLANECO_DATA_DIR": str(config.data_dir()),
    }
    return env


def make_app(opts: ServeOptions):
    """Build (without starting) the Voilà application serving the gallery.

    Returns
    -------
    voila.app.Voila
        A configured Voilà application with the gallery handlers; call ``start()`` to serve.
    """
    opts.check()
    os.environ.update(kernel_environment())
    from planeco_kernel.apps.gallery import PlanecoVoila

    app = PlanecoVoila()
    app.apps_dir = Path(opts.apps_dir).resolve()
    app.initialize(voila_argv(opts))
    return app


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
    print(f"Galerie planeco : http://{opts.ip}:{opts.port}/  (Ctrl+C pour arrêter)", flush=True)
    app.start()
