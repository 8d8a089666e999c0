"""Markdown rendering and sanitising (RELIABILITY B5): parse the output, never regex it."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings, strategies as st
from lxml import html

from repost.markup import MarkupTimeout, render_markdown, render_parts, split_more
from repost.sanitize import ALLOWED_TAGS, sanitize
from repost.text import sanitised_text

SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _fragment(markup: str):
    return html.fragment_fromstring(markup or "<p></p>", create_parent="div")


def _urls(markup: str) -> list[str]:
    root = _fragment(markup)
    return [v for attr in ("href", "src") for v in root.xpath(f"//@{attr}")]


def _scheme(url: str) -> str | None:
    """The scheme a browser would see (WHATWG URL: trim C0/space, drop tab/newline)."""
    cleaned = re.sub(r"[\t\n\r]", "", url.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11"
                                                    "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match.group(1).lower() + ":" if match else None


def _assert_safe_urls(markup: str) -> None:
    for url in _urls(markup):
        scheme = _scheme(url)
        assert scheme is None or scheme in SAFE_SCHEMES, url


@pytest.mark.parametrize("link", [
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](javascript&#58;alert(1))",
    "[x](java\tscript:alert(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox(1))",
    "[x](\n javascript:alert(1))", "![i](javascript:alert(1))", "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"  JAVASCRIPT:alert(1)\">x</a>", "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
])
def test_link_schemes_outside_the_allowlist_are_dropped(link):
    _assert_safe_urls(render_markdown(link))


def test_allowed_links_survive_with_noopener():
    out = render_markdown("[a](https://a.example/) [b](/local/) [c](mailto:x@y.z) [d](#frag) [e](rel/path)")
    assert _urls(out) == ["https://a.example/", "/local/", "mailto:x@y.z", "#frag", "rel/path"]
    assert all("noopener" in a.get("rel") for a in _fragment(out).xpath("//a"))


@pytest.mark.parametrize("raw", [
    "<script>alert(1)</script>", "<style>body{display:none}</style>", "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>", '<a href="https://x.example" target="_blank">t</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>', "<div onclick='x()' style='color:red'>d</div>",
    '<base href="https://evil.example/">', '<meta http-equiv="refresh" content="0;url=https://evil">',
    "<form action=/x><input name=a></form>", "<object data=x></object><embed src=x>",
])
def test_raw_html_is_sanitised(raw):
    root = _fragment(render_markdown(raw))
    assert not root.xpath("//script|//style|//svg|//iframe|//base|//meta|//form|//input|//object|//embed")
    for el in root.iter():
        assert not [a for a in el.attrib if a.startswith("on") or a in ("style", "target", "srcdoc")], el.attrib
        if el.tag == "a":
            assert "noopener" in el.get("rel", "")
        if el.tag == "img":
            assert el.get("alt") is not None


def test_text_of_removed_tags_is_kept_but_script_content_is_not():
    out = render_markdown("<span>kept text</span><script>gone()</script>")
    text = _fragment(out).text_content()
    assert "kept text" in text and "gone" not in text


def test_fence_info_string_and_heading_quotes_are_escaped():
    out = render_markdown('```"><script>alert(1)</script>\ncode\n```\n\n# A "quoted" heading\n')
    root = _fragment(out)
    assert not root.xpath("//script")
    assert root.xpath("//code")[0].text == "code\n"
    assert root.xpath("//h1/@id") == ["a-quoted-heading"]


def test_code_is_highlighted_with_classes_only():
    root = _fragment(render_markdown("```python\nprint('hi')\n```\n"))
    assert root.xpath('//pre[@class="highlight"]/code[@class="language-python"]/span[@class]')
    assert not root.xpath("//*[@style]")


CODE = ["print('hi')", "x = \"<&>\" # &amp; &nbsp; \xa0 中文", "</code></pre><script>alert(1)</script>", "a\tb\n\n  c", "&#39;"]


@pytest.mark.parametrize("code", CODE)
def test_code_is_highlighted_after_sanitising_and_keeps_its_text_exactly(code):
    """Pygments runs on the sanitised HTML: its spans are ours, and the code they hold is the
    fence's text exactly, however it was escaped on the way."""
    root = _fragment(render_markdown(f"```python\n{code}\n```\n"))
    assert root.xpath('//pre[@class="highlight"]/code[@class="language-python"]')
    assert not root.xpath("//script")
    assert root.xpath("string(//code)").rstrip("\n") == code


