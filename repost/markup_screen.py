"""Which Markdown documents the Rust engine may render (`fast_enough`).

markdown-it-pyrs 0.4 (markdown-it in Rust) gives the same HTML as markdown-it-py, our reference,
on ordinary posts, at a thirteenth of the cost. It is not safe or exact on everything:

- it recurses without a limit (a document nested 5,000 levels deep can overflow a thread's stack
  and kill the process) and holds the GIL, so no watchdog can stop it;
- it panics on an unclosed code span inside a '[' (a bug in its code-span cache);
- it follows CommonMark 0.30 where markdown-it-py follows 0.31, and differs in a few corners.

Each check below is a cheap, conservative test on the text; a document that fails one goes to
the reference engine (in its worker thread with a deadline). Every check is linear in the text.
`tests/test_markup_engines.py` compares both engines over real and random documents.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 1_000_000  # the Rust engine takes at worst about 0.5 us a character
MAX_DELIMITERS = 10_000  # '*', '_', '~': nested emphasis recurses, and costs quadratic time
MAX_BRACKETS = 50_000  # '[': nested link labels recurse

# A line that opens a container at nesting level n has at least n characters of container prefix
# (a blockquote '>' is one level, a list marker and its space two; a tab counts up to four).
# markdown-it-py drops what is nested 20 levels deep (its maxNesting) and the Rust engine does not.
_MARKER = r"(?=[ \t]*(?:>|[*+-](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)))"
_DEEP = re.compile(_MARKER.join(["^", r"[ \t>*+\-\d.)]{17,}"]), re.MULTILINE)
_DEEP_TABS = re.compile(_MARKER.join(["^", r"[ \t>*+\-\d.)]{5,}"]), re.MULTILINE)
# Without a final newline, an HTML block or an unclosed fence that ends the text keeps no newline
# in markdown-it-py's output and gets one in the Rust engine's.
_RAW = re.compile(r"<|```|~~~")
# A tab after a blockquote's '>' (kept in raw HTML by markdown-it-py, spaces in Rust), an empty
# list item (it ends a blockquote's lazy paragraph only in markdown-it-py), `<!x` (an HTML
# declaration in CommonMark 0.31 only: 0.30 wants a capital letter), and an HTML block that ends at
# its own marker, not a blank line (<pre>, <script>, <style>, <textarea>, <!--, <?, <!X, <![CDATA[),
# indented or in a container (the engines end it at different lines).
_ODD = re.compile(r"^[ \t>*+\d.)-]*>[ \t>]*\t|^[ \t>]*(?:[*+-]|\d{1,9}[.)])[ \t]*$|<![a-z]"
                  r"|^[ \t>*+\d.)-]+<(?:(?i:pre|script|style|textarea)\b|!--|\?|![A-Za-z]|!\[CDATA\[)", re.MULTILINE)
# Non-ASCII white space: markdown-it-py strips it around paragraphs, headings and cells (Python's
# str.strip) and folds it in link labels; the Rust engine treats it as text. The importer turns it
# into spaces, so only hand-written posts meet this.
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# A link reference definition with a backslash (at the end of its destination: only markdown-it-py
# takes it).
_REF_BACKSLASH = re.compile(r"\]:[^\n]*\\")
_TILDES = re.compile(r"~{3,}")
_CONTAINER_PREFIX = re.compile(r"[ \t>]*(?:(?:[*+-]|\d{1,9}[.)])[ \t]+[ \t>]*)*")
_ORDERED_NOT_ONE = re.compile(r"^[ \t]*(?!0*1[.)])\d{1,9}[.)](?=[ \t]|$)", re.MULTILINE)
# A code span of spaces only: markdown-it-py keeps them all, the Rust engine strips one each side.
_BLANK_CODE_SPAN = re.compile(r"(?<!`)(`+)(?: +\n? *|\n +)\1(?!`)")
# In an image's alt text the Rust engine drops escapes, entities, raw HTML and hard breaks.
_ALT_RISK = re.compile(r"[\\<&]| {2,}\n")
_NEXT_TO_DELIMITER = re.compile(r"[^\x00-\x7f](?=[*_~])|(?<=[*_~])[^\x00-\x7f]")
_DELIMITER_ROW = re.compile(r"^[ \t>]*[|: \t-]*-[|: \t-]*$", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t>*+\d.)-]*>", re.MULTILINE)
_TICKS = re.compile(r"`+")
_LINE_WITH_TICK = re.compile(r"^.*`.*$", re.MULTILINE)
_TAG_WITH_TICK = re.compile(r"<[A-Za-z/!?][^<>]*`")  # raw HTML hides its backticks from code spans
_FENCE_LINE = re.compile(r"(?: {0,3}(?:>|[*+-] |\d{1,9}[.)] ))* {0,3}(?:`{3,}[^`]*|~{3,}.*)$")
# A fence that opens at column 0 belongs to no container: it ends at its closing fence or at the end.
_TOP_FENCE = re.compile(r"^(`{3,})[^`\n]*\n(?:.*\n)*?(?: {0,3}\1`*[ \t]*(?:\n|\Z)|\Z)"
                        r"|^(~{3,})[^\n]*\n(?:.*\n)*?(?: {0,3}\2~*[ \t]*(?:\n|\Z)|\Z)", re.MULTILINE)

_last: tuple[str | None, bool] = (None, False)  # render_markdown asks twice about the same text


def fast_enough(text: str) -> bool:
    """Whether the Rust engine renders `text` safely, in bounded time, and as markdown-it-py does."""
    global _last
    if _last[0] is text:
        return _last[1]
    answer = (
        len(text) <= MAX_CHARS
        and text.count("*") + text.count("_") + text.count("~") <= MAX_DELIMITERS
        and text.count("[") <= MAX_BRACKETS
        and "data-sourcepos" not in text  # the output pass finds our headings and fences by it
        and (text.endswith("\n") or _RAW.search(text) is None)
        and (_DEEP_TABS if "\t" in text else _DEEP).search(text) is None
        and _ODD.search(text) is None
        and not ("]:" in text and _REF_BACKSLASH.search(text))
        and (text.isascii() or _UNICODE_SPACE.search(text) is None)
        and not ("<!--" in text and _new_comment(text))
        and (text.isascii() or not _symbol_flank(text))
        and not _odd_table(text)
        and not ("~~~" in text and _inline_tildes(text))
        and not ((">" in text or "|" in text) and _lazy_ordered_item(text))
        and _BLANK_CODE_SPAN.search(text) is None
        and not ("![" in text and _alt_risk(text))
        and not _code_span_risk(text)
    )
    _last = (text, answer)
    return answer


def _symbol_flank(text: str) -> bool:
    """An emphasis or strikethrough delimiter next to a non-ASCII symbol (emoji, ©, ×, €...):
    punctuation for CommonMark 0.31 (markdown-it-py), a letter for 0.30, so the two engines
    disagree on whether the delimiter opens or closes."""
    return any(unicodedata.category(m.group()).startswith("S") for m in _NEXT_TO_DELIMITER.finditer(text))


def _alt_risk(text: str) -> bool:
    """An escape, entity, '<' or hard break between a '![' and the next ']('. Linear: both the next
    '](' and the next risky character are looked up once per position they move to."""
    i, close, risk = text.find("!["), -1, None
    while i >= 0:
        if close < i:
            close = text.find("](", i)
            if close < 0:
                close = len(text)
        if risk is None or risk.start() < i:
            risk = _ALT_RISK.search(text, i)
            if risk is None:
                return False
        if risk.start() < close:
            return True
        i = text.find("![", i + 2)
    return False


def _inline_tildes(text: str) -> bool:
    """A run of three or more '~' that is not a fence: markdown-it-py splits it for strikethrough."""
    for match in _TILDES.finditer(text):
        if not _CONTAINER_PREFIX.fullmatch(text, text.rfind("\n", 0, match.start()) + 1, match.start()):
            return True
    return False


def _lazy_ordered_item(text: str) -> bool:
    """An ordered item not numbered 1 right under a blockquote's paragraph or a table: markdown-it-py
    ends the blockquote or table, the Rust engine (like CommonMark) reads a lazy line or a row."""
    for match in _ORDERED_NOT_ONE.finditer(text):
        end = match.start()
        while end > 0:  # the lines of the paragraph above, up to a blank line
            start = text.rfind("\n", 0, end - 1) + 1
            line = text[start:end - 1]
            if not line.strip():
                break
            if "|" in line or _QUOTE.match(line):
                return True
            end = start
    return False


def _new_comment(text: str) -> bool:
    """An HTML comment only CommonMark 0.31 accepts: `<!-->`, `<!--->`, or '--' inside."""
    i = text.find("<!--")
    while i >= 0:
        start = i + 4
        if text.startswith((">", "->"), start):
            return True
        end = text.find("-->", start)
        if end < 0:
            return text.find("--", start) >= 0
        if text.find("--", start, end) >= 0:
            return True
        i = text.find("<!--", end)
    return False


def _odd_table(text: str) -> bool:
    """Where the engines disagree on whether a table starts: a delimiter row with '|' or ':' under a
    line without '|' (or the other way round), or a table right under a blockquote's line (a lazy
    continuation for markdown-it-py, a table for the Rust engine)."""
    if "|" not in text and ":-" not in text and "-:" not in text:
        return False
    for match in _DELIMITER_ROW.finditer(text):
        if match.start() == 0:
            continue
        head_start = text.rfind("\n", 0, match.start() - 1) + 1
        head, row = text[head_start:match.start() - 1], match.group()
        if ("|" in head) != ("|" in row or ":" in row):
            return True
        above = text[text.rfind("\n", 0, head_start - 1) + 1:head_start] if head_start else ""
        if above.strip() and ">" in text[:head_start]:
            return True
    return False


def _code_span_risk(text: str) -> bool:
    """A backtick run that may stay unclosed after a '[', or a code span over lines of a blockquote.

    The Rust engine panics on the first (an index past its code-span cache) and drops the
    indentation of lazy lines in the second. When the text has a '[' or a blockquote, line by line
    (cells split at '|'), outside fences that open at column 0 and fence lines: a run with no run of
    its length after it on its line, an escaped backtick, or one inside an HTML tag, is a risk. A
    panic that still slips through is caught and the reference engine renders the document (Rust
    prints the panic).
    """
    if "`" not in text:
        return False
    if "```" in text or "~~~" in text:
        text = _TOP_FENCE.sub("", text)
    if "[" not in text and not (">" in text and _QUOTE.search(text)):
        return False
    for match in _LINE_WITH_TICK.finditer(text):
        line = match.group()
        if _FENCE_LINE.match(line):  # a fence in a container: not inline text
            continue
        if "\\`" in line or "<" in line and _TAG_WITH_TICK.search(line):
            return True
        for cell in line.split("|") if "|" in line else (line,):
            if "`" in cell and not _spans_close(cell):
                return True
    return False


def _spans_close(cell: str) -> bool:
    """Every backtick run that opens a code span in `cell` meets a run of its length later on."""
    runs = [len(m.group()) for m in _TICKS.finditer(cell)]
    i = 0
    while i < len(runs):
        try:
            i = runs.index(runs[i], i + 1) + 1
        except ValueError:
            return False
    return True
