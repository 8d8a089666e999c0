"""Links as a browser sees them: their scheme, where they land in the site, and which point nowhere.

Used by `repost check` on each post's sanitised HTML (against the files the build will write)
and on its Markdown source (for schemes the sanitiser would silently drop), and by `crawl` over
a built output folder.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import unquote, urljoin, urlsplit

from repost.sanitize import URL_SCHEMES

DANGEROUS_SCHEMES = frozenset({"javascript", "vbscript", "data", "file"})
LINK_ATTRS = ("href", "src", "action", "formaction", "poster", "cite", "srcdoc", "xlink:href")
_ATTR = re.compile(r'\b(href|src)="([^"]*)"')
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_C0_SPACE = "".join(chr(c) for c in range(0x21))
# Cheap prefilter: only Markdown that may hold a URL outside http, https, mailto and relative ones
# is tokenised. A URL starts right after `](` (links, images), `]:` (reference definitions), `<`
# (autolinks, `<...>` destinations) or `=` (HTML attributes), then blanks (any Unicode space),
# quotes or `>` (a quote marker). An entity or backslash there may be a blank: a maybe. Else its
# scheme runs to the first `:` and may hide behind tabs and newlines (HTML drops them), entities or
# backslash escapes, so those count as part of it, and it must be exactly http, https or mailto. A
# colon can only be written `:`, `\:`, `&colon;` or `&#...;`. Linear time: blanks are taken
# possessively. Code such as `f(name: str)` is not a link: only `](` starts one.
_SCHEME_AFTER_START = re.compile(
    r"(?:\][(:]|[<=])[\s\x00-\x20\"'>]*+(?:[&\\]|(?!(?:https?|mailto):)[a-zA-Z][a-zA-Z0-9+.\-\t\n\r&#;\\]*:)")


def scheme_of(url: str) -> str | None:
    """The scheme a browser would use (WHATWG: trim C0 and spaces, drop tabs and newlines), lower case."""
    cleaned = re.sub(r"[\t\n\r]", "", url.strip(_C0_SPACE))
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def allowed(url: str) -> bool:
    """http, https, mailto and relative URLs: the sanitiser's allowlist."""
    scheme = scheme_of(url)
    return scheme is None or scheme in URL_SCHEMES


@dataclass(frozen=True)
class SourceLink:
    line: int  # 0-based line inside the Markdown text
    url: str
    kind: str  # link | image | html


def markdown_links(text: str) -> list[SourceLink]:
    """Every link, image and raw-HTML URL in Markdown, before any sanitising, with its line."""
    return _links(_tokenizer(), text)


def disallowed_links(text: str) -> list[SourceLink]:
    """The links of `markdown_links(text)` whose URL is outside the allowlist, in the same order,
    cheaply: nothing is tokenised when the text cannot hold one (`suspicious`), and then only the
    inline content that can (or all of it, when a reference definition holds one)."""
    if not suspicious(text):
        return []
    return [link for link in _links(_tokenizer(filtered=True), text) if not allowed(link.url)]


def _links(md, text: str) -> list[SourceLink]:
    found: list[SourceLink] = []
    for token in md.parse(text):
        line = token.map[0] if token.map else 0
        if token.type in ("html_block",):
            found.extend(SourceLink(line + off, url, "html") for off, url in _html_urls(token.content))
        for child in token.children or ():
            if child.type == "softbreak" or child.type == "hardbreak":
                line += 1
            elif child.type == "link_open":
                found.append(SourceLink(line, str(child.attrGet("href") or ""), "link"))
            elif child.type == "image":
                found.append(SourceLink(line, str(child.attrGet("src") or ""), "image"))
            elif child.type == "html_inline":
                found.extend(SourceLink(line + off, url, "html") for off, url in _html_urls(child.content))
    return found


def suspicious(text: str) -> bool:
    """False when `markdown_links(text)` cannot hold a URL outside http, https, mailto and relative
    ones (so it need not run); True is only a maybe."""
    return "&#" in text or "&colon" in text or _SCHEME_AFTER_START.search(text) is not None


@lru_cache(maxsize=2)
def _tokenizer(filtered: bool = False):
    from markdown_it import MarkdownIt  # imported on use: most checks never tokenise

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # report what the author wrote, not what markdown-it keeps
    if filtered:
        md.core.ruler.at("inline", _suspicious_inlines)
    return md


def _suspicious_inlines(state) -> None:
    """markdown-it's core `inline` rule, for the inline content that may hold a disallowed URL."""
    refs = state.env.get("references", {}).values()
    every = any(not allowed(ref.get("href", "")) for ref in refs)
    for token in state.tokens:
        if token.type == "inline" and (every or suspicious(token.content)):
            if token.children is None:
                token.children = []
            state.md.inline.parse(token.content, state.md, state.env, token.children)


def _html_urls(fragment: str) -> Iterator[tuple[int, str]]:
    from lxml import html as lxml_html

    try:
        elements = lxml_html.fragments_fromstring(fragment)
    except Exception:  # lxml refuses some odd fragments (a lone closing tag): nothing to check
        return
    for top in elements:
        if isinstance(top, str):
            continue
        for el in top.iter():
            for attr in LINK_ATTRS:
                value = el.get(attr)
                if value is not None:
                    yield (el.sourceline or 1) - 1, value


# ---- where internal links land ---------------------------------------------------------------

def html_links(fragment: str) -> list[str]:
    """href and src values of sanitised HTML (always double-quoted by nh3), unescaped."""
    return [html.unescape(v) if "&" in v else v for v in (m.group(2) for m in _ATTR.finditer(fragment))]


def target(url: str, page_url: str = "/", base_path: str = "/") -> str | None:
    """The output-relative path `url` lands on from `page_url`; None for external links and
    fragments; "" for a path outside the site's base path (it cannot exist)."""
    stripped = url.strip()
    if not stripped or stripped.startswith("#") or _SCHEME.match(stripped) or not allowed(url):
        return None  # a fragment, or a URL with a scheme: urljoin would keep it as it is
    parts = urlsplit(urljoin(base_path + page_url.lstrip("/"), stripped))
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if not path.startswith(base_path):
        return ""
    return path[len(base_path):] or "/"


def exists(rel: str, files: set[str]) -> bool:
    """Whether a static server would answer `rel` from these output files."""
    if rel == "":
        return False
    if rel == "/" or rel.endswith("/"):
        return (rel.lstrip("/") + "index.html") in files
    return rel in files or f"{rel}/index.html" in files


def crawl(output: Path, base_path: str = "/") -> list[tuple[str, str]]:
    """(page, url) for every internal href/src in a built tree that points at no file."""
    from lxml import html as lxml_html

    output = Path(output)
    files = {p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()}
    broken = []
    for page in sorted(f for f in files if f.endswith(".html")):
        doc = lxml_html.fromstring((output / page).read_bytes())
        page_url = "/" + (page[: -len("index.html")] if page.endswith("index.html") else page)
        for url in _attr_values(doc):
            rel = target(url, page_url, base_path)
            if rel is not None and not exists(rel, files):
                broken.append((page, url))
    return broken


def _attr_values(doc) -> Iterable[str]:
    for attr in ("href", "src"):
        yield from doc.xpath(f"//@{attr}")
