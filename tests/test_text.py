"""What a post's HTML says as plain text: truncation, reading time, and the fast text measures
giving exactly what the careful ones give."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from repost.errors import ContentError
from repost.text import reading_minutes, truncate


def test_truncate_counts_han_characters_and_keeps_latin_words():
    assert truncate("一二三四五六", 3) == "一二三…"
    assert truncate("alpha beta gamma delta", 13) == "alpha beta…"
    assert truncate("short", 10) == "short"


def test_reading_time_is_cjk_aware():
    assert reading_minutes("字" * 400) == 1 and reading_minutes("字" * 1200) == 3
    assert reading_minutes("word " * 660) == 3
    assert reading_minutes("字" * 400 + " word" * 220) == 2
    assert reading_minutes("") == 1


def _old_reading_minutes(text: str) -> int:
    """reading_minutes as it was: every Han character made a space, then the words found."""
    import math
    import re as _re

    latin, han = _re.subn(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]", " ", text)
    words = len(_re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", latin))
    return max(1, math.ceil(han / 400 + words / 220))


_READING_EDGES = ["字", "中文", "한국", "𠀀", "\u2e80", "\u9fff", "\u2e7f", "\ua000", "。", "、", "，", "！", "？", "（", "Ａ", "１",
                  "'", "’", "‘", "-", "‐", "—", "_", "__", " ", "\n", "\t", "\x1f", "\xa0", "\u3000", "a", "Z", "9", "é", "ß",
                  "Ω", "😀", "👍🏽", "©", "don't", "well-known", "a--b", "-x", "x-", "'s", "snake_case", "x'", "３D"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_READING_EDGES), st.text(max_size=6)), max_size=40).map("".join))
def test_property_reading_minutes_is_as_before(text):
    assert reading_minutes(text) == _old_reading_minutes(text)
    assert reading_minutes(text * 60) == _old_reading_minutes(text * 60)  # big enough to count minutes


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(st.characters(max_codepoint=127), max_size=80),
                 st.lists(st.one_of(st.sampled_from(_READING_EDGES), st.text(max_size=3)), max_size=30).map("".join)))
def test_property_words_are_counted_as_the_regex_counts_them(text):
    from repost.text import _WORD, _count_words

    assert _count_words(text) == len(_WORD.findall(text))


@pytest.mark.parametrize("text, words", [
    ("", 0), ("word", 1), ("don't stop", 2), ("well-known", 1), ("a-b-c", 1), ("a--b", 2), ("a'-b", 2), ("-a- 'b'", 2),
    ("snake_case", 2), ("x1 2y", 2), ("中文word中文", 1), ("’tis", 1), ("rock’n’roll", 1), ("café crème", 2),
    ("ＡＢ１ full-width", 2), ("１２３，４５", 2), ("😀emoji😀", 1), ("\x1fa\x1fb", 2),
])
def test_words_at_the_edges(text, words):
    from repost.text import _CJK, _count_words

    assert _count_words(_CJK.sub(" ", text)) == words
    assert reading_minutes(text * 220) == _old_reading_minutes(text * 220)


# ---- the fast text measures give what the careful ones gave ---------------------------------------

def _repository_and_bench_html() -> list[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import make_corpus

    from repost.frontmatter import split
    from repost.markup import render_markdown

    repo = Path(__file__).resolve().parent.parent
    texts = [p.read_text(encoding="utf-8") for folder in ("content", "tests/fixtures") for p in (repo / folder).rglob("*.md")]
    texts += [make_corpus.post(i)[1] for i in range(0, 2000, 10)]
    out = []
    for text in texts:
        try:
            out.append(render_markdown(split(text).body))
        except ContentError:
            out.append(render_markdown(text))
    return out


def test_sanitised_text_equals_lxml_text_on_real_posts():
    from repost.text import _pre_lxml_rebuilds, plain_text, sanitised_text

    fragments = _repository_and_bench_html()
    assert not any(_pre_lxml_rebuilds(f) for f in fragments)  # the fast way is taken...
    for fragment in fragments:
        assert sanitised_text(fragment) == plain_text(fragment)  # ...and gives lxml's text


_html_bits = st.sampled_from([
    "<p>", "</p>", "<pre>", "</pre>", "<pre>\n", "<code>", "</code>", "<br>", "<img alt='a' src=x>", "<a href=\"u\">", "</a>",
    "<table><tr><td>", "</td><td>", "</td></tr></table>", "<ul><li>", "</li></ul>", "<!-- c -->", "<script>x</script>",
    "&amp;", "&lt;", "&nbsp;", "&#x41;", "&copy", "<", ">", "\n", " ", "\t", "word", "中文", "'", '"', "<b title=\"a>b\">",
    "</b>", "<h2 id=\"x\">", "</h2>", "<style>s</style>", "<textarea>t</textarea>", "<div>", "</div>", "<PRE>", "<?x?>",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_html_bits, st.text(max_size=5)), max_size=25))
def test_property_sanitised_text_equals_lxml_text(parts):
    """Whatever the Markdown (raw HTML included), its sanitised HTML gives the same text both ways."""
    from repost.frontmatter import clean_text
    from repost.markup import render_markdown
    from repost.sanitize import sanitize
    from repost.text import plain_text, sanitised_text

    for fragment in (render_markdown("".join(parts)), sanitize(clean_text("".join(parts)))):
        assert sanitised_text(fragment) == plain_text(fragment), fragment


def test_sanitised_text_leaves_what_lxml_rebuilds_to_lxml():
    from repost.sanitize import ALLOWED_TAGS, sanitize
    from repost.text import plain_text, sanitised_text

    void = {"br", "hr", "img", "col"}
    for outer in ("pre", "p", "li", "td", "code"):
        for inner in sorted(ALLOWED_TAGS):
            for deepest in ("table", "ul", "pre", "span", "li", "dl"):
                close = "" if inner in void else f"</{inner}>"
                fragment = sanitize(f"w<{outer}>x<{inner}>y<{deepest}>q</{deepest}>r{close}z</{outer}>v")
                assert sanitised_text(fragment) == plain_text(fragment), fragment
