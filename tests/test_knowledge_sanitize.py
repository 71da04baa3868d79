"""Hostile input: Markdown rendering, paths, ids and size limits (corpus in tests/fixtures/hostile)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from planeco_kernel.knowledge import InvalidInputError, KnowledgeBase, Member
from planeco_kernel.knowledge import model
from planeco_kernel.knowledge.render import markdown_to_html, sanitize

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
MARKDOWN = sorted((HOSTILE / "markdown").glob("*.md"))
PATHS = [line for line in (HOSTILE / "paths.txt").read_text("utf-8").splitlines() if line]
IDS = [line for line in (HOSTILE / "ids.txt").read_text("utf-8").splitlines() if line]

SAFE_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip


class _Audit(HTMLParser):
    """Collect every element and attribute a browser would build from the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in SAFE_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                self.problems.append(f"attribute {name}")
            if name in {"href", "src"}:
                # browsers drop tabs/newlines and leading spaces/controls before reading a scheme
                url = re.sub(r"[\t\n\r]", "", value or "").lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 ")
                m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
                if m and m.group(1).lower() not in {"http", "https", "mailto"}:
                    self.problems.append(f"{name}={value!r}")

    handle_startendtag = handle_starttag


def _problems(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems


def test_audit_catches_what_it_must():
    assert _problems('<img src=x onerror="a()"><a href="javascript:x">y</a>') == [
        "tag <img>", "attribute onerror", "href='javascript:x'",
    ]  # fmt: skip


def test_corpus_is_not_empty():
    assert len(MARKDOWN) >= 25 and len(PATHS) >= 10 and len(IDS) >= 5


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.stem)
def test_hostile_markdown_is_neutralised(path):
    html = markdown_to_html(path.read_text("utf-8"))
    assert _problems(html) == [], html


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow ugc">x</a>'),
        ('<p onclick="x()">ok</p>', "<p>ok</p>"),
        ("<script>alert(1)</script>ok", "ok"),
        ('<a href="https://ok.example">x</a>', '<a href="https://ok.example" rel="noopener noreferrer nofollow ugc">x</a>'),
    ],
)
def test_sanitizer_second_layer(fragment, expected):
    assert sanitize(fragment) == expected


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**gras** et *italique*", "<p><strong>gras</strong> et <em>italique</em></p>\n"),
        ("[site](https://www.ecologie.gouv.fr)", 'href="https://www.ecologie.gouv.fr"'),
        ("- a\n- b", "<li>a</li>"),
        ("`code`", "<code>code</code>"),
        ("<b>gras</b>", "&lt;b&gt;gras&lt;/b&gt;"),
    ],
)
def test_ordinary_markdown_still_renders(markdown, expected):
    assert expected in markdown_to_html(markdown)


@pytest.mark.parametrize("path", PATHS)
def test_hostile_notebook_paths_refused(path):
    with pytest.raises(InvalidInputError, match="Chemin de notebook"):
        model.notebook_path(path)


@pytest.mark.parametrize("value", IDS)
def test_hostile_ids_refused(value):
    for check in (model.thread_id, model.record_id):
        with pytest.raises(InvalidInputError, match="invalide"):
            check(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("marie.dupont", True), ("agent-69", True), ("Marie", False), ("../x", False), ("a/b", False), ("-x", False), ("", False)],
)
def test_member_ids(value, ok):
    if ok:
        assert model.member_id(value) == value
    else:
        with pytest.raises(InvalidInputError):
            model.member_id(value)


@pytest.mark.parametrize(
    "anchor",
    ["territory:../../x", "app:a/b", "indicator:", "lever:x y", "nowhere:x", "territory", "notebook:../a.ipynb"],
)
def test_hostile_anchors_refused(anchor):
    with pytest.raises(InvalidInputError):
        model.anchor(anchor)


@pytest.fixture()
def kb(tmp_path) -> KnowledgeBase:
    return KnowledgeBase.init(tmp_path / "kb", Member(id="marie", name="Marie (test)", role="elu", territory="69123"))


def test_size_limits_have_clear_errors(kb):
    with pytest.raises(InvalidInputError, match=r"trop long : 20\u202f001 caractères reçus pour 20\u202f000 au plus"):
        kb.start_thread("marie", kind="discussion", title="t", body="x" * 20_001, anchor="app:zan")
    with pytest.raises(InvalidInputError, match="Le titre est trop long"):
        kb.start_thread("marie", kind="discussion", title="t" * 201, body="x", anchor="app:zan")
    with pytest.raises(InvalidInputError, match="Trop de thèmes"):
        kb.start_thread("marie", kind="discussion", title="t", body="x", anchor="app:zan", themes=[f"t{i}" for i in range(9)])
    with pytest.raises(InvalidInputError, match="Le message est vide"):
        kb.start_thread("marie", kind="discussion", title="t", body=" \n ", anchor="app:zan")
    assert kb.threads("marie") == []


def test_control_characters_and_bidi_are_stripped(kb):
    p = kb.start_thread("marie", kind="discussion", title="a\u202eb\x07c", body="ligne\x1b[31m rouge", anchor="app:zan")
    assert p.title == "abc"
    assert "\x1b" not in p.body


def test_nul_byte_refused(kb):
    with pytest.raises(InvalidInputError, match="caractère nul"):
        kb.start_thread("marie", kind="discussion", title="t", body="a\x00b", anchor="app:zan")


def test_notebook_symlink_escaping_the_kb_is_refused(kb, tmp_path):
    outside = tmp_path / "outside.ipynb"
    outside.write_text("{}")
    (kb.root / "lien.ipynb").symlink_to(outside)
    with pytest.raises(InvalidInputError, match="sort de la base"):
        kb.start_thread("marie", kind="question", title="t", body="x", anchor="notebook:lien.ipynb")


def test_hostile_post_is_stored_verbatim_and_rendered_safely(kb):
    body = (HOSTILE / "markdown" / "img_onerror.md").read_text("utf-8")
    p = kb.start_thread("marie", kind="discussion", title="<script>x</script>", body=body, anchor="app:zan")
    stored = kb.thread(p.thread, "marie").posts[0]
    assert stored.body.strip() == body.strip()
    assert _problems(markdown_to_html(stored.body)) == []
