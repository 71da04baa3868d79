"""The hub's knowledge-base service: the one writer of the shared knowledge base, as the hub says who asks.

Behind JupyterHub, a person's kernel runs with an environment that person controls: anything
read from it (``JUPYTERHUB_USER``) can be changed in a notebook cell. So no user's server
writes the shared knowledge base: every write (post, reply, edit, flag, hide, restore, member
registry, documents) is a request to this service, a JupyterHub-managed service
(``c.JupyterHub.services``, started and stopped by the hub, see :func:`service_spec`).

Each request carries the API token the hub gave the user's server (``Authorization: token
$JUPYTERHUB_API_TOKEN``). The service asks the hub who owns it (``GET /hub/api/user`` with that
token, through :class:`jupyterhub.services.auth.HubAuth`) and acts as that hub user — matched to
the member registry's ``hub_user`` exactly as before (:func:`~planeco_kernel.knowledge.identity.
member_for_hub_user`), with the façade's rules unchanged (neutrality, moderation, ownership of
documents). A name in the request body is never believed: the body may only ask to act
``on_behalf_of`` a member, which the façade grants to moderators (and records as ``acted_by``).
The token must carry the scope ``access:services!service=planeco-kb``, which the hub
configuration grants every user and their servers' tokens (:func:`roles`).

API (JSON, under the service's prefix ``/services/planeco-kb/``):

- ``POST api/<operation>`` with the façade method's parameters (``start_thread``, ``reply``,
  ``edit``, ``flag``, ``hide``, ``restore``, ``add_member``, ``save_documents``): ``{"result": …}``,
  or ``{"error": "<KnowledgeError subclass>", "message": "<French>"}`` with 400/403/404/503;
- ``GET api/whoami``: the member the hub says the token's owner is;
- 401 without a token, 403 for a token the hub does not know or that lacks the scope.

Signed commits (:mod:`~planeco_kernel.knowledge.signing`): at first start the service makes its
own SSH key (``ssh-keygen -t ed25519 -N ""``) in its state directory (``PLANECO_KB_SERVICE_STATE``,
set by the hub configuration, outside the repository); once a moderator has registered its
public key as the base's ``service_key`` (``planeco kb settings --service-key …``, printed at
start while it is not), it signs every commit with it and names the hub user whose token it
checked in a ``Planeco-Hub-User:`` trailer, which makes the commit legitimate for that user.

Run by the hub as ``python -m planeco_kernel.hub.kb_service`` (``PLANECO_KB``,
``PLANECO_KB_SERVICE_STATE`` and the ``JUPYTERHUB_*`` variables the hub gives its services).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubAuth
from tornado import web

from planeco_kernel.knowledge import identity, remote, signing
from planeco_kernel.knowledge.errors import (
    InvalidInputError,
    KnowledgeError,
    LockTimeoutError,
    NotFoundError,
    PermissionDeniedError,
)
from planeco_kernel.knowledge.kb import KnowledgeBase
from planeco_kernel.knowledge.model import Member

SERVICE_NAME = "planeco-kb"
STATE_VARIABLE = "PLANECO_KB_SERVICE_STATE"
ACCESS_SCOPE = f"access:services!service={SERVICE_NAME}"


def status_for(exc: KnowledgeError) -> int:
    """HTTP status of a refusal (a neutrality refusal is a permission refusal)."""
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, LockTimeoutError):
        return 503
    return 400


class Writer:
    """The shared knowledge base, written as the hub user of each request."""

    def __init__(self, kb_dir: str | os.PathLike | None, state_dir: str | os.PathLike | None = None):
        self.kb = KnowledgeBase(kb_dir)
        self.kb._service = None  # this *is* the service: commit here
        key = signing.generate_key(Path(state_dir) if state_dir else default_state_dir())
        self.kb.service_key_file = str(key)
        self.public_key = signing.read_public_key(key)

    def key_note(self) -> str:
        """What to tell the hub's log about the service's signing key."""
        if self.kb.signature_settings().get("service_key") == self.public_key:
            return f"Clé de signature du service : {signing.fingerprint(self.public_key)} (enregistrée ; commits signés)."
        return ("Clé de signature du service non enregistrée dans la base : ses commits ne sont pas signés (refusés si la "
                "base exige des signatures). Un·e modérateur·rice l'enregistre avec : planeco kb settings --service-key "
                f"'{self.public_key}'")  # fmt: skip

    def session(self, hub_name: str) -> Member:
        """The member of hub user ``hub_name``; a hub user who is not a member may not write."""
        with identity.hub_session(hub_name):
            try:
                return self.kb.identity()
            except NotFoundError as exc:
                raise PermissionDeniedError(str(exc)) from None

    def perform(self, hub_name: str, operation: str, params: dict[str, Any]) -> Any:
        """Run the façade's ``operation`` as ``hub_name``; return its result as JSON-ready data.

        The acting member is the hub user's; ``params["on_behalf_of"]`` (a member id) asks to act
        for someone else, which the façade allows moderators only. Any ``author``/``actor`` in
        ``params`` is ignored.
        """
        if operation not in remote.OPERATIONS:
            raise NotFoundError(f"Opération inconnue « {operation} » : {', '.join(sorted(remote.OPERATIONS))}.")
        me = self.session(hub_name)
        who = remote.OPERATIONS[operation]
        method = getattr(self.kb, operation)
        kwargs: dict[str, Any] = {}
        for name in inspect.signature(method).parameters:
            if name == who:
                kwargs[name] = str(params.get("on_behalf_of") or me.id)
            elif name in params:
                kwargs[name] = params[name]
        if operation == "add_member":
            kwargs["member"] = _member(kwargs.get("member"))
        with identity.hub_session(hub_name):
            try:
                result = method(**kwargs)
            except TypeError as exc:  # a missing or malformed parameter (the façade validates the rest)
                raise InvalidInputError(f"Requête incomplète pour « {operation} » : {exc}.") from None
        return asdict(result) if is_dataclass(result) and not isinstance(result, type) else result


def _member(d: Any) -> Member:
    if not isinstance(d, dict):
        raise InvalidInputError("add_member : la fiche de membre (« member ») doit être un objet.")
    try:
        return Member(**d)
    except TypeError as exc:
        raise InvalidInputError(f"add_member : fiche de membre invalide ({exc}).") from None


class _Refused(Exception):
    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class _Handler(web.RequestHandler):
    """Token-authenticated JSON handler (no cookies, so no cross-site forgery to guard against)."""

    @property
    def hub_auth(self) -> HubAuth:
        return self.settings["hub_auth"]

    @property
    def writer(self) -> Writer:
        return self.settings["planeco_writer"]

    async def hub_user(self) -> str:
        """The hub user owning the request's token (asked to the hub)."""
        if not self.hub_auth.get_token(self, in_cookie=False):
            raise _Refused(401, "PermissionDeniedError",
                           "Jeton JupyterHub manquant : le service d'écriture de la base d'échanges n'accepte que les "
                           "requêtes des serveurs du hub (en-tête « Authorization: token … »).")  # fmt: skip
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            raise _Refused(403, "PermissionDeniedError",
                           "Le hub ne reconnaît pas ce jeton : reconnectez-vous au hub et rouvrez votre serveur planeco.")
        if model.get("kind", "user") != "user" or not self.hub_auth.check_scopes({ACCESS_SCOPE}, model):
            raise _Refused(403, "PermissionDeniedError",
                           f"Ce jeton n'a pas accès au service « {SERVICE_NAME} » (permission {ACCESS_SCOPE}) : seuls les "
                           "serveurs des utilisateur·rices du hub écrivent dans la base d'échanges.")  # fmt: skip
        return str(model["name"])

    def refuse(self, status: int, kind: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": kind, "message": message}, ensure_ascii=False))

    def answer(self, result: Any) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"result": result}, ensure_ascii=False))

    async def run(self, action) -> None:
        try:
            self.answer(action(await self.hub_user()))
        except _Refused as r:
            self.refuse(r.status, r.kind, r.message)
        except KnowledgeError as exc:
            self.refuse(status_for(exc), type(exc).__name__, str(exc))


