"""safeyaml's cheap checks say what the single regular expressions they replace said."""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from repost import safeyaml
from repost.errors import ContentError

_OLD_UNUSUAL = re.compile("[\t\r\x85\u2028\u2029\ufeff]|[|>][-+0-9]*#|[\\[{][^\\]}]*[?]")
_YAMLISH = ["\t", "\r", "\x85", "\u2028", "\u2029", "\ufeff", "|", ">", "|-", ">+2", "#", " #", "[", "]", "{", "}", "?",
            "a", ":", " ", "\n", "- ", "'", '"', "中"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_YAMLISH), st.text(max_size=3)), max_size=30).map("".join))
def test_property_unusual_is_the_old_single_search(text):
    assert safeyaml._unusual(text) == bool(_OLD_UNUSUAL.search(text))


def test_a_document_over_the_event_cap_gets_the_careful_paths_error():
    text = "\n".join(f"k{i}: v" for i in range(safeyaml.MAX_EVENTS // 2 + 10))
    try:
        safeyaml.load(text, "p.md", 2)
    except ContentError as exc:
        assert exc.message == "YAML document too large"
    else:
        raise AssertionError("a document over the cap was loaded")


def test_the_fast_path_takes_at_most_max_events(monkeypatch):
    """'a: 1\\nb: 2' is ten events (stream, document, mapping, four scalars, and their ends)."""
    monkeypatch.setattr(safeyaml, "MAX_EVENTS", 10)
    assert safeyaml._load_fast("a: 1\nb: 2", 0).data == {"a": 1, "b": 2}
    monkeypatch.setattr(safeyaml, "MAX_EVENTS", 9)
    try:
        safeyaml._load_fast("a: 1\nb: 2", 0)
    except safeyaml._Undecided:
        pass
    else:
        raise AssertionError("the fast path took more than MAX_EVENTS events")
