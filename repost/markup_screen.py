"""Which Markdown documents the Rust engine may render (`fast_enough`).

markdown-it-pyrs 0.4 (markdown-it in Rust) gives the same HTML as markdown-it-py, our reference,
on ordinary posts, at a tenth of the cost. It is not safe or exact on everything:

- it recurses without a limit (a document nested 5,000 levels deep can overflow a thread's stack
  and kill the process) and holds the GIL, so no watchdog can stop it;
- it panics on an unclosed code span inside a '[' (a bug in its code-span cache);
- it follows CommonMark 0.30 where markdown-it-py follows 0.31, and differs in a few corners
  (found by fuzzing both engines against each other).

Each check is a cheap, conservative test on the text; a document that fails one goes to the
reference engine (in its worker thread with a deadline). Every check is linear in the text.
Line checks run on the text with a newline at each end, so that a pattern can start with '\\n'
(the regex engine then skips to newlines instead of trying every position).
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
_MARKER = r"\n(?=[ \t]*(?:>|[*+-][ \t\n]|\d{1,9}[.)][ \t\n]))"
_DEEP = re.compile(_MARKER + r"[ \t>*+\-\d.)]{17}")
_DEEP_TABS = re.compile(_MARKER + r"[ \t>*+\-\d.)]{5}")
# Without a final newline, an HTML block or an unclosed fence that ends the text keeps no newline
# in markdown-it-py's output and gets one in the Rust engine's.
_RAW = re.compile(r"<|```|~~~")
# Lines the engines read differently: an empty list item (it ends a blockquote's lazy paragraph
# only in markdown-it-py); an HTML block that ends at its own marker rather than a blank line
# (<pre>, <script>, <style>, <textarea>, <!--, <?, <!X, <![CDATA[) when it is indented or in a
# container; a tab after a blockquote's '>' (kept in raw HTML by markdown-it-py, spaces in Rust).
_ODD_LINE = re.compile(r"\n[ \t>]*(?:[*+-]|\d{1,9}[.)])[ \t]*\n"
                       r"|\n[ \t>*+\d.)-]+<(?:(?i:pre|script|style|textarea)\b|!--|\?|![A-Za-z]|!\[CDATA\[)")
_TAB_AFTER_QUOTE = re.compile(r"\n[ \t>*+\d.)-]*>[ \t>]*\t")
# `<!x`: an HTML declaration in CommonMark 0.31 only (0.30 wants a capital letter).
_LOWER_DECLARATION = re.compile(r"<![a-z]")
# Non-ASCII white space: markdown-it-py strips it around paragraphs, headings and cells (Python's
# str.strip) and folds it in link labels; the Rust engine treats it as text. The importer turns it
# into spaces, so only hand-written posts meet this.
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
# A link reference definition with a backslash (at the end of its destination only markdown-it-py
# takes it).
_REF_BACKSLASH = re.compile(r"\]:[^\n]*\\")
# In an image's alt text the Rust engine drops escapes, entities, raw HTML and hard breaks.
_ALT_RISK = re.compile(r"[\\<&]| {2,}\n")
_TILDES = re.compile(r"~{3,}")
_CONTAINER_PREFIX = re.compile(r"[ \t>]*(?:(?:[*+-]|\d{1,9}[.)])[ \t]+[ \t>]*)*")
_ORDERED_NOT_ONE = re.compile(r"\n[ \t>]*(?!0*1[.)])\d{1,9}[.)](?=[ \t\n])")
_DELIMITER_ROW = re.compile(r"\n[ \t>]*[|: \t-]*-[|: \t-]*(?=\n)")
_QUOTE_LINE = re.compile(r"\n[ \t>*+\d.)-]*>")
_QUOTE = re.compile(r"[ \t>*+\d.)-]*>")
_TICKS = re.compile(r"`+")
_INDENTED_BLOCK = re.compile(r"\n(?:[ \t]+|[ \t]*([*+-]|\d{1,9}[.)])[ \t]+)(?:(```|~~~)|<[A-Za-z/!?])")
_TAG_WITH_TICK = re.compile(r"<[A-Za-z/!?][^<>]*`")  # raw HTML hides its backticks from code spans
_FENCE_LINE = re.compile(r"(?: {0,3}(?:>|[*+-] |\d{1,9}[.)] ))* {0,3}(?:`{3,}[^`]*|~{3,}.*)$")
# A fence that opens at column 0 belongs to no container: it ends at its closing fence or at the end.
_TOP_FENCE = re.compile(r"\n(`{3,})[^`\n]*(?=\n|\Z)(?:\n(?! {0,3}\1`*[ \t]*(?:\n|\Z)).*)*(?:\n {0,3}\1`*[ \t]*(?=\n|\Z))?"
                        r"|\n(~{3,})[^\n]*(?:\n(?! {0,3}\2~*[ \t]*(?:\n|\Z)).*)*(?:\n {0,3}\2~*[ \t]*(?=\n|\Z))?")

_last: tuple[str | None, bool] = (None, False)  # render_markdown asks twice about the same text


def fast_enough(text: str) -> bool:
    """Whether the Rust engine renders `text` safely, in bounded time, and as markdown-it-py does."""
    global _last
    last = _last  # one read: another thread may replace it
    if last[0] is text:
        return last[1]
    lined = f"\n{text}\n"
    unfenced = _TOP_FENCE.sub("", lined) if "```" in text or "~~~" in text else lined
    answer = (
        len(text) <= MAX_CHARS
        and text.count("*") + text.count("_") + text.count("~") <= MAX_DELIMITERS
        and text.count("[") <= MAX_BRACKETS
        and "data-sourcepos" not in text  # the output pass finds our headings and fences by it
        and (text.endswith("\n") or _RAW.search(text) is None)
        and (_DEEP_TABS if "\t" in text else _DEEP).search(lined) is None
        and _ODD_LINE.search(lined) is None
        and not ("\t" in text and _TAB_AFTER_QUOTE.search(lined))
        and not ("<!" in text and _LOWER_DECLARATION.search(text))
        and not ("]:" in text and _REF_BACKSLASH.search(text))
        and not ("<!--" in text and _new_comment(text))
        and (text.isascii() or not (_UNICODE_SPACE.search(text) or _symbol_flank(text)))
        and not _odd_table(lined)
        and not ("~~~" in text and _inline_tildes(text))
        and not ((">" in text or "|" in text) and _lazy_ordered_item(lined))
        and not ("![" in text and _alt_risk(text))
        and not _interrupted_item(unfenced)
        and not ("`" in text and _code_span_risk(unfenced))
    )
    _last = (text, answer)
    return answer


def _symbol_flank(text: str) -> bool:
    """An emphasis or strikethrough delimiter next to a non-ASCII symbol (emoji, ©, ×, €...):
    punctuation for CommonMark 0.31 (markdown-it-py), a letter for 0.30, so the two engines
    disagree on whether the delimiter opens or closes."""
    last = len(text) - 1
    for delimiter in "*_~":
        i = text.find(delimiter)
        while i >= 0:
            for ch in (text[i - 1] if i else "", text[i + 1] if i < last else ""):
                if ch > "\x7f" and unicodedata.category(ch)[0] == "S":
                    return True
            i = text.find(delimiter, i + 1)
    return False


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
    line_start = seen = 0
    for match in _TILDES.finditer(text):
        newline = text.rfind("\n", seen, match.start())  # each stretch of text is looked at once
        line_start, seen = (newline + 1 if newline >= 0 else line_start), match.start()
        if not _CONTAINER_PREFIX.fullmatch(text, line_start, match.start()):
            return True
    return False


def _lazy_ordered_item(lined: str) -> bool:
    """An ordered item not numbered 1 right under a blockquote's paragraph or a table: markdown-it-py
    ends the blockquote or table, the Rust engine (like CommonMark) reads a lazy line or a row."""
    checked = 0  # the lines above the previous item are known to be clean
    for match in _ORDERED_NOT_ONE.finditer(lined):
        end = match.start()  # the newline before the item
        while end > checked:  # the lines of the paragraph above, up to a blank line
            start = lined.rfind("\n", 0, end) + 1
            line = lined[start:end]
            if not line.strip():
                break
            if "|" in line or _QUOTE.match(line):
                return True
            end = start - 1
        checked = match.start()
    return False


def _interrupted_item(lined: str) -> bool:
    """An indented fence or HTML block right under a line of text: in a tight list item,
    markdown-it-py writes it straight after the paragraph's text, the Rust engine after a newline.
    (Checked on the text without its column-0 fences.)"""
    fence = ""  # the marker of the indented fence we are in
    for match in _INDENTED_BLOCK.finditer(lined):
        item, marker = match.groups()
        if fence:
            fence = "" if marker == fence else fence  # its closing line, or a line inside it
            continue
        above = lined[lined.rfind("\n", 0, match.start()) + 1:match.start()]
        if not item and above.strip():  # (an item that starts with the block has no text above it)
            return True
        fence = marker or ""
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


def _odd_table(lined: str) -> bool:
    """Where the engines disagree on whether a table starts: a delimiter row with '|' or ':' under a
    line without '|' (or the other way round), or a table right under a blockquote's line (a lazy
    continuation for markdown-it-py, a table for the Rust engine)."""
    if "|" not in lined and ":-" not in lined and "-:" not in lined:
        return False
    quote = _QUOTE_LINE.search(lined) if ">" in lined else None
    for match in _DELIMITER_ROW.finditer(lined):
        row_start = match.start()  # the newline before the row
        head_start = lined.rfind("\n", 0, row_start)
        if head_start < 0:
            continue
        head, row = lined[head_start + 1:row_start], match.group()
        if ("|" in head) != ("|" in row or ":" in row):
            return True
        above = lined[lined.rfind("\n", 0, head_start) + 1:head_start] if head_start > 0 else ""
        if above.strip() and quote is not None and quote.start() < head_start:
            return True
    return False


def _code_span_risk(lined: str) -> bool:
    """Code spans the engines read differently, line by line (cells split at '|'), in the text
    without the fences that open at column 0, skipping fence lines:

    - a span of spaces only, on one line or two (markdown-it-py keeps them all, the Rust engine
      strips one each side);
    - a run with no run of its length after it on its line, when the text has a '[' (the Rust
      engine panics on an unclosed span inside a '[': an index past its code-span cache) or a
      blockquote (it drops the indentation of lazy lines inside a span);
    - an escaped backtick, or one inside an HTML tag, which this simple pairing cannot place.

    A panic that still slips through is caught and the reference engine renders the document
    (Rust prints the panic).
    """
    strict = "[" in lined or ">" in lined and _QUOTE_LINE.search(lined) is not None
    tick = lined.find("`")
    while tick >= 0:
        start, end = lined.rfind("\n", 0, tick) + 1, lined.find("\n", tick)
        end = len(lined) if end < 0 else end  # the fence cut may have taken the last newline
        line = lined[start:end]
        if not _FENCE_LINE.match(line):  # a fence in a container is not inline text
            if "\\`" in line or "<" in line and _TAG_WITH_TICK.search(line):
                return True
            for cell in line.split("|") if "|" in line else (line,):
                rest = _unpaired(cell) if "`" in cell else None
                if rest is None:
                    continue
                if strict or rest == "\0" or not rest.strip(" ") and _opens_with_tick(lined, end + 1):
                    return True
        tick = lined.find("`", end)
    return False


def _opens_with_tick(lined: str, i: int) -> bool:
    """Whether the line at `i` starts, after spaces, with a backtick (a span of spaces may go on)."""
    while lined.startswith(" ", i):
        i += 1
    return lined.startswith("`", i)


def _unpaired(cell: str) -> str | None:
    """Pair the backtick runs of `cell` as code spans: the text after the first run left open,
    '\\0' for a span of spaces only, None when all close."""
    if cell.count("`") == 2 and "``" not in cell:  # the usual `one span`
        return None if cell[cell.index("`") + 1:cell.rindex("`")].strip(" ") else "\0"
    runs = [m.span() for m in _TICKS.finditer(cell)]
    i = 0
    while i < len(runs):
        start, end = runs[i]
        closer = next((k for k in range(i + 1, len(runs)) if runs[k][1] - runs[k][0] == end - start), None)
        if closer is None:
            return cell[end:]
        if not cell[end:runs[closer][0]].strip(" "):
            return "\0"
        i = closer + 1
    return None
