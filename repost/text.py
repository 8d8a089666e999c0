"""What a post's HTML says as plain text: descriptions, summaries, reading time.

Every post is measured each time it is parsed, so these take a fast way (tag cutting, ASCII
word splitting) wherever it gives exactly what the careful way gives; tests/test_text.py checks
the two against each other.
"""
from __future__ import annotations

import html
import math
import re

_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")
_CJK_RUN = re.compile(_CJK.pattern + "+")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_ASCII_GAPS = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
_ASCII_JOINER = re.compile(r"['-](?=[A-Za-z0-9])")  # an apostrophe or hyphen before a letter or digit
_NON_ASCII_GAP = re.compile(r"[^\x00-\x7f\w’]+")  # neither a word's character nor a joiner, like a space
_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')
_BLOCK_IN_PRE = re.compile(r"<(?:dd|dl|dt|li|ol|pre|table|ul)\b")  # lxml closes the <pre> before these


def plain_text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed; the end of a <pre> counts as a space."""
    if not fragment.strip():
        return ""
    from lxml import html as lxml_html  # loaded on first use, like the Markdown libraries

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml refuses some odd fragments; fall back to tag stripping
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())
    for pre in root.iter("pre"):
        pre.tail = " " + (pre.tail or "")
    return " ".join(root.text_content().split())


def sanitised_text(fragment: str) -> str:
    """plain_text of our sanitised HTML (nh3's output), at a third of the cost.

    nh3 writes every attribute in double quotes, escapes '<' and '>' in text, and leaves no
    comments, scripts or capitalised tags: cutting the tags out and decoding the entities gives
    what lxml gives (tests/test_text.py checks it), except where lxml rebuilds the tree: a
    <pre> that starts with a newline or holds a list, a table or another <pre> goes to lxml.
    """
    if "<pre" in fragment and _pre_lxml_rebuilds(fragment):
        return plain_text(fragment)
    text = _TAG.sub("", fragment.replace("</pre>", "</pre> ") if "</pre>" in fragment else fragment)
    return " ".join((html.unescape(text) if "&" in text else text).split())


def _pre_lxml_rebuilds(fragment: str) -> bool:
    start = fragment.find("<pre")
    while start >= 0:
        body = fragment.find(">", start) + 1
        end = fragment.find("</pre>", body)
        end = len(fragment) if end < 0 else end
        if not body or fragment.startswith("\n", body) or _BLOCK_IN_PRE.search(fragment, body, end):
            return True
        start = fragment.find("<pre", end)
    return False


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters (a Han character counts one), not cutting a Latin word."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if text[limit].isalnum() and not _CJK.match(text[limit]) and " " in cut:
        head = cut.rsplit(" ", 1)[0]
        if len(head) > limit // 2:
            cut = head
    return cut.rstrip(" ,.;:，。；：、") + "…"


def reading_minutes(text: str) -> int:
    """About 400 Han characters or 220 words per minute; at least one.

    Words are `_WORD` matches in the text with every Han character made a space; runs of Han
    characters are cut out at once and counted by what they took away.
    """
    latin, runs = _CJK_RUN.subn(" ", text)
    han = len(text) - len(latin) + runs
    return max(1, math.ceil(han / 400 + _count_words(latin) / 220))


def _count_words(latin: str) -> int:
    """len(_WORD.findall(latin)), for ASCII text at a third of the cost: a word is a run of
    letters and digits, and an apostrophe or hyphen between two runs makes them one word.
    Other non-ASCII characters that are neither (full-width punctuation, emoji) are spaces."""
    if not latin.isascii():
        latin = _NON_ASCII_GAP.sub(" ", latin)
        if not latin.isascii():
            return len(_WORD.findall(latin))
    words = len(latin.translate(_ASCII_GAPS).split())
    if "'" in latin or "-" in latin:
        words -= sum(1 for joiner in _ASCII_JOINER.finditer(latin, 1) if latin[joiner.start() - 1].isalnum())
    return words
