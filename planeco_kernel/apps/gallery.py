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


def render_gallery(entries: list[AppEntry], base_url: str = "/") -> str:
    """The gallery page's HTML for ``entries`` (links relative to ``base_url``)."""
    from planeco_kernel import __version__
    from planeco_kernel.apps import templates

    return templates.render("gallery.html", apps=entries, base_url=base_url, version=__version__)


def _make_voila_class():
    """Build the Voilà subclass lazily (importing Voilà costs about a second)."""
    import tornado.web
    from voila.app import Voila

    class GalleryHandler(tornado.web.RequestHandler):
        """Serves the gallery page (``GET /``)."""

        def initialize(self, html: str) -> None:
            self._html = html

        def get(self) -> None:
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-cache")
            self.finish(self._html)

    class PlanecoVoila(Voila):
        """Voilà serving the apps directory, with the planeco gallery page at the root URL."""

        apps_dir: Path | None = None

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

        def init_handlers(self) -> list:
            from jupyter_server.utils import url_path_join

            entries = load_gallery(self.apps_dir or Path(self.root_dir))
            html = render_gallery(entries, base_url=self.base_url)
            handlers = super().init_handlers()
            # Tornado takes the first matching rule: ours for the root URL wins over Voilà's tree,
            # and Voilà's plain file listing (/voila/tree) sends visitors to the gallery.
            return [(self.server_url, GalleryHandler, {"html": html}),
                    (url_path_join(self.server_url, "index.html"), GalleryHandler, {"html": html}),
                    (url_path_join(self.server_url, r"/voila/tree.*"), tornado.web.RedirectHandler,
                     {"url": self.server_url})] + handlers

    return PlanecoVoila


def __getattr__(name: str):
    if name == "PlanecoVoila":
        cls = _make_voila_class()
        globals()["PlanecoVoila"] = cls
        return cls
    raise AttributeError(name)
