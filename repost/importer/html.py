"""Saved HTML pages -> (metadata, Markdown of the article), on lxml.

The article is found with the pack's CSS selectors, else with a small readability-style scorer.
Scripts, styles, frames, forms and every attribute except safe link and image URLs are dropped
before conversion, so nothing executable reaches the Markdown. Metadata comes from the pack's
selectors, JSON-LD, `og:`/`article:` and `<meta>` tags and `rel=canonical`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from repost.errors import ContentError
from repost.importer.structure import escape_inline, escape_line_start

_DROP_TAGS = ("script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
              "input", "button", "select", "textarea", "template", "svg", "math", "link", "meta", "base", "canvas",
              "audio", "video", "source", "track", "nav", "dialog")
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "aside", "h1", "h2", "h3", "h4", "h5",
               "h6", "ul", "ol", "li", "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
               "figure", "figcaption", "hr", "dl", "dt", "dd", "center", "address", "details", "summary", "body", "html"}
_NOISE_RE = re.compile(r"comment|sidebar|footer|share|related|recommend|advert|\bads?\b|banner|popup|modal|toolbar|"
                       r"breadcrumb|menu|login|subscribe|social|widget|qrcode|qr_code", re.I)
_IMG_ATTRS = ("data-src", "data-original", "data-actualsrc", "data-lazy-src", "src")


@dataclass
class HtmlArticle:
    markdown: str
    meta: dict[str, str] = field(default_factory=dict)   # field -> value
    sources: dict[str, str] = field(default_factory=dict)  # field -> where it came from
    warnings: list[str] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)   # whole-page visible text, for detection


def parse(text: str, path: str | None = None):
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ContentError(path, None, f"cannot parse HTML: {exc}") from None


def page_text_lines(doc) -> list[str]:
    """Visible text of the whole page, one line per block (inline elements stay on their line), for
    pack detection and for the rules that read bylines and notices outside the article."""
    body = doc.find("body")
    root = body if body is not None else doc
    hidden = {"script", "style", "noscript", "template", "svg", "head", "title"}
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = " ".join("".join(buf).split())
        if line:
            lines.append(line)
        buf.clear()

    buf.append(root.text or "")
    stack = [(root, iter(root))]  # iterative: deeply nested pages must not hit the recursion limit
    while stack:
        el, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if el.tag in _BLOCK_TAGS:
                flush()
            if stack:
                buf.append(el.tail or "")
            continue
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag or tag in hidden:  # comments, processing instructions, scripts: only their tail
            buf.append(child.tail or "")
            continue
        if tag in _BLOCK_TAGS or tag == "br":
            flush()
        buf.append(child.text or "")
        stack.append((child, iter(child)))
    flush()
    return lines


def extract(doc, selectors: list[dict[str, tuple[str, ...]]], path: str | None = None,
            platforms: tuple[str, ...] = ()) -> HtmlArticle:
    """Metadata and the article's Markdown; `selectors` are the composed packs' html sections, best first.
    `platforms`: names of the platforms (not sites) the page is on, e.g. "Medium": never the site name."""
    result = HtmlArticle("")
    result.text_lines = page_text_lines(doc)
    _head_meta(doc, result, {p.casefold() for p in platforms})
    for sel in selectors:
        for key in ("title", "author", "site_name", "published"):
            for css in sel.get(key, ()):
                value = _select_text(doc, css, attr_date=(key == "published"))
                if value and key not in result.sources.get("_pack", ""):
                    result.meta[key] = value
                    result.sources[key] = f"html selector {css}"
                    result.sources["_pack"] = result.sources.get("_pack", "") + key
                    break
    result.sources.pop("_pack", None)
    if "title" not in result.meta:
        page_title = result.meta.get("page_title", "")
        h1s = [" ".join(h.text_content().split()) for h in doc.iter("h1")]
        h1s = [h for h in h1s if h]
        pick = next((h for h in h1s if h in page_title), h1s[0] if len(h1s) == 1 else None)
        if pick:
            result.meta["title"], result.sources["title"] = pick, "h1"
    body = _pick_body(doc, selectors)
    if body is None:
        raise ContentError(path, None, "no article text found in the HTML page")
    for sel in selectors:
        for css in sel.get("drop", ()):
            for el in body.cssselect(css):
                if el is not body and el.getparent() is not None:
                    el.drop_tree()
    _sanitize(body)
    base = result.meta.get("url")
    result.markdown = _Converter(base, result.warnings).convert(body)
    return result


def _select_text(doc, css: str, attr_date: bool = False) -> str | None:
    for el in doc.cssselect(css):
        if attr_date:
            for attr in ("datetime", "content", "data-time"):
                if el.get(attr):
                    return el.get(attr).strip()
        text = " ".join(el.text_content().split())
        if text:
            return text
    return None


def _head_meta(doc, result: HtmlArticle, platforms: set[str] = frozenset()) -> None:
    meta = {}
    for el in doc.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key and el.get("content") and key not in meta:
            meta[key] = " ".join(el.get("content").split())
    found = result.meta
    src = result.sources

    def put(field_name: str, value, where: str) -> None:
        if isinstance(value, str) and value.strip() and field_name not in found:
            found[field_name] = " ".join(value.split())
            src[field_name] = where

    ld = _json_ld(doc)
    for el in doc.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split() and _is_http(el.get("href")):
            put("url", el.get("href").strip(), "rel=canonical")
    put("url", meta.get("og:url") if _is_http(meta.get("og:url")) else None, "og:url")
    put("url", ld.get("url") if _is_http(ld.get("url")) else None, "JSON-LD url")
    put("title", meta.get("og:title"), "og:title")
    put("title", ld.get("headline"), "JSON-LD headline")
    put("author", ld.get("author"), "JSON-LD author")
    put("author", meta.get("author"), "meta author")
    author = meta.get("article:author")
    put("author", author if author and not _is_http(author) else None, "article:author")
    for value, where in ((meta.get("og:site_name"), "og:site_name"), (ld.get("publisher"), "JSON-LD publisher")):
        if isinstance(value, str) and value.strip().casefold() not in platforms:
            put("site_name", value, where)
    put("published", meta.get("article:published_time"), "article:published_time")
    put("published", ld.get("datePublished"), "JSON-LD datePublished")
    put("published", meta.get("pubdate") or meta.get("publishdate") or meta.get("date"), "meta date")
    title = doc.find(".//title")
    if title is not None and title.text_content().strip():
        result.meta.setdefault("page_title", " ".join(title.text_content().split()))


def _json_ld(doc) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in doc.iter("script"):
        if (el.get("type") or "").lower() != "application/ld+json" or not el.text:
            continue
        try:
            data = json.loads(el.text)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in items:
            if not isinstance(item, dict) or "headline" not in item and "datePublished" not in item:
                continue
            for key in ("headline", "datePublished", "url"):
                if isinstance(item.get(key), str):
                    out.setdefault(key, item[key])
            for key in ("author", "publisher"):
                value = item.get(key)
                value = value[0] if isinstance(value, list) and value else value
                name = value.get("name") if isinstance(value, dict) else value
                if isinstance(name, str):
                    out.setdefault(key, name)
    return out


def _is_http(value) -> bool:
    return isinstance(value, str) and urlsplit(value.strip()).scheme in ("http", "https") and bool(urlsplit(value.strip()).netloc)


def _pick_body(doc, selectors):
    for sel in selectors:
        for css in sel.get("body", ()):
            for el in doc.cssselect(css):
                if len(el.text_content().strip()) >= 20 or el.find(".//img") is not None:
                    return el
    return _readability(doc)


def _readability(doc):
    """Score containers by the paragraph text they hold; the best one is the article."""
    body = doc.find("body")
    if body is None:
        return None
    for el in list(body.iter(*_DROP_TAGS, "header", "footer", "aside")):
        if el.getparent() is not None:
            el.drop_tree()
    for el in list(body.iter("div", "section", "ul", "p")):
        label = f"{el.get('class', '')} {el.get('id', '')}"
        if _NOISE_RE.search(label) and not re.search(r"article|content|post|entry|main|body", label, re.I):
            if el.getparent() is not None:
                el.drop_tree()
    scores: dict = {}
    for p in body.iter("p", "pre", "blockquote", "h2", "h3", "li"):
        text = p.text_content().strip()
        if len(text) < 20:
            continue
        score = 1 + len(re.findall(r"[,，。.、;；]", text)) + min(len(text) // 100, 3)
        parent = p.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + score
            grand = parent.getparent()
            if grand is not None:
                scores[grand] = scores.get(grand, 0) + score / 2
    if not scores:
        return body if body.text_content().strip() else None
    best = max(scores, key=lambda el: scores[el])
    for article in body.iter("article"):
        if scores.get(article, 0) >= 0.7 * scores[best] or best in article.iterancestors() or article in best.iterancestors():
            return article if len(article.text_content()) >= 0.5 * len(best.text_content()) else best
    return best


def _sanitize(body) -> None:
    for el in list(body.iter("source", "track")):  # void in HTML5, but libxml2 nests what follows in them
        if el is not body and el.getparent() is not None:
            el.drop_tag()
    for el in list(body.iter(*_DROP_TAGS)):
        if el is not body and el.getparent() is not None:
            el.drop_tree()
    for el in body.iter(etree.Element):
        for attr in list(el.attrib):
            if attr.lower().startswith("on") or attr.lower() == "style":
                del el.attrib[attr]
    comments = [c for c in body.iter(etree.Comment)]
    for c in comments:
        if c.getparent() is not None:
            c.drop_tree()


class _Converter:
    """A small HTML -> Markdown walker: blocks become paragraphs, inline markup stays inline."""

    def __init__(self, base: str | None, warnings: list[str]):
        self.base = base
        self.warnings = warnings

    def convert(self, root) -> str:
        blocks = [b for b in self.blocks(root) if b.strip()]
        return "\n\n".join(blocks) + "\n"

    def blocks(self, el) -> list[str]:
        out: list[str] = []
        buf: list[str] = []

        def flush():
            text = re.sub(r" {2,}", " ", "".join(buf)).strip()
            if text:
                out.append(escape_line_start(text))
            buf.clear()

        if el.text:
            buf.append(escape_inline(_ws(el.text)))
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _BLOCK_TAGS or tag == "br":
                flush()
                if tag != "br":
                    out.extend(self.block(child, tag))
            else:
                buf.append(self.inline(child))
            if child.tail:
                buf.append(escape_inline(_ws(child.tail)))
        flush()
        return out

    def block(self, el, tag: str) -> list[str]:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = " ".join(self.inline_of(el).split())
            return [f"{'#' * int(tag[1])} {text}"] if text else []
        if tag == "pre":
            code = _pre_text(el).strip("\n")
            fence = "```"
            while fence in code:
                fence += "`"
            lang = re.search(r"(?:lang|language)-([\w+-]+)", " ".join(filter(None, [el.get("class"), *(c.get("class") or "" for c in el.iter("code"))])))
            return [f"{fence}{lang.group(1) if lang else ''}\n{code}\n{fence}"] if code.strip() else []
        if tag in ("ul", "ol"):
            items = []
            for n, li in enumerate(el.findall("li"), start=1):
                inner = self.blocks(li)
                if not inner:
                    continue
                marker = f"{n}. " if tag == "ol" else "- "
                first, rest = inner[0], inner[1:]
                items.append(marker + first + "".join("\n\n    " + b.replace("\n", "\n    ") for b in rest))
            return ["\n".join(items)] if items else []
        if tag == "blockquote":
            inner = self.blocks(el)
            return ["\n>\n".join("> " + b.replace("\n", "\n> ") for b in inner)] if inner else []
        if tag == "hr":
            return ["---"]
        if tag == "tr":
            cells = [" ".join(self.inline_of(c).split()) for c in el if isinstance(c.tag, str)]
            row = " | ".join(c for c in cells if c)
            return [row] if row else []
        return self.blocks(el)

    def inline_of(self, el) -> str:
        parts = [escape_inline(_ws(el.text or ""))]
        for child in el:
            parts.append(self.inline(child))
            if child.tail:
                parts.append(escape_inline(_ws(child.tail)))
        return "".join(parts)

    def inline(self, el) -> str:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "img":
            return self.image(el)
        inner = self.inline_of(el)
        if tag in ("strong", "b") and inner.strip():
            return f"**{inner.strip()}**"
        if tag in ("em", "i") and inner.strip():
            return f"*{inner.strip()}*"
        if tag == "code" and inner.strip():
            code = el.text_content()
            ticks = "``" if "`" in code else "`"
            return f"{ticks}{code}{ticks}"
        if tag == "a":
            href = self.url(el.get("href"))
            text = inner.strip()
            return f"[{text}]({href})" if href and text else inner
        return inner

    def image(self, el) -> str:
        for attr in _IMG_ATTRS:
            raw = el.get(attr)
            if raw and not raw.startswith("data:"):
                url = self.url(raw, what="image")
                if url:
                    alt = escape_inline(" ".join((el.get("alt") or "").split())).replace("]", "\\]")
                    return f"![{alt}]({url})"
                return ""
        return ""

    def url(self, raw: str | None, what: str = "link") -> str | None:
        """http(s) URLs only (relative ones resolved against the canonical URL); others are dropped with a warning."""
        if not raw or not raw.strip():
            return None
        raw = raw.strip()
        if raw.startswith("#"):
            return None
        parts = urlsplit(raw)
        if parts.scheme in ("http", "https") and parts.netloc:
            return raw.replace(" ", "%20").replace(")", "%29")
        unsafe = "\\" in raw or ".." in raw.replace("\\", "/").split("/")
        if parts.scheme == "" and raw.startswith("//") and not unsafe:
            return "https:" + raw.replace(" ", "%20")
        if parts.scheme == "" and self.base and not unsafe:
            return urljoin(self.base, raw).replace(" ", "%20")
        if parts.scheme == "mailto" and what == "link":
            return raw
        if parts.scheme.lower().strip() in ("javascript", "vbscript", "data") and what == "link":
            return None
        self.warnings.append(f"dropped {what} reference {raw[:100]!r} (not an http(s) URL; local files are never copied)")
        return None


def _pre_text(el) -> str:
    """The text of a <pre>, with <br> as a line break (Medium writes its code lines that way)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag == "br":
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_pre_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _ws(text: str) -> str:
    return re.sub(r"[ \t\r\n\u00a0]+", " ", text)
