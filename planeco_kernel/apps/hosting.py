"""Showing an app from a preheated Voilà kernel: load before the visit, read the visit after.

With a pool of preheated kernels (``planeco serve``), an app notebook runs before anyone visits.
:func:`show_when_visited` displays a loading note at once, runs the slow, visitor-independent
set-up then (``preload``: data, models, warm libraries), waits for the visit
(:func:`~planeco_kernel.apps.request.query_string`) and only then builds the app from what the
visit says (identity, query parameters, stored answers). A set-up that fails is reported once the
visitor is there, as one French message rather than a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def show_when_visited(*, css: str, loading: str, unavailable: str,
                      preload: Callable[[], None], build: Callable[[], T]) -> T | None:
    """Display the app built by ``build`` once the visitor arrives; ``None`` with ``unavailable`` if it cannot start.

    ``css`` is the app's class prefix (the host gets ``{css}-host``, the message ``{css}-app`` and
    ``{css}-missing``); ``loading`` the note shown while kernels prepare; ``preload`` the set-up that
    does not depend on the visitor (its :class:`~planeco_kernel.errors.PlanecoError` is left for
    ``build`` to raise again and explain).
    """
    import ipywidgets as W
    from IPython.display import display

    from planeco_kernel.apps import engagement_html as H
    from planeco_kernel.apps.request import query_string
    from planeco_kernel.errors import PlanecoError

    host = W.VBox([W.HTML(H.snippet("<p>{{ text }}</p>", text=loading))])
    host.add_class(f"{css}-host")
    display(host)
    try:
        preload()
    except PlanecoError:
        pass  # reported below, once the visitor is there
    query_string()  # preheated kernel: wait for the visitor before reading anything about them
    try:
        app = build()
    except PlanecoError as exc:
        box = W.HTML(H.render_message("error", unavailable, [str(exc)]))
        box.add_class(f"{css}-app")
        box.add_class(f"{css}-missing")
        host.children = [box]
        return None
    host.children = [app.widget]  # type: ignore[attr-defined]
    return app
