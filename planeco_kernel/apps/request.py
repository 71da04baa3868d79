"""What a Voilà app knows about the browser request that opened it (the query string).

Voilà puts the request's query string in the kernel's ``QUERY_STRING`` environment variable.
With preheated kernels the notebook starts running *before* anyone asks for it, so the value
only exists once a visitor arrives: :func:`query_params` then waits for the visit (Voilà's
``wait_for_request``), after :func:`settle_before_visit`. Call it after the slow set-up (imports,
data loading) so that the visitor does not wait for that.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from planeco_kernel.territory import Territory

TERRITORY_PARAM = "territoire"
"""The query parameter that designates the territory an app opens (``?territoire=42218``)."""


def deep_link_value(t: Territory) -> str:
    """The ``?territoire=`` value that designates ``t`` unambiguously.

    The code alone for communes, EPCI and départements (what users type); the ``level:code`` key
    for régions (``84`` is also a département) and SCoT (an EPCI may carry its own SCoT, same SIREN).
    """
    return t.code if t.level in ("commune", "epci", "departement") else t.key


def query_string() -> str:
    """The raw query string of the request that opened the app (``""`` outside Voilà).

    In a preheated Voilà kernel this blocks until a visitor opens the app.
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "True":
        from voila.utils import wait_for_request

        settle_before_visit()
        wait_for_request()
    return os.environ.get("QUERY_STRING", "")


def settle_before_visit() -> None:
    """Collect the set-up's garbage, then freeze what survives (``gc.freeze``), before a preheated kernel waits.

    The set-up leaves hundreds of thousands of long-lived objects (territories, contours, caches): the
    first full collection after the visit started walked them all, ~0.15 s of the Comparateur's
    deep link. Frozen, they are never walked again; they live as long as the kernel anyway.
    """
    import gc

    gc.collect()
    gc.freeze()


def parse_query(qs: str) -> dict[str, str]:
    """Parse a query string into a flat dict (first value of each key, blanks dropped).

    >>> parse_query("territoire=42218&x=")
    {'territoire': '42218'}
    """
    return {k: v[0].strip() for k, v in parse_qs(qs.lstrip("?"), keep_blank_values=False).items() if v and v[0].strip()}


def query_params() -> dict[str, str]:
    """The request's query parameters (see :func:`query_string`)."""
    return parse_query(query_string())


def display_then_apply(app, apply, query: dict[str, str] | None = None):
    """Display ``app.widget`` at once, then hand the page's query parameters to ``apply``.

    ``query`` defaults to :func:`query_params`, which waits for the visitor when the kernel is
    preheated: the app is built (data loaded, indexes warmed) before anyone arrives, and only the
    deep link's state is applied on arrival. Returns ``app``.

    When the query comes from a preheated kernel's visitor, ``apply`` runs just after the cell
    (:func:`after_cell`): Voilà ends the page as soon as the cell is done, so the browser loads and
    starts the front end while the kernel computes the deep link's figures; the front end, once
    connected, receives the widgets' state as the computation left it.
    """
    from IPython.display import display

    display(app.widget)
    if query is None:
        query = query_params()
        if query:
            after_cell(apply, query)
        return app
    if query:
        apply(query)
    return app


def after_cell(fn, *args) -> None:
    """Call ``fn(*args)`` once the running cell is over, from the kernel's event loop (at once
    outside a kernel). An exception is logged (``planeco`` logger, the kernel's log), not lost."""
    import asyncio
    import logging

    def run() -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - nobody else would see it: the cell is over
            logging.getLogger("planeco").exception("planeco: applying the page's parameters failed")

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop running (a script, a test): no cell to wait for
        fn(*args)
        return
    loop.call_soon(run)
