"""Writing through the hub's knowledge-base service: the client side, used by the façade.

Behind JupyterHub every write of the shared knowledge base (post, reply, edit, flag, hide,
restore, member registry, documents) is performed by one JupyterHub-managed service,
:mod:`planeco_kernel.hub.kb_service`, as the hub user who owns the request's API token. A user's
server gets the service's address in ``PLANECO_KB_SERVICE_URL`` (set by the hub configuration);
when it is set, the write methods of :class:`~planeco_kernel.knowledge.kb.KnowledgeBase`
decorated with :func:`through_service` send their arguments to the service instead of
committing, with ``Authorization: token $JUPYTERHUB_API_TOKEN`` (the token the hub gave this
server, which identifies its owner to the hub). Reads stay local.

The member a method names (``author``/``actor``) is sent as ``on_behalf_of``: the service acts as
the token's owner, and only lets a moderator act on behalf of someone else (the same rule as
:func:`~planeco_kernel.knowledge.identity.acting`). Errors come back as the same French
:class:`~planeco_kernel.knowledge.errors.KnowledgeError` subclasses a local write raises.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from planeco_kernel.knowledge import errors
from planeco_kernel.knowledge.model import Member, Post

SERVICE_VARIABLE = "PLANECO_KB_SERVICE_URL"
"""The service's base URL in a user's server (``http://127.0.0.1:8082/services/planeco-kb/``)."""
TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"

OPERATIONS: dict[str, str] = {
    "add_member": "actor", "start_thread": "author", "reply": "author", "edit": "author",
    "flag": "actor", "hide": "actor", "restore": "actor", "save_documents": "author",
    "set_signing_key": "actor", "configure": "actor",
}  # fmt: skip
"""The writes the service performs, each with the parameter that names the acting member."""

RESULTS: dict[str, Callable[[Any], Any]] = {
    "add_member": lambda d: Member(**d), "start_thread": lambda d: Post(**d), "reply": lambda d: Post(**d),
    "set_signing_key": lambda d: Member(**d),
}  # fmt: skip
"""How an operation's JSON result becomes the value the façade returns (others return a string)."""

ERRORS: dict[str, type[errors.KnowledgeError]] = {
    cls.__name__: cls for cls in (errors.KnowledgeError, errors.InvalidInputError, errors.NeutralityError,
                                  errors.NotFoundError, errors.PermissionDeniedError, errors.LockTimeoutError,
                                  errors.KBNotFoundError)
}  # fmt: skip
"""Error classes the service may name in its answers (anything else is a plain KnowledgeError)."""

F = TypeVar("F", bound=Callable[..., Any])


def _json_default(o: Any) -> Any:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if isinstance(o, (set, frozenset, tuple)) or hasattr(o, "__iter__"):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def encode(params: dict[str, Any]) -> bytes:
    """The JSON body of one request (dataclasses as dicts, iterables as lists)."""
    return json.dumps(params, default=_json_default, ensure_ascii=False).encode("utf-8")


class ServiceClient:
    """Calls the knowledge-base service at ``url`` with this server's hub API token."""

    def __init__(self, url: str, timeout_s: float = 60.0):
        self.url = url.rstrip("/") + "/"
        self.timeout_s = timeout_s

    def call(self, operation: str, params: dict[str, Any]) -> Any:
        """Perform ``operation`` with the façade's ``params``; return what the façade method returns.

        Raises
        ------
        KnowledgeError
            The service's refusal (same class and French message as a local write), or why the
            service could not be reached.
        """
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token:
            raise errors.PermissionDeniedError(
                "Écriture impossible : ce serveur n'a pas de jeton JupyterHub (JUPYTERHUB_API_TOKEN). "
                "Ouvrez planeco depuis le hub, qui donne ce jeton à votre serveur.")
        params = dict(params)
        params["on_behalf_of"] = params.pop(OPERATIONS[operation], None)
        req = urllib.request.Request(f"{self.url}api/{operation}", data=encode(params), method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                answer = json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None
        except (OSError, ValueError) as exc:
            raise errors.KnowledgeError(
                f"Le service d'écriture de la base d'échanges ne répond pas ({self.url}) : {exc}. Réessayez dans "
                "un instant ; si cela dure, prévenez l'administrateur·rice du hub.") from None
        result = answer.get("result")
        return RESULTS[operation](result) if operation in RESULTS else result


def _error(exc: urllib.error.HTTPError) -> errors.KnowledgeError:
    try:
        d = json.loads(exc.read().decode("utf-8"))
        cls, message = ERRORS.get(str(d.get("error")), errors.KnowledgeError), str(d["message"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        cls, message = errors.KnowledgeError, f"Le service d'écriture de la base d'échanges a répondu {exc.code} ({exc.reason})."
    return cls(message)


def client_from_environment() -> ServiceClient | None:
    """The client of ``PLANECO_KB_SERVICE_URL``, None when writes are local."""
    url = os.environ.get(SERVICE_VARIABLE, "").strip()
    return ServiceClient(url) if url else None


def through_service(method: F) -> F:
    """Make a façade write go to the service when the knowledge base has one (``self._service``)."""
    name = method.__name__
    if name not in OPERATIONS:
        raise ValueError(f"{name} is not a service operation")
    signature = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        client = getattr(self, "_service", None)
        if client is None:
            return method(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop("self")
        return client.call(name, params)

    return wrapper  # type: ignore[return-value]
