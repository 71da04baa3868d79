"""What the steps of the COP app share: the ``cop.html`` macros and the SGPE notice box."""

from __future__ import annotations

import ipywidgets as W

from planeco_kernel.apps import templates
from planeco_kernel.trajectories.levers import NOTICE, SOURCE_LABEL


def _m(name: str, *args, **kw) -> str:
    return templates.macro("cop.html", name, *args, **kw)


def _notice() -> W.HTML:
    h = W.HTML(_m("notice", NOTICE, SOURCE_LABEL))
    h.add_class("cop-notice-box")
    return h
