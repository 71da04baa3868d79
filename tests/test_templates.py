"""The shared template folder (planeco_kernel/apps/templates): rendering and escaping."""

from __future__ import annotations

import jinja2
import pytest

from planeco_kernel.apps import templates

HOSTILE = "Saint-<script>alert('x')</script> & \"Cie\""


def test_html_values_are_escaped():
    html = templates.macro("common.html", "message", HOSTILE, kind="alert")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&#39;x&#39;" in html
    assert html.startswith("<div class='planeco-alert' role='alert'>")


def test_safe_markup_is_kept():
    inner = templates.macro("common.html", "h2", "Titre <i>")
    html = templates.macro("common.html", "message", templates.safe(inner))
    assert "<h2 class='planeco-h2'>Titre &lt;i&gt;</h2>" in html


@pytest.mark.parametrize("text, expected", [
    ("Lyon", "Lyon"),
    ("L'Isle-d'Abeau", "L'Isle-d'Abeau"),
    ("<b>x</b>", "\\<b\\>x\\</b\\>"),
    ("*gras* _it_ [lien](http://x)", "\\*gras\\* \\_it\\_ \\[lien\\](http://x)"),
    ("5 $ & `code`", "5 \\$ \\& \\`code\\`"),
    (None, ""),
])
def test_markdown_escape(text, expected):
    assert templates.markdown_escape(text) == expected


def test_markdown_escape_renders_as_text():
    from markdown_it import MarkdownIt

    out = MarkdownIt().render(templates.markdown_escape("<img src=x onerror=alert(1)> *a* [b](c)"))
    assert "<img" not in out and "<em>" not in out and "<a " not in out
    assert "&lt;img src=x onerror=alert(1)&gt; *a* [b](c)" in out


def test_unknown_macro_and_undefined_variable_fail():
    with pytest.raises(AttributeError, match="no macro"):
        templates.macro("common.html", "nope")
    env = templates.environment()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing.attr }}").render()


def test_gallery_renders_through_the_shared_environment():
    from planeco_kernel.apps.gallery import AppEntry, render_gallery

    html = render_gallery([AppEntry("a.ipynb", HOSTILE, "d", "t.png")], base_url="/")
    assert "<script>" not in html and "Saint-&lt;script&gt;" in html
