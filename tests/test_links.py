"""`repost.links`: the scheme prefilter never hides a disallowed URL, and `disallowed_links` is
`markdown_links` filtered, only cheaper.

Set REPOST_HYPOTHESIS_EXAMPLES (e.g. 20000) for a longer run of the properties.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from repost.frontmatter import clean_text
from repost.links import allowed, disallowed_links, markdown_links, suspicious

EXAMPLES = int(os.environ.get("REPOST_HYPOTHESIS_EXAMPLES", "300"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of a scheme as a browser or markdown-it may read it: entities, escapes, blanks and
# newlines that HTML drops, look-alikes of the allowed schemes.
_PART = ["ftp", "http", "https", "a", ".", "+", "-", "&period;", "\\.", "\t", "\n", "&Tab;", "&NewLine;", "x", "s",
         "mailto", "HTTP", "&fjlig;", " ", "\x0c", "&#58;", "&colon;", "\\:", "&plus;", "1", "java", "script", "&amp;",
         "\u00a0", "\u3000", "\\"]
# Every place a URL can start: inline links and images, angle destinations, autolinks, reference
# definitions, raw HTML attributes (quoted, unquoted, spread over lines), inside containers.
_FORMS = ["[x]({u})", "[x](<{u}>)", "<{u}>", "[r]: {u}\n\n[r]", "[r]:\n{u}\n\n[x][r]", '<a href="{u}">q</a>',
          "<a href={u}>q</a>", "<p>\n<img src='{u}'>\n</p>", "> [x](\n> {u})", "[x](\n {u})", '<a href = " {u}">q</a>',
          '![i]({u} "t")', "- [x]({u})", "| a |\n|---|\n| [x]({u}) |", "**[x]({u})**", "<a\nhref\n=\n{u}>q</a>",
          "[x]( {u} )", "> <a href=\n> '{u}'>q</a>", "[x\n](\n{u})", "> [x\n> ](\n> {u})", "[a\\]]({u})",
          "[r\n]: {u}\n\n[r\n]", "[x]\n({u})", "[x] ({u})"]
_NOISE = st.text(alphabet="ab :()[]<>\n=\"'&;#\\`*", max_size=6)
_BLOCK = st.sampled_from(["", "> ", "- ", "1. ", "    ", "```\n", "\n", "# ", "| a | b |\n|---|---|\n| "])


@st.composite
def _markdown(draw) -> str:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        url = "".join(draw(st.lists(st.sampled_from(_PART), min_size=1, max_size=5)))
        url += draw(st.sampled_from([":x", ":", "://h/p", "&colon;x"]))
        out.append(draw(_BLOCK) + draw(_NOISE) + draw(st.sampled_from(_FORMS)).format(u=url) + draw(_NOISE))
    return clean_text("\n".join(out))  # as check reads a body


def _bad(text: str) -> list:
    return [link for link in markdown_links(text) if not allowed(link.url)]


@PROPS
@given(_markdown())
def test_the_prefilter_never_hides_a_disallowed_url(text):
    assert suspicious(text) or not _bad(text), text


@PROPS
@given(_markdown())
def test_disallowed_links_is_markdown_links_filtered(text):
    assert disallowed_links(text) == _bad(text), text


@pytest.mark.parametrize("text,url", [
    ("[x][r]\n\n[r]: ftp://files.example/x", "ftp://files.example/x"),  # reference definitions
    ('<a href="a&period;b:x">q</a>', "a.b:x"),  # a named entity inside the scheme
    ("[x](a&plus;b:y)", "a+b:y"),
    ("[x](a\\.b:y)", "a.b:y"),  # a backslash escape inside the scheme
    ('<a href="f\ntp:x">q</a>', "f\ntp:x"),  # HTML drops the newline: ftp
    ("[x](&Tab;\u00a0ftp:x)", "ftp:x"),  # entity-encoded and Unicode blanks before it
    ("> [x](\n> ftp:x)", "ftp:x"),  # a destination on the next line of a quote
])
def test_what_the_old_prefilter_missed(text, url):
    assert suspicious(text)
    assert [link.url for link in disallowed_links(text)] == [url]


def test_plain_web_links_are_not_tokenised():
    text = ("A [link](https://example.com/a) and <https://example.com/b>, ![img](/x.png \"t\"), "
            '<a href="mailto:a@b.c">mail</a>, [ref][r] and `code: here`.\n\n[r]: http://example.com/r\n')
    assert not suspicious(text)
    assert not suspicious("def f(name: str) -> None:  # Note: code, not links\nx = {'a': 1}\n")
    assert disallowed_links(text) == []
    assert [link.url for link in markdown_links(text)] == [
        "https://example.com/a", "https://example.com/b", "/x.png", "mailto:a@b.c", "http://example.com/r"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", ["(" * 200_000, '=" ' * 70_000, "(a\n" * 70_000, ":a" * 100_000, "<(" * 100_000,
                                  "[" * 20_000 + "](" * 20_000, "](" * 100_000, "]:" * 100_000])
def test_the_prefilter_takes_linear_time(text):
    suspicious(text)  # the old pattern backtracked: ~10 minutes for 200,000 '('
