"""Highlighting (`repost/highlight.py`): Pygments' HTML, with its regex lexers' loop run on one
joined regex per state. The tokens must be Pygments' own, for every lexer, on any text."""
from __future__ import annotations

import re
from pathlib import Path

import pygments
import pytest
from hypothesis import given, settings, strategies as st
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer, bygroups, combined, default, include, words
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from repost import highlight as hl

SNIPPETS = [
    Path(hl.__file__).read_text(encoding="utf-8")[:2500],  # Python
    "function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0); // c\n}\nconst t = `x ${y}`; /re+/g.test(s);\n",
    "public class A {\n  private int x = 5; /* c */\n  public static void main(String[] a) { System.out.println(\"hi\" + a.length); }\n}\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfor i, v := range []int{1, 2} {\n\t\tfmt.Println(i, v)\n\t}\n}\n",
    "#!/bin/sh\nfor f in *.md; do\n  echo \"$f\" ${x:-y} `date` $((1 + 2))\ndone\ncat <<EOF\nhere $HOME\nEOF\n",
    "SELECT a, count(*) FROM t WHERE b = 'x''y' AND c > 2.5e3 -- c\nGROUP BY a; /* d */\n",
    '<!doctype html><html><body class="x"><script>var x = "a\\n";</script><style>a { color: #f00 }</style><!-- c --></body></html>\n',
    '{"k": [1, -2.5e3, null, true, "s\\u00e9"]}\nkey: value\n- item\n  nested: [a, b]\n',
    "fn main() { let x: i32 = 5; println!(\"{}\", x); } // c\nimpl<T> Foo for Bar<'a, T> where T: Clone {}\n",
    "中文注释 # 注释\nx = '字符串' \t\r\n\x00 \\\\ ))) ((( }}} \"\"\" ''' ``` <<< >>> ${ #{ @{ %{ \n",
]
CORPUS = "\n".join(SNIPPETS)


@pytest.fixture(autouse=True)
def joining_at_once(monkeypatch):
    """States joined from the first character (a build joins them after `JOIN_AFTER`)."""
    monkeypatch.setattr(hl, "JOIN_AFTER", -1)
    monkeypatch.setattr(hl, "_STATES", {})


def _own(lexer, text: str) -> list:
    return list(RegexLexer.get_tokens_unprocessed(lexer, text))


def _ours(lexer, text: str) -> list:
    return list(hl._tokens(lexer, text))


def _regex_lexers() -> list[str]:
    names = []
    for _, aliases, _, _ in get_all_lexers():
        if not aliases:
            continue
        try:
            lexer = get_lexer_by_name(aliases[0])
        except Exception:  # a lexer that needs a plugin or options to start
            continue
        if type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed:
            names.append(aliases[0])
    return sorted(set(names))


def test_this_pygments_loop_is_the_one_repeated_so_the_fast_loop_is_used():
    assert hl._known_loop(), f"Pygments {pygments.__version__} changed RegexLexer's loop: check _tokens against it"
    lexer = hl._lexer("python")
    assert "get_tokens_unprocessed" in vars(lexer)
    hl.highlight("def f(x):\n    return x\n", "python")
    assert hl._STATES[id(lexer._tokens)]["root"][0] is not None  # the root state's 54 rules joined


def test_every_regex_lexer_gives_pygments_own_tokens():
    """Every lexer using Pygments' loop (about 425), on code of many languages: each lexer meets
    text it does not expect too (errors, resets at line ends, pops past the root)."""
    names = _regex_lexers()
    assert len(names) > 300
    mismatched = []
    for name in names:
        lexer = get_lexer_by_name(name)
        try:
            own = _own(lexer, CORPUS)
        except Exception as exc:  # a few lexers fail on foreign text: the same way, then
            with pytest.raises(type(exc)):
                _ours(lexer, CORPUS)
            continue
        if _ours(lexer, CORPUS) != own:
            mismatched.append(name)
    assert not mismatched


CODE_TEXT = st.text(st.sampled_from(list("abcxyz019_ \t\n\r\\'\"`#/*-+=<>()[]{}$@%!?.,:;&|~^中é") + ["\u2028", "\x00"]),
                    max_size=120)


