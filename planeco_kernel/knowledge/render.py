"""Render post Markdown to safe HTML.

Two layers: markdown-it (CommonMark, raw HTML disabled, so ``<script>`` is shown as text and
``javascript:`` links are not produced) and then the nh3 (ammonia) sanitizer with an allow-list
of tags, attributes and URL schemes, so that even a renderer bug cannot let script, event
handlers, ``javascript:``/``data:`` URLs or raw HTML through.
"""

from __future__ import annotations

import html
from functools import lru_cache

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _md():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    return md


def sanitize(fragment: str) -> str:
    """Clean an HTML fragment with nh3 (allow-listed tags/attributes; safe URL schemes only)."""
    import nh3

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def markdown_to_html(text: str) -> str:
    """Render a post's Markdown body to sanitized HTML."""
    return sanitize(_md().render(text))


def escape(text: str) -> str:
    """Escape plain text (titles, names) for HTML."""
    return html.escape(text, quote=True)
