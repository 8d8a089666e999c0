"""Markdown -> sanitised HTML, under a time budget.

markdown-it-py (CommonMark, linear-time by design) renders; nh3 sanitises with the allowlist
below, which is the only HTML a post body can carry. Rendering runs in a worker thread with a
deadline so a pathological document is one file's error, never a hung build.
"""
from __future__ import annotations

import html
import re
import threading
import unicodedata
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

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
    clean = nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
    )
    return _IMG.sub(_with_alt, clean)


def _with_alt(match: re.Match) -> str:
    """vnu requires alt on every img; raw HTML images without one get an empty alt."""
    names = re.findall(r'\s+([\w:-]+)(?:="[^"]*")?', match.group(1))
    return match.group(0) if "alt" in names else f'<img alt=""{match.group(1)}>'



def render_markdown(text: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """Markdown -> sanitised HTML; raises MarkupTimeout past `timeout` seconds."""
    text = clean_text(text)
    if timeout is None:
        return sanitize(_to_html(text))
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["html"] = _to_html(text)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc

    worker = threading.Thread(target=work, name="repost-markdown", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise MarkupTimeout(f"Markdown rendering took longer than {timeout:g} s (pathological input?)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return sanitize(str(box["html"]))


def split_more(text: str) -> tuple[str, str] | None:
    """(before, after) the first `<!--more-->` line, or None."""
    match = MORE_MARKER.search(text)
    return (text[: match.start()], text[match.end():]) if match else None


def _to_html(text: str) -> str:
    return _parser().render(text)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight}).enable(["table", "strikethrough"])
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


def _highlight(code: str, lang: str, attrs: str) -> str:
    """Pygments classes for known languages; '' lets markdown-it escape the code itself."""
    name = re.sub(r"[^\w+#.-]", "", lang or "")[:40]
    if not name:
        return ""
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return ""
    body = highlight(code, lexer, HtmlFormatter(nowrap=True, classprefix="hl-"))
    return f'<pre class="highlight"><code class="language-{html.escape(name)}">{body}</code></pre>\n'


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