def test_raw_html_code_with_tags_inside_is_sanitised_and_not_highlighted():
    out = render_markdown('<pre><code class="language-python"><b>x</b><script>alert(1)</script> = 1</code></pre>\n')
    root = _fragment(out)
    assert not root.xpath("//script") and not root.xpath("//span")
    assert root.xpath("//pre/code/b")[0].text == "x"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["python", "js", "nosuchlang", ""]), min_size=1, max_size=3),
       st.text(alphabet=st.sampled_from("ab <>&\"'\t\n中#/*x=;{}"), max_size=40))
def test_the_unhighlighted_html_gives_the_same_plain_text(langs, code):
    """A post's plain text (reading time, description) is taken before highlighting."""
    doc = "\n\n".join(f"intro {i}\n\n```{lang}\n{code}\n```" for i, lang in enumerate(langs))
    full, bare = render_parts(doc)
    assert "hl-" not in bare
    assert sanitised_text(full) == sanitised_text(bare)


def test_heading_ids_are_unique_and_keep_cjk():
    root = _fragment(render_markdown("## 中文 标题\n\n## 中文 标题\n"))
    assert root.xpath("//h2/@id") == ["中文-标题", "中文-标题-1"]


def test_tables_and_strikethrough():
    root = _fragment(render_markdown("| a | b |\n|---|---|\n| 1 | ~~2~~ |\n"))
    assert root.xpath("//table/tbody/tr/td/s")


def test_more_marker_splits_once():
    assert split_more("intro\n<!--more-->\nrest\n<!-- more -->\n") == ("intro\n", "\nrest\n<!-- more -->\n")
    assert split_more("no marker") is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name,text", [
    ("brackets", "[" * 20000), ("cdata", "<![" * 5000), ("comment", "<!-- x -- >" * 2000),
    ("nesting", ">" * 5000 + " deep"), ("long line", "word " * 20000), ("links", "[a](" * 5000),
    ("emphasis", "*a **" * 5000), ("lists", "".join("  " * i + "- x\n" for i in range(500))),
])
def test_adversarial_markdown_finishes_or_times_out_cleanly(name, text):
    start = time.perf_counter()
    try:
        out = render_markdown(text, timeout=10)
    except MarkupTimeout:
        out = ""
    assert time.perf_counter() - start < 30
    _fragment(out)  # parses


def test_time_budget_turns_a_slow_render_into_an_error(monkeypatch):
    import repost.markup as markup

    def slow(text, fast):
        time.sleep(5)
        return "<p>late</p>"

    monkeypatch.setattr(markup, "_to_html", slow)
    monkeypatch.setattr(markup, "fast_enough", lambda text: False)  # the reference engine's path: a watchdog
    start = time.perf_counter()
    with pytest.raises(MarkupTimeout):
        markup.render_markdown("x", timeout=0.2)
    assert time.perf_counter() - start < 3


def test_a_fast_path_render_over_budget_is_an_error_too(monkeypatch):
    """The Rust engine holds the GIL, so no watchdog could stop it: it only gets documents it is
    linear on (markup.fast_enough), and one that still takes longer than the budget is an error."""
    import repost.markup as markup

    def slow(text, fast):
        time.sleep(0.4)
        return "<p>late</p>"

    monkeypatch.setattr(markup, "_to_html", slow)
    assert markup.fast_enough("x")
    with pytest.raises(MarkupTimeout):
        markup.render_markdown("x", timeout=0.1)
    assert markup.render_markdown("x", timeout=5) == "<p>late</p>"


def test_sanitize_keeps_only_allowlisted_tags():
    out = sanitize("<p><b>ok</b><blink>x</blink><custom-el>y</custom-el></p>")
    assert {el.tag for el in _fragment(out).iter()} - {"div"} <= ALLOWED_TAGS


_md_bits = st.sampled_from([
    "*", "_", "**", "`", "```", "[", "](", ")", "<", ">", "&", "#", "- ", "1. ", "\n", "\n\n", "<script>",
    "<img src=x onerror=alert(1)>", "javascript:", "<a href='", "'>", "<!--", "-->", "|", "---", "\\",
    "<svg onload=1>", "&#106;avascript:", "data:text/html,", '"', "'", "中文", "<!--more-->",
])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_md_bits, st.text(max_size=8)), max_size=30))
def test_property_render_never_raises_and_never_emits_script(parts):
    out = render_markdown("".join(parts))
    root = _fragment(out)
    assert not root.xpath("//script|//svg|//iframe")
    for el in root.iter():
        assert not [a for a in el.attrib if a.lower().startswith("on")]
    _assert_safe_urls(out)