@settings(max_examples=120, deadline=None)
@given(CODE_TEXT, st.sampled_from(["python", "js", "java", "go", "bash", "sql", "html", "css", "rust", "kotlin", "perl", "ts"]))
def test_property_the_fast_loop_gives_pygments_own_tokens(text, name):
    lexer = get_lexer_by_name(name)
    assert _ours(lexer, text) == _own(lexer, text)


class Tricky(RegexLexer):
    """Every kind of rule and state change the loop handles, and rules that cannot be joined."""

    name = "tricky"
    flags = re.MULTILINE
    tokens = {
        "root": [
            (r"(?s)/\*.*?\*/", Comment.Multiline),  # a global flag: joined as (?s:...)
            (r"(?x) \# [^\n]*  # a verbose comment to the end of the rule", Comment.Single),
            (r"(def)(\s+)(\w+)", bygroups(Keyword, Text, Name.Function)),  # a callback: its own groups
            (words(("if", "else", "while"), suffix=r"\b"), Keyword),
            (r"\(", Punctuation, "paren"),
            (r"\{", Punctuation, "#push"),
            (r"\}", Punctuation, "#pop"),
            (r"\[", Punctuation, combined("inner", "paren")),
            (r"\d+", Number),
            (r"'", String, "sq"),
            (r"\w+", Name),
            (r"[ \t]+", Text),
            (r"[=+\-*/<>]", Operator),
        ],
        "paren": [
            (r"\)", Punctuation, "#pop"),
            (r"\]", Punctuation, "#pop:2"),
            include("root"),
        ],
        "inner": [
            (r"!", Operator, ("#pop", "#push")),
            default("#pop"),
        ],
        "sq": [  # a backreference: this state keeps the rule-by-rule loop
            (r"(\w)\1", String.Escape),
            (r"'", String, "#pop"),
            (r"[^'\n]", String),
        ],
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab1 \t\n'(){}[]!=/*#") + ["def f", "if", "/* x\n y */", "aa", "# c\n"]), max_size=40)
       .map("".join))
def test_property_every_kind_of_rule_and_state_change(text):
    lexer = Tricky()
    assert _ours(lexer, text) == _own(lexer, text)


def test_states_are_joined_unless_a_rule_numbers_its_groups():
    lexer = Tricky()
    _ours(lexer, "x ( [ ! ] ) 'aa' { } /* c */ # d\n")
    states = hl._STATES[id(lexer._tokens)]
    assert states["root"][0] is not None and states["paren"][0] is not None
    assert states["sq"][0] is None


def test_highlighted_html_is_pygments_own():
    for code, name in [(SNIPPETS[0], "python"), (SNIPPETS[1], "js"), (SNIPPETS[3], "go"), (SNIPPETS[4], "bash")]:
        plain = pygments.highlight(code, get_lexer_by_name(name), HtmlFormatter(nowrap=True, classprefix="hl-"))
        assert hl.highlight(code, name) == (f'<pre class="highlight"><code class="language-{name}">{plain}'
                                            "</code></pre>\n")
    assert hl.highlight("x", "no-such-language") == ""


def test_an_unknown_pygments_loop_keeps_its_own(monkeypatch):
    hl._known_loop.cache_clear()
    monkeypatch.setattr(hl, "_KNOWN_LOOP", "0" * 64)
    try:
        lexer = hl.quicken(get_lexer_by_name("python"))
        assert "get_tokens_unprocessed" not in vars(lexer)
    finally:
        hl._known_loop.cache_clear()
    assert hl.loop_digest("  a\n\n    b  \n") == hl.loop_digest("a\nb")


def test_a_lexer_joins_its_states_only_after_enough_text(monkeypatch):
    monkeypatch.setattr(hl, "JOIN_AFTER", 100)
    lexer = get_lexer_by_name("go")
    text = "func f() {}\n"
    assert _ours(lexer, text * 5) == _own(lexer, text * 5)
    states = hl._STATES[id(lexer._tokens)]
    assert not states.joining and states["root"][0] is None  # 60 characters: rule by rule
    assert _ours(lexer, text * 5) == _own(lexer, text * 5)
    assert states.joining and states["root"][0] is not None  # 120: joined from here on
