"""The libyaml fast path of safeyaml.load gives exactly what the careful pure-Python path gives:
the same data, the same line of every key, and for anything refused the same error."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repost import safeyaml
from repost.errors import ContentError

pytestmark = pytest.mark.skipif(safeyaml._CParser is None, reason="PyYAML without libyaml")


def careful(text: str, first_line: int = 2):
    saved = safeyaml._CParser
    safeyaml._CParser = None
    try:
        return outcome(text, first_line)
    finally:
        safeyaml._CParser = saved


def outcome(text: str, first_line: int = 2):
    try:
        doc = safeyaml.load(text, "p.md", first_line)
    except ContentError as exc:
        return ("error", exc.path, exc.line, exc.message)
    return ("ok", repr(doc.data), sorted(doc.lines.items(), key=repr))


CASES = [
    "", "---", "# only a comment\n", "title: Hi\ntags: [a, b]\n", "a: 1\nb: 1.5\nc: .inf\nd: -.Inf\ne: .nan\nf: 0123\n",
    "a: no\nb: on\nc: yes\nd: ~\ne: null\nf:\ng: True\nh: FALSE\n", "date: 2017-11-22\nt: 10:00\n",
    "? complex\n: value\n", "[1, 2]: x\n", "a: &x 1\nb: *x\n", "a: !!python/object:os.system x\n", "a: !t x\n",
    "a: 1\na: 2\n", "1: one\n'1': two\n", "null: x\n~: y\n", "true: x\n", "1.5: x\n", "a: [1, {b: [c, d]}]\n",
    'a: "\\ud800"\n', 'a: "\\u00e9\\x41"\n', "a: |\n  line\n  two\n", "a: >-\n  folded\n  text\n",
    "- a\n- b\n", "just text\n", "a: b: c\n", "a: [1, 2\n", "a:\n\t- tab\n", "---\na: 1\n---\nb: 2\n",
    "%YAML 1.2\n---\na: 1\n", "%YAML 1.1\n---\na: 1\n", "%YAML 2.0\n---\na: 1\n", "%TAG !e! tag:e.com:\n---\na: 1\n",
    "a: 'single ''quoted'''\n", "a: \"double\"\nb: plain # comment\n", "key with spaces: v\n", "a: -1\nb: +2\nc: 1e3\n",
    "a:\n  b:\n    c: [x, y]\n  d: {e: 1}\n", "a: !!str 1\n", "a: ! x\n", "{a: 1, b: 2}\n", "a: \u4e2d\u6587\n",
    "a: [" + ",".join(["t"] * 300) + "]\n",
]


@pytest.mark.parametrize("text", CASES)
def test_fast_and_careful_paths_agree(text):
    assert outcome(text) == careful(text)


@pytest.mark.parametrize("first_line", [1, 2, 40])
def test_lines_are_offset_the_same_way(first_line):
    text = "title: x\nsource:\n  url: u\n  author: a\ntags:\n  - one\n  - two\n"
    assert outcome(text, first_line) == careful(text, first_line)
    doc = safeyaml.load(text, "p.md", first_line)
    assert doc.line_of("tags", 1) == first_line + 6 and doc.line_of("source", "author") == first_line + 3


ATOMS = st.sampled_from(["a", "b", "1", "0123", "1.5", "no", "true", "~", "null", "'q'", '"d"', "x y", "", "-", "?",
                         ":", ",", "[", "]", "{", "}", "&a", "*a", "!t", "!!str", "#", "|", ">", "\\u00e9", "\u4e2d"])
PIECES = st.lists(st.one_of(ATOMS, st.sampled_from([" ", "  ", "\n", "\n  ", "\n- ", ": ", ", ", "\t"])), max_size=24)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PIECES)
def test_random_yaml_agrees(pieces):
    text = "".join(pieces)
    assert outcome(text) == careful(text)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                    max_leaves=12))
def test_dumped_data_agrees(data):
    import yaml

    text = yaml.safe_dump({"k": data}, allow_unicode=True)
    assert outcome(text) == careful(text)
