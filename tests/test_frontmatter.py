"""Front matter: parsed or failed with file and line; never silently empty (RELIABILITY B2)."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings, strategies as st

from repost.errors import ContentError
from repost.frontmatter import clean_text, split


def test_plain_front_matter_and_body_line():
    doc = split("---\ntitle: Hi\ntags: [a]\n---\nBody\n", "p.md")
    assert doc.meta == {"title": "Hi", "tags": ["a"]}
    assert doc.body == "Body\n" and doc.body_line == 5
    assert doc.line_of("tags") == 3


def test_bom_crlf_and_trailing_spaces_on_the_fence():
    doc = split("\ufeff---  \r\ntitle: Hi\r\n--- \r\nBody\r\n", "p.md")
    assert doc.meta == {"title": "Hi"} and doc.body == "Body\n"


def test_no_front_matter_keeps_everything_in_the_body():
    doc = split("# Just markdown\n", "p.md")
    assert doc.meta == {} and doc.body == "# Just markdown\n"


def test_missing_closing_fence_is_an_error_not_an_empty_dict():
    with pytest.raises(ContentError) as info:
        split("---\ntitle: Hi\n\nBody without the fence\n", "p.md")
    assert info.value.path == "p.md" and info.value.line == 1 and "never closed" in info.value.message


def test_top_level_list_is_an_error():
    with pytest.raises(ContentError) as info:
        split("---\n- a\n- b\n---\nbody\n", "p.md")
    assert "mapping" in info.value.message and info.value.line == 2


def test_python_tags_are_rejected_and_run_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    text = f"---\ntitle: x\nevil: !!python/object/apply:os.system ['touch {sentinel}']\n---\n"
    with pytest.raises(ContentError) as info:
        split(text, "p.md")
    assert info.value.line == 3 and "tag" in info.value.message
    assert not sentinel.exists()


def test_billion_laughs_is_rejected_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(ContentError) as info:
        split("---\n" + "\n".join(lines) + "\n---\n", "p.md")
    assert time.perf_counter() - start < 5  # generous: the point is that nothing is expanded
    assert "anchors" in info.value.message and info.value.line == 2


def test_duplicate_keys_are_an_error_with_the_line():
    with pytest.raises(ContentError) as info:
        split("---\ntitle: a\ntitle: b\n---\n", "p.md")
    assert info.value.line == 3 and "duplicate" in info.value.message


def test_yaml_11_surprises_stay_strings():
    doc = split("---\ntags: [no, on, yes]\nid: 0123\ndate: 2017-11-22\n---\n", "p.md")
    assert doc.meta == {"tags": ["no", "on", "yes"], "id": "0123", "date": "2017-11-22"}


def test_invalid_yaml_names_the_line():
    with pytest.raises(ContentError) as info:
        split("---\ntitle: ok\ntags: [a, b\nx: 1\n---\n", "p.md")
    assert info.value.path == "p.md" and info.value.line and info.value.line >= 3


def test_clean_text_drops_controls_and_bidi_overrides():
    assert clean_text("a\x00b\x0bc\u202ed\u200be\r\nf\u2028g") == "abcde\nf\ng"
    assert clean_text("\ttab\nkeeps\u200dzwj") == "\ttab\nkeeps\u200dzwj"


def test_lone_surrogate_escapes_are_an_error_with_the_line():
    with pytest.raises(ContentError) as info:
        split('---\ntitle: ok\nslug: "\\ud800\\udc00"\n---\n', "p.md")
    assert info.value.line == 3 and "surrogate" in info.value.message


_DIRTY = ["\ufeff", "\r", "\n", "\r\n", "\u2028", "\u2029", "\x00", "\x0b", "\x1f", "\x7f", "\ufffe", "\uffff", "\u200b",
          "\u202a", "\u202e", "\u2066", "\u2069", "---", "...", "title: a", "<!--more-->", "body", "中文", " ", "\t"]


def _old_clean_text(text: str) -> str:
    """clean_text as it was: every step on every text."""
    from repost.frontmatter import _BAD_CHARS

    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _BAD_CHARS.sub("", text)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(st.one_of(st.sampled_from(_DIRTY), st.text(max_size=4)), max_size=20).map("".join)))
def test_property_clean_text_is_as_before(text):
    assert clean_text(text) == _old_clean_text(text)
    assert clean_text("中文 body\n" + text) == _old_clean_text("中文 body\n" + text)


def _old_split(text: str):
    """frontmatter.split as it was: line by line."""
    import re as _re

    text = clean_text(text)
    lines = text.split("\n")
    if not _re.match(r"^---[ \t]*$", lines[0]):
        return None, text, 1
    for end in range(1, len(lines)):
        if _re.match(r"^(?:---|\.\.\.)[ \t]*$", lines[end]):
            return "\n".join(lines[1:end]), "\n".join(lines[end + 1:]), end + 2
    return "unclosed", None, None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["---", "...", "--- ", "---x", "title: a", "a: 'b'", "", " ", "body", "\r", "\t", "\ufeff",
                                 "\u2028", "x: \"\\u00e9\"", "- a", "#"]), max_size=8).map("\n".join))
def test_property_split_finds_the_same_front_matter_and_body(text):
    yaml_text, body, line = _old_split(text)
    try:
        doc = split(text, "p.md")
    except ContentError as exc:
        assert yaml_text == "unclosed" or exc.line is not None
        return
    assert yaml_text != "unclosed"
    assert (doc.body, doc.body_line) == (body, line)
