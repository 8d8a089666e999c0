"""Markdown -> sanitised HTML, under a time budget.

markdown-it-py (CommonMark, linear-time by design) renders; nh3 sanitises with the allowlist
below, which is the only HTML a post body can carry. Rendering runs in a worker thread with a
deadline so a pathological document is one file's error, never a hung build.
"""
from __future__ import annotations

import html
import os
import queue
import re
import threading
import unicodedata
from functools import lru_cache

from repost.frontmatter import clean_text

DEFAULT_TIMEOUT = 5.0
MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE)

# The checked-in allowlist: tags, attributes per tag, URL schemes (relative URLs also pass).
ALLOWED_TAGS = frozenset("""
a abbr b blockquote br caption cite code col colgroup dd del details dfn div dl dt em figcaption
figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q rp rt ruby s samp small span strong
sub summary sup table tbody td tfoot th thead time tr u ul var
""".split())
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "id"},
    "img": {"src", "alt", "width", "height"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "code": {"class"}, "pre": {"class"}, "span": {"class"}, "div": {"class"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "reversed"}, "li": {"value"}, "time": {"datetime"},
    "abbr": {}, "details": {"open"}, "q": {"cite"}, "blockquote": {"cite"}, "del": {"cite"}, "ins": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select", "math", "svg"})


class MarkupTimeout(TimeoutError):
    """Rendering one document took longer than the budget."""


_IMG = re.compile(r'<img((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*/?>')


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags/attributes/URL schemes; links get rel=noopener; images get alt."""
    return _IMG.sub(_with_alt, _cleaner().clean(fragment))


@lru_cache(maxsize=1)
def _cleaner():
    """Built once: the allowlist does not change while a build runs."""
    import nh3  # the Markdown libraries load on first use: a rebuild with nothing to parse skips them

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
    )


def _with_alt(match: re.Match) -> str:
    """vnu requires alt on every img; raw HTML images without one get an empty alt."""
    names = re.findall(r'\s+([\w:-]+)(?:="[^"]*")?', match.group(1))
    return match.group(0) if "alt" in names else f'<img alt=""{match.group(1)}>'



def render_markdown(text: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """Markdown -> sanitised HTML; raises MarkupTimeout past `timeout` seconds."""
    text = clean_text(text)
    if timeout is None:
        return sanitize(_to_html(text))
    worker = _Worker.current()
    box: dict[str, object] = {}
    done = threading.Event()
    worker.jobs.put((text, box, done))
    if not done.wait(timeout):
        worker.abandon()
        raise MarkupTimeout(f"Markdown rendering took longer than {timeout:g} s (pathological input?)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return sanitize(str(box["html"]))


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
                box["html"] = _to_html(text)
            except BaseException as exc:  # reported to the caller
                box["error"] = exc
            done.set()


def split_more(text: str) -> tuple[str, str] | None:
    """(before, after) the first `<!--more-->` line, or None."""
    match = MORE_MARKER.search(text)
    return (text[: match.start()], text[match.end():]) if match else None


def _to_html(text: str) -> str:
    return _parser().render(text)


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight}).enable(["table", "strikethrough"])
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def _highlight(code: str, lang: str, attrs: str) -> str:
    """Pygments classes for known languages; '' lets markdown-it escape the code itself."""
    name = re.sub(r"[^\w+#.-]", "", lang or "")[:40]
    lexer = _lexer(name) if name else None
    if lexer is None:
        return ""
    from pygments import highlight

    body = highlight(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{html.escape(name)}">{body}</code></pre>\n'


@lru_cache(maxsize=256)
def _lexer(name: str):
    """Pygments looks a lexer up by scanning every plugin; once per name is enough."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, classprefix="hl-")


def _heading_ids(state) -> None:
    """Give each heading a stable, unique id so sections can be linked."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or i + 1 >= len(tokens):
            continue
        base = heading_id(tokens[i + 1].content) or "section"
        n = seen.get(base, 0)
        seen[base] = n + 1
        tok.attrSet("id", base if n == 0 else f"{base}-{n}")


def heading_id(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"[`*_~\[\]()<>!\"'#$%&+,./:;=?@\\^{|}]", "", text)
    return re.sub(r"\s+", "-", text.strip())[:80].strip("-")
