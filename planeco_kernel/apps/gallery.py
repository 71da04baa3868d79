"""The gallery page of ``planeco serve``: which apps exist, and the page that lists them.

The list lives in ``apps/gallery.yaml`` (title, French description, thumbnail per notebook) and
is validated at start-up, so a missing notebook or thumbnail stops the server with a clear
message instead of showing a broken link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from planeco_kernel.errors import ConfigError

GALLERY_FILE = "gallery.yaml"


@dataclass(frozen=True)
class AppEntry:
    """One app of the gallery.

    Attributes
    ----------
    notebook
        Notebook file name, relative to the apps directory.
    title, description
        French text shown on the gallery card.
    thumbnail
        Image path relative to the apps directory.
    """

    notebook: str
    title: str
    description: str
    thumbnail: str

    @property
    def url(self) -> str:
        """Path of the app under the server root (Voilà's render URL)."""
        return f"voila/render/{self.notebook}"

    @property
    def thumbnail_url(self) -> str:
        """Path of the thumbnail under the server root (Voilà's file handler)."""
        return f"voila/files/{self.thumbnail}"


def load_gallery(apps_dir: Path) -> list[AppEntry]:
    """Read and check ``gallery.yaml`` in ``apps_dir``.

    Raises
    ------
    ConfigError
        If the file is missing or malformed, or names a notebook or thumbnail that does not exist.
    """
    import yaml

    path = Path(apps_dir) / GALLERY_FILE
    if not path.is_file():
        raise ConfigError(f"Fichier de galerie introuvable : « {path} ». Créez-le (voir apps/gallery.yaml du dépôt).")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} : YAML invalide ({exc}). Corrigez la syntaxe du fichier.") from exc
    items = raw.get("apps") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path} : la clé « apps » doit être une liste non vide d'applications.")
    entries: list[AppEntry] = []
    required = ("notebook", "title", "description", "thumbnail")
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"{path}, application n° {i} : attendu un dictionnaire avec {', '.join(required)}.")
        missing = [k for k in required if not str(item.get(k) or "").strip()]
        if missing:
            raise ConfigError(f"{path}, application n° {i} : champs manquants ou vides {missing}.")
        entry = AppEntry(**{k: str(item[k]).strip() for k in required})
        for kind, rel in (("notebook", entry.notebook), ("vignette", entry.thumbnail)):
            target = (Path(apps_dir) / rel).resolve()
            if not target.is_file() or Path(apps_dir).resolve() not in target.parents:
                raise ConfigError(
                    f"{path}, application « {entry.title} » : {kind} introuvable « {rel} » "
                    f"(chemin relatif au dossier {apps_dir})."
                )
        if not entry.notebook.endswith(".ipynb"):
            raise ConfigError(f"{path}, application « {entry.title} » : « {entry.notebook} » n'est pas un notebook .ipynb.")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class GalleryNotice:
    """A line shown above the app cards: who is served, whether the apps are still warming.

    Attributes
    ----------
    text
        French sentence (escaped by the template).
    kind
        ``info`` or ``warming`` (the page then reloads itself every ``refresh_s`` seconds).
    link, link_text
        Optional link (sign in, JupyterLab, sign out).
    """

    text: str
    kind: str = "info"
    link: str = ""
    link_text: str = ""
    refresh_s: int = 0


def render_gallery(entries: list[AppEntry], base_url: str = "/", notices: list[GalleryNotice] | None = None) -> str:
    """The gallery page's HTML for ``entries`` (links relative to ``base_url``)."""
    from planeco_kernel import __version__
    from planeco_kernel.apps import templates

    notices = list(notices or [])
    refresh = max((n.refresh_s for n in notices), default=0)
    return templates.render("gallery.html", apps=entries, base_url=base_url, version=__version__,
                            notices=notices, refresh_s=refresh)


def pools_warm(kernel_manager, notebooks: list[str]) -> bool:
    """True when every app of ``notebooks`` has a preheated kernel ready for a visitor (or preheating is off).

    Ready means the kernel has run the app's notebook as far as it goes before a visit: either to
    the end (the render task is done), or up to the wait for the visitor's request (the kernel
    has opened Voilà's request-info websocket, :func:`planeco_kernel.apps.request.query_params`).
    A kernel merely started is not ready: its imports and data loading are still to come.
    """
    pools = getattr(kernel_manager, "_pools", None)
    if pools is None:  # no preheating: nothing to wait for
        return True
    from voila.request_info_handler import RequestInfoSocketHandler

    waiting = RequestInfoSocketHandler._waiters
    for nb in notebooks:
        ready = False
        for task in pools.get(nb) or []:
            if not task.done() or task.cancelled() or task.exception() is not None:
                continue
            content = task.result()
            if content["kernel_id"] in waiting or content["task"].done():
                ready = True
                break
        if not ready:
            return False
    return True


