"""One signed-in person's planeco server behind JupyterHub: the gallery and the Voilà apps.

The hub's spawner starts ``python -m planeco_kernel.hub.singleuser`` with the usual JupyterHub
environment (``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_USER``, the
OAuth client of this server). It runs the very same Voilà application as ``planeco serve``
(:func:`planeco_kernel.serve.make_app`: template, preheated kernels, culling, front-end
extensions), with JupyterHub's OAuth identity provider so that only the owner gets in.

Identity: the apps' kernels inherit ``JUPYTERHUB_USER`` and this server's hub API token; code in
a kernel can change the former, so it only decides what is shown. Writes go to the hub's
knowledge-base service (:mod:`planeco_kernel.hub.kb_service`) with the token, and the hub says
whose it is. The server refuses anybody but its owner (even a hub admin allowed to reach other
people's servers would otherwise act with the owner's token).
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

from planeco_kernel.errors import ConfigError, PlanecoError


def _identity_provider_class():
    from jupyterhub.singleuser.extension import JupyterHubIdentityProvider
    from tornado.web import HTTPError

    class OwnerOnlyIdentityProvider(JupyterHubIdentityProvider):
        """JupyterHub OAuth, admitting only the user this server was spawned for."""

        def __init__(self, **kwargs):
            kwargs.pop("token", None)  # Voilà passes one; the hub's API token is used instead
            super().__init__(**kwargs)

        async def get_user(self, handler):
            user = await super().get_user(handler)
            owner = os.environ.get("JUPYTERHUB_USER", "")
            if user is not None and user.username != owner:
                raise HTTPError(403, f"Ce serveur planeco est celui de « {owner} » : ouvrez le vôtre depuis le hub.")
            return user

    return OwnerOnlyIdentityProvider


def options_from_environment(argv: list[str] | None = None):
    """The :class:`~planeco_kernel.serve.ServeOptions` of this server (hub environment + ``argv``).

    Raises
    ------
    ConfigError
        Outside a JupyterHub spawn (no ``JUPYTERHUB_SERVICE_URL``).
    """
    from planeco_kernel.serve import DEFAULT_APPS_DIR, ServeOptions

    parser = argparse.ArgumentParser(prog="python -m planeco_kernel.hub.singleuser")
    parser.add_argument("--pool-size", type=int, default=1)
    parser.add_argument("--cull-idle", type=int, default=900)
    parser.add_argument("--apps-dir", default=str(DEFAULT_APPS_DIR))
    args, _unknown = parser.parse_known_args(argv)  # the spawner may append its own --ip/--port
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if not url or not os.environ.get("JUPYTERHUB_USER"):
        raise ConfigError("Ce serveur se lance depuis JupyterHub (make hub) : JUPYTERHUB_SERVICE_URL et "
                          "JUPYTERHUB_USER manquent.")
    parts = urlsplit(url)
    return ServeOptions(
        port=parts.port or 80, ip=parts.hostname or "127.0.0.1", open_browser=False, apps_dir=args.apps_dir,
        pool_size=args.pool_size, cull_idle_s=args.cull_idle, behind_hub=True,
        base_url=os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/",
    )


def hub_argv() -> list[str]:
    """Voilà options that put the hub's OAuth in front of every page."""
    return [
        "--Voila.identity_provider_class=planeco_kernel.hub.singleuser.OwnerOnlyIdentityProvider",
        "--Voila.authorizer_class=jupyterhub.singleuser.extension.JupyterHubAuthorizer",
    ]


def main(argv: list[str] | None = None) -> int:
    """Serve this user's gallery until the hub stops the server."""
    from planeco_kernel.serve import check_bundle, make_app

    try:
        opts = options_from_environment(argv)
        check_bundle()
        app = make_app(opts, extra_argv=hub_argv())
    except PlanecoError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(f"Galerie planeco de {os.environ['JUPYTERHUB_USER']} : {opts.base_url}", flush=True)
    app.start()
    return 0


def __getattr__(name: str):
    if name == "OwnerOnlyIdentityProvider":
        cls = _identity_provider_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
