"""What a post body may carry (`repost/sanitize.py`): nh3 with the allowlist, and the cheap path
for HTML that markdown-it made of a source without HTML of its own, which must give nh3's output
byte for byte."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st

from repost import markup
from repost.frontmatter import clean_text, split
from repost.markup import render_markdown, render_parts
from repost.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, markdown_only, sanitize
from test_markup import SAFE_SCHEMES, _fragment, _scheme, _urls

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import make_corpus  # noqa: E402  (bench/make_corpus.py: the benchmark's posts)


_md_url = st.sampled_from([
    "http://x.example/?a=1&b=2", "https://x.example/p#f", "HTTP://X.EXAMPLE", "mailto:a@b.example", "ftp://x.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java&#58;script:alert(1)", "&#106;avascript:alert(1)",
    "data:text/html,x", "data:image/png;base64,AAAA", "vbscript:x", "rel:x", "/rel:x", "./a b", "", "#top",
    "//evil.example/x", "%20javascript:x", "a&quot;b", "x\u00a0y", "中文/路径", "?q=\"'&", "file:///etc/passwd",
])
_md_text = st.sampled_from([
    "plain", "中文 文本", '"quoted"', "'single'", "a & b", "&amp;", "&lt;x&gt;", "&quot;", "&nbsp;", "&#60;", "&copy;",
    "\u00a0", "a > b", "*em*", "**strong**", "~~del~~", "`co\"de`", "\\*", "x_y", "🎉", "\u3000", "&#x27;", "a\u200bb",
])
_md_title = st.sampled_from(["", ' "t"', ' "a>b"', " 't\"q'", ' "a & b"', ' "&lt;"', " (p)"])
_md_piece = st.one_of(
    _md_text,
    st.builds(lambda t, u, ti: f"[{t}]({u}{ti})" if " " not in u else f"[{t}](<{u}>)".replace("<", "").replace(">", ""),
              _md_text, _md_url, _md_title),
    st.builds(lambda t, u, ti: f"![{t}]({u}{ti})", _md_text, _md_url, _md_title),
    st.builds(lambda u: f"[ref]\n\n[ref]: {u}", _md_url),
)
_md_block = st.one_of(
    st.lists(_md_piece, min_size=1, max_size=5).map(" ".join),
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 6), _md_text),
    st.builds(lambda a, t: f"| {t} | b |\n|{a}|---|\n| 1 | {t} |", st.sampled_from(["---", ":--", "--:", ":-:"]), _md_text),
    st.builds(lambda lang, t: f"```{lang}\n{t}\n```", st.sampled_from(["", "python", "nosuch", 'a"b', "c&d"]), _md_text),
    st.builds(lambda t: f"> {t}\n> > {t}", _md_text),
    st.builds(lambda n, t: f"{n}. {t}\n{n + 1}. {t}", st.integers(0, 12), _md_text),
    st.builds(lambda t: f"- {t}\n  - {t}\n\n---\n\n{t}  \n{t}", _md_text),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_md_block, min_size=1, max_size=6).map("\n\n".join))
def test_markdown_without_html_is_cleaned_exactly_as_nh3_cleans_it(doc):
    """The cheap path for a source without "<" must give nh3's output byte for byte, and give up
    (None) on anything it does not know; a URL with another scheme always goes to nh3."""
    text = clean_text(doc)
    assert "<" not in text
    raw = markup._to_html(text, markup.fast_enough(text))
    cheap = markdown_only(raw)
    if cheap is not None:
        assert cheap == sanitize(raw)
    assert render_parts(doc)[1] == sanitize(raw)


def test_markdown_without_html_takes_the_cheap_path_for_the_bench_corpus():
    taken = 0
    for i in range(1, 2000, 7):  # 286 posts (one in ten has a <!--more--> line: nh3's)
        text = clean_text(split(make_corpus.post(i)[1]).body)
        if "<" in text:
            continue
        raw = markup._to_html(text, markup.fast_enough(text))
        cheap = markdown_only(raw)
        assert cheap is None or cheap == sanitize(raw), i
        taken += cheap is not None
    assert taken >= 200


def test_markdown_without_html_never_keeps_a_dangerous_url():
    for doc in ["[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))", "![x](data:text/html,x)", "[x](vbscript:x)",
                "[x](java&#115;cript:alert(1))", "[x]\n\n[x]: javascript:alert(1)", "[x](ftp://x.example)"]:
        root = _fragment(render_markdown(doc))
        assert all(_scheme(url) in (None, *SAFE_SCHEMES) for url in _urls(render_markdown(doc))), doc
        assert not root.xpath("//script")


def test_the_cheap_path_knows_only_tags_and_attributes_the_allowlist_keeps():
    """markdown_only passes markdown-it's tags through; each must be one nh3 keeps (style, which
    nh3 drops, it drops too)."""
    from repost.sanitize import _MD_UNKNOWN_ATTR, _MD_UNKNOWN_TAG

    tags = _MD_UNKNOWN_TAG.pattern.split("(?:")[1].split(")")[0].replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|")
    assert set(tags) <= ALLOWED_TAGS
    names = _MD_UNKNOWN_ATTR.pattern.split("(?:")[1].split(")")[0].split("|")
    kept = {name for allowed in ALLOWED_ATTRIBUTES.values() for name in allowed}
    assert set(names) - {"style"} <= kept
    assert markdown_only('<p style="x">a</p>\n') == sanitize('<p style="x">a</p>\n') == "<p>a</p>\n"
