"""Markdown -> sanitised HTML, under a time budget.

Two engines give the same HTML. markdown-it-pyrs (markdown-it in Rust, about 13 times faster)
renders every document it is safe and exact for (`markup_screen.fast_enough` says which);
markdown-it-py, the reference, renders the rest. Heading ids, our addition, are a markdown-it-py
rule for the reference and, for the Rust engine, a pass over its output that finds our headings by
their `data-sourcepos` attributes. `sanitize.py` then keeps only the HTML a post body may carry (it
also drops those attributes), and Pygments highlights the fenced code of both engines' output.
`tests/test_markup_engines.py` checks that both engines give the same HTML.

The reference engine renders in a worker thread with a deadline, so a pathological document is
one file's error, never a hung build. The Rust engine holds the GIL, so no watchdog could stop
it: it only gets documents on which it is linear and shallow, and a render over the budget is
still an error.
"""
from __future__ import annotations

import os
import queue
import re
import threading
import time
import unicodedata
from functools import lru_cache

from repost.frontmatter import clean_text
from repost.highlight import highlight_fences
from repost.markup_screen import fast_enough
from repost.sanitize import markdown_only, sanitize

DEFAULT_TIMEOUT = 5.0
MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE)

class MarkupTimeout(TimeoutError):
    """Rendering one document took longer than the budget."""


def render_markdown(text: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """Markdown -> sanitised HTML; raises MarkupTimeout past `timeout` seconds."""
    return render_parts(text, timeout=timeout)[0]


def render_parts(text: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> tuple[str, str]:
    """(sanitised HTML, the same before code is highlighted): a post's plain text comes from the
    second, which has far fewer tags. Raises MarkupTimeout past `timeout` seconds."""
    text = clean_text(text)
    fast = fast_enough(text)
    if timeout is not None and not fast:
        return _budgeted(text, timeout)
    start = time.perf_counter()
    parts = _parts(text, fast)
    if timeout is not None and time.perf_counter() - start > timeout:
        raise _timeout(timeout)
    return parts


def _parts(text: str, fast: bool) -> tuple[str, str]:
    """Render, sanitise, then highlight: Pygments' markup is ours (it escapes the code), so nh3
    need not parse every span of it (it cost nh3 half as much again)."""
    raw = _to_html(text, fast)
    clean = markdown_only(raw) if "<" not in text else None
    if clean is None:
        clean = sanitize(raw)
    return highlight_fences(clean), clean


def _timeout(timeout: float) -> MarkupTimeout:
    return MarkupTimeout(f"Markdown rendering took longer than {timeout:g} s (pathological input?)")


def _budgeted(text: str, timeout: float) -> tuple[str, str]:
    """`_parts(text, False)` in the worker thread; MarkupTimeout when it misses the deadline."""
    worker = _Worker.current()
    box: dict[str, object] = {}
    done = threading.Event()
    worker.jobs.put((text, box, done))
    if not done.wait(timeout):
        worker.abandon()
        raise _timeout(timeout)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["html"]  # type: ignore[return-value]


class _Worker:
    """One long-lived daemon thread renders documents for the budget above (a thread per document
    costs more than a short post takes). A worker stuck past a deadline is abandoned: it ends after
    its job, if ever, and a new worker serves the next document. A forked process gets its own."""

    _lock = threading.Lock()
    _current: "_Worker | None" = None

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.abandoned = False
        threading.Thread(target=self._loop, name="repost-markdown", daemon=True).start()

    @classmethod
    def current(cls) -> "_Worker":
        worker = cls._current
        if worker is None or worker.abandoned or worker.pid != os.getpid():
            with cls._lock:
                worker = cls._current
                if worker is None or worker.abandoned or worker.pid != os.getpid():
                    worker = cls._current = cls()
        return worker

    def abandon(self) -> None:
        self.abandoned = True

    def _loop(self) -> None:
        while not self.abandoned:
            text, box, done = self.jobs.get()
            try:
                box["html"] = _parts(text, False)
            except BaseException as exc:  # reported to the caller
                box["error"] = exc
            done.set()


def split_more(text: str) -> tuple[str, str] | None:
    """(before, after) the first `<!--more-->` line, or None."""
    match = MORE_MARKER.search(text) if "more" in text else None
    return (text[: match.start()], text[match.end():]) if match else None


def _to_html(text: str, fast: bool) -> str:
    """Markdown -> unsanitised HTML, code not highlighted: the Rust engine where `fast_enough` found
    it safe and exact (`fast`), else the reference."""
    out = _fast_html(text) if fast else None
    return _reference_html(text) if out is None else out


# ---- the Rust engine -----------------------------------------------------------------------

@lru_cache(maxsize=1)
def _engine():
    from markdown_it_pyrs import MarkdownIt

    return MarkdownIt("commonmark").enable_many(["table", "strikethrough", "sourcepos"])


# What the output pass rewrites: headings (ids) and empty blockquotes, which markdown-it-py writes
# on one line; then every data-sourcepos goes.
_MARKED = re.compile(r'<h([1-6]) data-sourcepos="(\d+):(\d+)-(\d+):\d+">'
                     r'|<blockquote data-sourcepos="[^"]*">\n(?=</blockquote>)')
_SOURCEPOS = re.compile(r' data-sourcepos="[^"]*"')


def _fast_html(text: str) -> str | None:
    """The Rust engine's HTML with our heading ids; None if it panicked."""
    try:
        out = _engine().render(text)
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return None
    lines: list[str] = []
    seen: dict[str, int] = {}

    def mark(match: re.Match) -> str:
        if match.group(1) is None:  # an empty blockquote
            return "<blockquote>"
        if not lines:
            lines.extend(text.split("\n"))
        first, col, last = int(match.group(2)) - 1, int(match.group(3)) - 1, int(match.group(4)) - 1
        if first == last:
            source = _atx_content(lines[first][col:])
        else:  # setext: the lines above the underline
            source = "\n".join([lines[first][col:], *lines[first + 1:last]]).strip()
        return f'<h{match.group(1)} id="{_unique_id(source, seen)}">'

    return _SOURCEPOS.sub("", _MARKED.sub(mark, out))


def _atx_content(line: str) -> str:
    """The text of an ATX heading line (from its first '#'), as markdown-it's heading rule cuts it."""
    start = line.find("#")
    rest = line[start:].lstrip("#").rstrip(" \t")
    body = rest.rstrip("#")
    if len(body) < len(rest) and body[-1:] in (" ", "\t"):
        rest = body  # a closing sequence: '## title ##'
    return rest.strip()


# ---- the reference engine ------------------------------------------------------------------

def _reference_html(text: str) -> str:
    return _parser().render(text)


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def _heading_ids(state) -> None:
    """Give each heading a stable, unique id so sections can be linked."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            tok.attrSet("id", _unique_id(tokens[i + 1].content, seen))


def _unique_id(source: str, seen: dict[str, int]) -> str:
    """heading_id of the heading's Markdown source; '-1', '-2'... for repeats in one document."""
    base = heading_id(source) or "section"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else f"{base}-{n}"


def heading_id(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[`*_~\[\]()<>!\"'#$%&+,./:;=?@\\^{|}]", "", text)
    return re.sub(r"\s+", "-", text.strip())[:80].strip("-")