def _make_voila_class():
    """Build the Voilà subclass lazily (importing Voilà costs about a second)."""
    import tornado.web
    from jupyter_server.base.handlers import JupyterHandler
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    class GalleryHandler(JupyterHandler):
        """Serves the gallery page (``GET /``) to whoever the server's identity provider admits.

        Behind JupyterHub that is the signed-in owner of the server; elsewhere, anyone.
        """

        def initialize(self, app) -> None:
            self._app = app

        @tornado.web.authenticated
        def get(self) -> None:
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-cache")
            self.finish(self._app.gallery_page())

    class AppPageHandler(TornadoVoilaHandler):
        """Voilà's app page, also setting the ``_xsrf`` cookie.

        When a visitor leaves an app, the page's ``beforeunload`` handler posts the cookie's
        token to ``voila/api/shutdown/<kernel>``, but Voilà's page never sets that cookie: the
        post is refused (403, voila-dashboards/voila#1458) and every visitor's kernel (1.5 GB
        for the Comparateur) lives until culled. Reading ``xsrf_token`` sets the cookie before
        the page streams out, so the kernel is shut down when its page is left.
        """

        async def prepare(self) -> None:
            await super().prepare()
            self.xsrf_token  # noqa: B018 — the property sets the cookie

    class PlanecoVoila(Voila):
        """Voilà serving the apps directory, with the planeco gallery page at the root URL."""

        apps_dir: Path | None = None
        notices: list[GalleryNotice] = []
        """Lines shown on the gallery page (who is served), set by :func:`planeco_kernel.serve.make_app`."""
        _entries: list[AppEntry] = []

        def gallery_page(self) -> str:
            """The gallery HTML; while the preheated kernels start, a notice that reloads the page."""
            notices = list(self.notices)
            if self.voila_configuration.preheat_kernel and not pools_warm(
                    self.kernel_manager, [e.notebook for e in self._entries]):
                notices.insert(0, GalleryNotice(
                    "Les applications se préparent (chargement des données) : cette page se recharge "
                    "d'elle-même dans quelques secondes.", kind="warming", refresh_s=2))
            return render_gallery(self._entries, base_url=self.base_url, notices=notices)

        @property
        def data_dir(self) -> str:
            """Voilà's own data folder (themes, settings schemas).

            Voilà takes the first ``voila`` folder on the Jupyter path, which is ours (it only adds the
            planeco template): its theme stylesheet would then answer 404 and the page would show
            « Error Loading Theme ». Take the first folder that really holds the themes instead.
            """
            import os

            from jupyter_core.paths import jupyter_path

            for path in jupyter_path("voila"):
                if os.path.isdir(os.path.join(path, "themes")):
                    return str(Path(path).resolve())
            return super().data_dir

        def init_settings(self) -> dict:
            settings = super().init_settings()
            # One ``_xsrf`` cookie per server (behind the hub, each user's server has its own base URL).
            settings["xsrf_cookie_kwargs"] = {"path": self.base_url}
            return settings

        def init_handlers(self) -> list:
            from jupyter_server.utils import url_path_join

            self._entries = load_gallery(self.apps_dir or Path(self.root_dir))
            handlers = []
            for rule in super().init_handlers():
                # Voilà mounts the identity provider's own pages (JupyterHub's /oauth_callback and
                # /logout) at the server root; they belong under the base URL like every other page.
                if rule[0] in {pattern for pattern, *_ in self.identity_provider.get_handlers()}:
                    rule = (url_path_join(self.server_url, rule[0]), *rule[1:])
                if rule[1] is TornadoVoilaHandler:
                    rule = (rule[0], AppPageHandler, *rule[2:])
                handlers.append(rule)
            # Tornado takes the first matching rule: ours for the root URL wins over Voilà's tree,
            # and Voilà's plain file listing (/voila/tree) sends visitors to the gallery.
            return [(self.server_url, GalleryHandler, {"app": self}),
                    (url_path_join(self.server_url, "index.html"), GalleryHandler, {"app": self}),
                    (url_path_join(self.server_url, r"/voila/tree.*"), tornado.web.RedirectHandler,
                     {"url": self.server_url})] + handlers

    return PlanecoVoila


def __getattr__(name: str):
    if name == "PlanecoVoila":
        cls = _make_voila_class()
        globals()["PlanecoVoila"] = cls
        return cls
    raise AttributeError(name)
