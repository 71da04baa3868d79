"""The one folder of planeco's HTML and Markdown templates, and how to render them.

Every piece of HTML an app or a report shows is a Jinja template of this folder, rendered with
autoescape on: a value (territory name, indicator label, query parameter, error message) can never
become markup. Markdown templates (``*.md``, the reports' prose) are rendered by a twin
environment whose every ``{{ value }}`` is Markdown-escaped (HTML and Markdown punctuation
backslash-escaped), so a hostile name shows as text there too.

Use from new code::

    from planeco_kernel.apps import templates

    templates.render("gallery.html", apps=entries, base_url="/", version="0.1.0")
    templates.macro("common.html", "message", "Texte « libre » <b>échappé</b>", kind="note")

:func:`render` renders a whole template; :func:`macro` calls one ``{% macro %}`` of a template
file (fragments of one app live together in one file: ``comparateur.html``, ``fiche.html``...).
Values known to be safe markup (a fragment already rendered here) are passed wrapped in
:func:`safe`; never wrap text that comes from data or from a visitor.

Notes
-----
Undefined variables raise (``StrictUndefined``): a misspelt name in a template fails its test
instead of rendering as an empty string.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent
"""This folder: the templates of the apps (``*.html``) and reports (``*.md``, ``*.html``)."""

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>&|~$#!])")


def markdown_escape(value: Any) -> str:
    """``value`` as Markdown text that renders literally (no HTML, no emphasis, links or math).

    Markup already rendered by :func:`render` or wrapped in :func:`safe` is returned as is.

    >>> markdown_escape("Saint-Denis <b>*A*</b> & 5 $")
    'Saint-Denis \\\\<b\\\\>\\\\*A\\\\*\\\\</b\\\\> \\\\& 5 \\\\$'
    """
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return str(value)
    return _MD_SPECIAL.sub(r"\\\1", str(value))


@functools.cache
def environment():
    """The Jinja environment for HTML templates of this folder (autoescape on for ``.html``)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
    )


@functools.cache
def markdown_environment():
    """The Jinja environment for Markdown templates (``*.md``): every value Markdown-escaped."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,
        finalize=markdown_escape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def _env_for(name: str):
    return markdown_environment() if name.endswith(".md") else environment()


def render(name: str, **context: Any) -> str:
    """Render template ``name`` of this folder with ``context``.

    ``*.html`` templates are HTML-escaped, ``*.md`` templates Markdown-escaped.
    """
    return str(_env_for(name).get_template(name).render(**context))


def macro(name: str, macro_name: str, *args: Any, **kwargs: Any) -> str:
    """Call ``{% macro macro_name %}`` of template ``name`` and return its output.

    Raises
    ------
    AttributeError
        If the template has no such macro.
    """
    module = _env_for(name).get_template(name).module
    fn = getattr(module, macro_name, None)
    if fn is None:
        raise AttributeError(f"template {name!r} has no macro {macro_name!r}")
    return str(fn(*args, **kwargs)).strip()


def safe(markup: str):
    """Mark ``markup`` (a fragment already rendered by this module) as safe to insert unescaped."""
    from markupsafe import Markup

    return Markup(markup)