class OperationHandler(_Handler):
    async def post(self, operation: str) -> None:
        try:
            params = json.loads(self.request.body or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            self.refuse(400, "InvalidInputError", "Requête illisible : le corps doit être un objet JSON.")
            return
        await self.run(lambda name: self.writer.perform(name, operation, params))


class WhoamiHandler(_Handler):
    async def get(self) -> None:
        await self.run(lambda name: asdict(self.writer.session(name)))


class HealthHandler(web.RequestHandler):
    def get(self) -> None:
        self.finish({"service": SERVICE_NAME})


def default_state_dir() -> Path:
    """``PLANECO_KB_SERVICE_STATE``, else ``<user state dir>/planeco/kb-service`` (holds the service's private key)."""
    import platformdirs

    env = os.environ.get(STATE_VARIABLE, "").strip()
    return Path(env).expanduser() if env else Path(platformdirs.user_state_dir("planeco")) / "kb-service"


def make_app(kb_dir: str | os.PathLike | None, *, prefix: str = f"/services/{SERVICE_NAME}/",
             hub_auth: HubAuth | None = None, state_dir: str | os.PathLike | None = None) -> web.Application:  # fmt: skip
    """The tornado application (``hub_auth`` defaults to one configured from the hub's ``JUPYTERHUB_*`` variables)."""
    prefix = "/" + prefix.strip("/") + "/"
    auth = hub_auth or HubAuth(allow_token_in_url=False, access_scopes={ACCESS_SCOPE})
    return web.Application([
        (prefix + r"api/whoami", WhoamiHandler),
        (prefix + r"api/([a-z_]+)", OperationHandler),
        (prefix, HealthHandler),
    ], hub_auth=auth, planeco_writer=Writer(kb_dir, state_dir))  # fmt: skip


def service_spec(kb_dir: Path, port: int, environment: dict[str, str]) -> dict[str, Any]:
    """The entry of ``c.JupyterHub.services`` that makes the hub start and stop this service."""
    env = {k: v for k, v in environment.items() if k != remote.SERVICE_VARIABLE}
    env["PLANECO_KB"] = str(kb_dir)
    return {"name": SERVICE_NAME, "url": f"http://127.0.0.1:{port}", "display": False,
            "command": [sys.executable, "-m", "planeco_kernel.hub.kb_service"], "environment": env}  # fmt: skip


def client_url(port: int) -> str:
    """What users' servers get in ``PLANECO_KB_SERVICE_URL`` (straight to the service, on loopback)."""
    return f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/"


def roles() -> list[dict[str, Any]]:
    """``c.JupyterHub.load_roles`` entries: every user, and so their servers' tokens, may call the service."""
    return [{"name": "user", "scopes": ["self", ACCESS_SCOPE]}]


SERVER_TOKEN_SCOPES = ["users:activity!user", "access:servers!server", ACCESS_SCOPE]
"""``c.Spawner.server_token_scopes``: JupyterHub's ``server`` role, plus calling this service."""


def main() -> int:
    """Serve until the hub stops the service (SIGTERM); one log line per request on stderr (the hub's log)."""
    import asyncio
    import logging

    logging.basicConfig(level=logging.INFO, format="[planeco-kb %(asctime)s] %(message)s")

    url = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", ""))
    if not url.port or not os.environ.get("JUPYTERHUB_API_TOKEN"):
        print("Erreur : ce service se lance depuis JupyterHub (make hub) : JUPYTERHUB_SERVICE_URL et "
              "JUPYTERHUB_API_TOKEN manquent.", file=sys.stderr)  # fmt: skip
        return 2
    try:
        app = make_app(os.environ.get("PLANECO_KB") or None,
                       prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or f"/services/{SERVICE_NAME}/")
    except KnowledgeError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2

    async def serve() -> None:
        app.listen(url.port, address=url.hostname or "127.0.0.1")
        print(f"Service {SERVICE_NAME} : {url.geturl()} (base {app.settings['planeco_writer'].kb.root})", flush=True)
        print(app.settings["planeco_writer"].key_note(), flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
