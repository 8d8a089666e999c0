"""The Rust engine (markdown-it-pyrs plus our output pass) against the reference (markdown-it-py
with our rules), which is the pipeline repost had before: same sanitised HTML, byte for byte.

Where they may not agree, `markup_screen.fast_enough` sends the document to the reference; these tests
also check that it does, and that documents which would crash or panic the Rust engine are safe.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from repost import markup, markup_screen
from repost.errors import ContentError
from repost.frontmatter import clean_text, split
from repost.highlight import highlight_fences

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import make_corpus  # noqa: E402  (bench/make_corpus.py: the benchmark's posts)

EXAMPLES = int(os.environ.get("REPOST_HYPOTHESIS_EXAMPLES", "300"))


def reference(text: str) -> str:
    """The old pipeline: markdown-it-py with the heading-id rule, then nh3, then Pygments."""
    return highlight_fences(markup.sanitize(markup._reference_html(clean_text(text))))


def fast(text: str) -> str:
    text = clean_text(text)
    out = markup._fast_html(text)
    assert out is not None, "the Rust engine failed"
    return highlight_fences(markup.sanitize(out))


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return split(text, path).body
    except ContentError:
        return text


def _site_files() -> list[Path]:
    return sorted(p for folder in ("content", "tests/fixtures") for p in (REPO / folder).rglob("*.md"))


# ---- real documents ---------------------------------------------------------------------------

def test_every_markdown_file_of_the_repository_renders_the_same():
    files = _site_files()
    assert len(files) > 20
    for path in files:
        body = _body(path)
        assert markup.fast_enough(clean_text(body)), path  # these all take the fast path...
        assert fast(body) == reference(body), path  # ...and it gives the old output


def test_bench_corpus_sample_renders_the_same():
    for i in range(0, 3000, 10):  # 300 posts, every kind of block the corpus makes
        body = split(make_corpus.post(i)[1]).body
        assert markup.fast_enough(clean_text(body)), i
        assert fast(body) == reference(body), i
        assert markup.render_markdown(body) == reference(body), i


def test_known_tricky_documents_render_the_same():
    docs = [
        "# Hello *world* [link](http://x.example) `code`\n\n## Hello world\n\n## Hello world\n",
        "Setext *one*\n===\n\n  Two lines\n  of heading  \n---\n\n> Quoted\n> setext\n> ===\n",
        "- # in a list\n- item\n\n  ## nested ##\n\n1. Foo\n   bar\n   ===\n",
        "# #\n\n#\n\n### ###\n\n# foo#\n\n#\tTab\t#\n\n## 中文 标题 🎉\n\n## 中文 标题 🎉\n",
        "```python {.x}\nprint('<&>\"')\n```\n\n```nosuchlang\nx < y\n```\n\n```\nplain\n```\n\n~~~js\nlet a = `t`;\n~~~\n",
        '```"><script>alert(1)</script>\ncode\n```\n\n# A "quoted" heading\n',
        "    indented code\n\n> ```bash\n> echo `date`\n> ```\n\n- ```py\n  x = 1\n  ```\n",
        "<h2>raw heading</h2>\n\n<pre><code class=\"language-python\">raw = 1</code></pre>\n\n# md heading\n",
        "| a | `b` |\n|:--|--:|\n| [l](u) | ~~s~~ |\n\n<!--more-->\n\nafter\n",
        "[ref]\n\n[ref]: https://example.com \"t\"\n\n![img](a.png \"x\") <b>html</b> &amp; &copy; &#x27;\n",
        "Heading with `code` and <em>html</em>\n---\n\n# **bold** _em_ ~~del~~ \\# escaped\n",
        "<div>\n# not a heading\n</div>\n\n<!-- comment -->\n\n# after comment\n",
        "# " + "long " * 40 + "\n\n# " + "long " * 40 + "\n",
    ]
    for doc in docs:
        assert markup.fast_enough(clean_text(doc)), doc
        assert fast(doc) == reference(doc), doc


# ---- random documents ---------------------------------------------------------------------------

_heading_text = st.lists(st.sampled_from([
    "Title", "title", "中文", "标题", "🎉", "*em*", "**strong**", "`code`", "[link](http://a.example)", "<b>x</b>",
    "&amp;", "#", "##", "'q'", '"q"', "a_b", "1.", "\\*", "~~s~~", "  ", "é", "Ⅻ", "ﬁ", "\xa0", "\u3000",
]), min_size=0, max_size=5).map(" ".join)
_lang = st.sampled_from(["", "python", "py", "js", "bash", "nosuchlang", "c++", "c#", "html+jinja", "python {x=1}",
                         '"><x>', "PYTHON", "text", "md", "yaml"])
_code = st.sampled_from(["x = 1", "print('<&>\"')", "a `tick` b", "if a < b:\n    pass", "", "  indented\n\ttab", "中文 = 1"])
_block = st.one_of(
    st.builds(lambda lvl, t: "#" * lvl + " " + t, st.integers(1, 6), _heading_text),
    st.builds(lambda t, c: f"{t}\n{c * 3}", _heading_text.filter(str.strip), st.sampled_from("=-")),
    st.builds(lambda f, lang, code: f"{f}{lang}\n{code}\n{f}", st.sampled_from(["```", "~~~", "````"]), _lang, _code),
    st.sampled_from([
        "<div>\n<p>html block</p>\n</div>", "<h3>raw</h3>", "<!--more-->", "<!-- c -->", "| a | b |\n|---|---|\n| 1 | 2 |",
        "> quote\n> more", "- a\n- b\n  - c", "1. one\n2. two", "---", "    code block", "[x]: http://x.example",
        "para with [x] and ![i](i.png) and <span>s</span>", "a  \nb", "<script>alert(1)</script>", "***", "- [ ] task",
        "intro:\n```py\nx = 1\n```", "intro:\n<div>\nx\n</div>", "> a\n2. b", "| a |\n|---|\n| 1 |\n2. x",
    ]),
    st.text(alphabet=st.sampled_from(list("ab中 *_`#[]()<>!|-~\\&;\n\t\xa0\u3000")), max_size=30),
)
_prefix = st.sampled_from(["", "", "", "> ", "- ", "1. ", "  ", "> - "])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_prefix, _block), max_size=12), st.sampled_from(["\n\n", "\n"]))
def test_property_both_engines_give_the_same_html(blocks, sep):
    text = sep.join(prefix + block.replace("\n", "\n" + " " * len(prefix) if prefix.strip() != ">" else "\n> ")
                    for prefix, block in blocks)
    cleaned = clean_text(text)
    expected = reference(text)
    if markup.fast_enough(cleaned):
        assert fast(text) == expected
    assert markup.render_markdown(text) == expected


# ---- what the screen keeps from the Rust engine -------------------------------------------------

@pytest.mark.parametrize("text", [
    "[`", "a [b `c", "x [y\n`z", "[``a`", "| [a | `b |\n|---|---|\n| c | d |", "[a \\`b`",
], ids=repr)
def test_an_unclosed_code_span_after_a_bracket_goes_to_the_reference(text, capfd):
    """markdown-it-pyrs 0.4.0 panics (and prints a Rust backtrace) on these."""
    assert not markup.fast_enough(clean_text(text))
    assert markup.render_markdown(text) == reference(text)
    assert "panicked" not in capfd.readouterr().err


def test_a_panic_that_slips_through_falls_back_to_the_reference(monkeypatch):
    monkeypatch.setattr(markup, "fast_enough", lambda text: True)
    assert markup._fast_html("[`") is None  # the panic is caught...
    assert markup.render_markdown("[`") == reference("[`") == "<p>[`</p>\n"  # ...and the reference renders


@pytest.mark.parametrize("text", [
    ">" * 20 + " deep", "- " * 9 + "x", "".join("  " * i + "- x\n" for i in range(12)), "1. " * 9 + "x",
    "\t" * 5 + "- x", "*a " * 11000 + "b", "[" * 60000, "x" * (markup_screen.MAX_CHARS + 1),
    '<p data-sourcepos="1:1-1:1">x</p>\n', "<div>\nno final newline\n</div>", "```\nunclosed",
    "a <!-- x -- y --> b\n", "a <!--> b\n", ">\t<a>\n", ">x\n- \n", "<!doctype html>\n", "x\n|-\n", "x|\n--\n",
    "- x\n  ```\n  y\n  ```\n", "- x\n  <div>\n", "a *© b*\n", "![a&amp;b](u)\n", "``  \n``\n", "\xa0a\n",
], ids=lambda text: repr(text[:12]))
def test_deep_big_or_odd_documents_go_to_the_reference(text):
    assert not markup.fast_enough(text)
    assert markup.render_markdown(text, timeout=None) == reference(text)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", [
    "**|---|&```\n```\n",  # a fence at the very end: the screen once looped forever on it
    "```\n", "x\n```", "`", "[`\n```", "~~~", "\n" * 3 + "```py\n" + "`" * 5,
], ids=repr)
def test_the_screen_ends_on_texts_that_end_in_a_fence(text):
    markup_screen._last = (None, False)
    markup_screen.fast_enough(text)
    assert markup.render_markdown(text) == reference(text)


@pytest.mark.timeout(60)
def test_every_check_of_the_screen_is_linear():
    """A quadratic check would take minutes on these 200,000-character repeats. Each check is
    called on its own: fast_enough stops at the first that fails."""
    units = ["![", "<!--", "`", "[`", "~~~", "\n2. ", "|-\n", "> x\n", "<pre", "a\n```\n", "``  \n", "**🎉",
             "\n> a\n2. ", "|a|\n|-|\n", "[a]: \\", "  - \n", "x `a\n", "> |a|\n|-|\n", "[a `b` ", "\t> ",
             "<!-- -- ", "![a&", "~~~ x ~~~\n", "1. a\n", " ~~~ ", "`a` ", "`` a`", "x\n2. \n"]
    checks = [markup_screen._symbol_flank, markup_screen._alt_risk, markup_screen._inline_tildes,
              markup_screen._new_comment]
    lined_checks = [markup_screen._lazy_ordered_item, markup_screen._odd_table, markup_screen._code_span_risk]
    patterns = [markup_screen._DEEP, markup_screen._DEEP_TABS, markup_screen._ODD_LINE, markup_screen._TAB_AFTER_QUOTE,
                markup_screen._UNICODE_SPACE, markup_screen._REF_BACKSLASH, markup_screen._LOWER_DECLARATION]
    for unit in units:
        text = unit * (200_000 // len(unit))
        lined = f"\n{text}\n"
        for check in checks:
            check(text)
        for check in lined_checks:
            check(lined)
        for pattern in patterns:
            pattern.search(lined)
        markup_screen._last = (None, False)
        markup_screen.fast_enough(text)


def test_shallow_documents_take_the_fast_path():
    for text in [">" * 15 + " x", "> " * 8 + "x", "- " * 8 + "x", "                    deep code indent", "----------------------",
                 "`a` [b](c) `d`", "[a] `b`", "```\n[ `\n```\n", "***bold italic***"]:
        assert markup.fast_enough(text), text


def test_markdown_it_py_stops_nesting_at_20_levels_and_the_screen_keeps_that():
    """The Rust engine nests without limit; for such documents the output is the reference's."""
    text = ">" * 25 + " deep"
    assert markup.render_markdown(text) == reference(text)
    assert reference(text).count("<blockquote>") == 20


@pytest.mark.timeout(120)
def test_input_that_would_overflow_the_rust_stack_does_not_kill_the_process(tmp_path):
    """Unscreened, these crash the interpreter (SIGSEGV) inside markdown-it-pyrs."""
    script = (
        "import threading\n"
        "from repost.markup import render_markdown\n"
        "threading.stack_size(2 * 1024 * 1024)\n"
        "docs = ['>' * 300000 + ' deep', '1. ' * 100000 + 'x', '*' * 300000 + 'a' + '*' * 300000]\n"
        "def go():\n"
        "    for doc in docs:\n"
        "        render_markdown(doc, timeout=None)\n"
        "t = threading.Thread(target=go); t.start(); t.join()\n"
        "print('alive')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-2000:]


def test_an_ordered_item_inside_a_quote_under_a_nested_quote_goes_to_the_reference():
    """Found by the Hypothesis property in CI: '> 2. b' under '> > a' is a lazy line for the Rust
    engine and a list for markdown-it-py."""
    text = "> > a\n> 2. b"
    assert not markup.fast_enough(text)
    assert markup.render_markdown(text) == reference(text)
