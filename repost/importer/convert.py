"""One dump -> ImportResult: decode -> lines -> detect and apply packs -> structure -> emit. Pure.

`import_dump` reads (when given a path) but never writes; the batch in `batch.py` decides what to
write. Everything the report shows is collected here.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from repost import safeyaml
from repost.errors import ContentError
from repost.importer import html as htmlmod
from repost.importer.apply import Removal, apply_packs
from repost.importer.blocks import looks_like_markdown, plain_text, split_lines
from repost.importer.decode import decode
from repost.importer.emit import body_fingerprint, render_post
from repost.importer.meta import clean_url, clean_value, parse_date, resolve_license
from repost.importer.packs import Packs, detect
from repost.importer.structure import to_markdown
from repost.slug import slugify

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".mhtml")
MD_SUFFIXES = (".md", ".markdown")
_PAGE_FIELDS = ("author", "published", "updated", "copyright", "license", "url", "site_name")
_FM_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class Report:
    """What the import of one dump found, kept and removed (printed per file by the CLI)."""

    source: str
    encoding: str
    kind: str                          # text | markdown | html
    platforms: tuple[str, ...]         # composed packs, best first
    title: str
    metadata: dict[str, tuple[Any, str]]  # field -> (value, where it came from)
    paragraphs: int
    removed: tuple[Removal, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    text: str                  # the whole post file: front matter + body
    slug: str
    front_matter: dict
    body: str
    report: Report
    sha256: str                # of the raw dump's bytes
    body_sha256: str = ""      # of the body's words: two dumps of one article share it


def _kind(name: str, text: str) -> str:
    low = name.lower()
    if low.endswith(HTML_SUFFIXES):
        return "html"
    if low.endswith(MD_SUFFIXES):
        return "markdown"
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")):
        return "html"
    return "text"


def import_dump(source: Path | bytes, packs: Packs, config: Any, *, name: str | None = None,
                platform: str | None = None, lossy: bool = False, now: datetime | None = None,
                origin: str | None = None) -> ImportResult:
    """Convert one raw dump. `origin` is the path recorded in `imported.from` (default: `name`)."""
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "dump.txt"
    else:
        path = Path(source)
        name = name or path.name
        cap = getattr(getattr(config, "import_", None), "max_size", 5 * 1024 * 1024)
        try:
            if path.stat().st_size > cap:  # refuse before reading: memory stays bounded
                raise ContentError(path, None, f"file is {path.stat().st_size:,} bytes, over the import size cap of {cap:,} bytes (import.max_size)")
            data = path.read_bytes()
        except OSError as exc:
            raise ContentError(path, None, f"cannot read: {exc.strerror}") from None
    max_size = getattr(getattr(config, "import_", None), "max_size", 5 * 1024 * 1024)
    sniff = name.lower().endswith(HTML_SUFFIXES) or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    decoded = decode(data, name, html=sniff, lossy=lossy, max_size=max_size)
    kind = _kind(name, decoded.text)
    warnings = list(decoded.warnings)
    given: dict[str, Any] = {}
    hints: dict[str, tuple[str, str]] = {}
    text = decoded.text
    html_source = ""
    if kind == "markdown":
        text, given = _split_front_matter(text, name)
    if kind == "html":
        html_source = text
        doc = htmlmod.parse(text, name)
        plains = htmlmod.page_text_lines(doc)
        chosen = detect(packs, plains, html_source, platform)
        platforms = tuple(p.name for p, _ in chosen if p.site_name is None and p.id != "generic")
        article = htmlmod.extract(doc, [p.html for p, _ in chosen], name, platforms)
        warnings.extend(article.warnings)
        hints = {k: (v, article.sources.get(k, "html")) for k, v in article.meta.items() if k != "page_title"}
        if "title" not in hints and article.meta.get("page_title"):
            hints["title"] = (_strip_site_suffix(article.meta["page_title"]), "<title>")
        text, markdown = article.markdown, True
    else:
        markdown = kind == "markdown" or looks_like_markdown(text)
    lines = split_lines(text, markdown)
    if kind != "html":
        chosen = detect(packs, [ln.plain for ln in lines if ln.plain] + [ln.raw for ln in lines if ln.raw != ln.plain], "", platform)
    pack_list = [p for p, _ in chosen]
    title_hint = given.get("title") or (hints.get("title") or (None,))[0]
    applied = apply_packs(lines, pack_list, markdown=markdown, title_hint=title_hint)
    body = to_markdown(applied.body, markdown)

    meta: dict[str, tuple[Any, str]] = {}
    if kind == "html":  # the page's chrome (bylines, notices) outside the article, read by the same rules
        page = apply_packs(split_lines("\n".join(plains), False), pack_list, markdown=False)
        for key, hit in page.meta.items():
            if key in _PAGE_FIELDS:
                meta[key] = (hit.value, f"rule {hit.rule} (page text)")
    for key, hit in applied.meta.items():
        meta[key] = (hit.value, f"rule {hit.rule} (line {hit.line})")
    for key, value in hints.items():  # the page's own metadata beats text rules
        meta[key] = value
    if given.get("title"):
        meta["title"] = (given["title"], "front matter")
    elif "title" not in hints and applied.title is not None:
        meta["title"] = (applied.title.value, f"rule {applied.title.rule} (line {applied.title.line})")
    primary = pack_list[0]
    title = clean_value(plain_text(str((meta.get("title") or (None,))[0] or "")))
    if not title:
        title = Path(name).stem
        warnings.append("no title found; using the file name")
    meta["title"] = (title, meta.get("title", (None, "file name"))[1])

    licenses = [lic for p in pack_list for lic in p.licenses]
    copyright_text = clean_value((meta.get("copyright") or (None,))[0], 500)
    license_name, permission = resolve_license(copyright_text, licenses, config.import_.default_permission)
    license_name = clean_value((meta.get("license") or (None,))[0]) or license_name
    published_raw = (meta.get("published") or (None,))[0]
    published = parse_date(published_raw)
    if published_raw and not published:
        warnings.append(f"publication date {published_raw!r} has no full date (no year?); left null")
    url = clean_url((meta.get("url") or (None,))[0])
    site_name = clean_value((meta.get("site_name") or (None,))[0]) or primary.site_name
    author = clean_value((meta.get("author") or (None,))[0], 120)
    platform_id = primary.id if primary.id != "generic" else "unknown"

    now = now or datetime.now(timezone.utc)
    tz = config.tz
    sha = hashlib.sha256(data).hexdigest()
    slug = slugify(title, config.slug, fallback_seed=sha)
    fm = {
        "title": title,
        "slug": given.get("slug") or slug,
        "date": given.get("date") or now.astimezone(tz).replace(microsecond=0).isoformat(),
        "tags": list(given.get("tags") or []),
        "summary": given.get("summary"),
        "source": {
            "platform": platform_id,
            "site_name": site_name,
            "author": author,
            "url": url,
            "published": published,
        },
        "copyright": copyright_text,
        "license": license_name,
        "permission": given.get("permission") or permission,
        "draft": bool(given.get("draft", False)),
        "imported": {
            "from": origin or name,
            "sha256": sha,
            "at": now.astimezone(timezone.utc).replace(microsecond=0).isoformat(),
            "encoding": decoded.encoding,
            "body_sha256": body_fingerprint(body),
            "output_sha256": "",
        },
    }
    _merge_given(fm, given)
    if not body.strip():
        raise ContentError(name, None, "nothing left of the article after removing the platform's chrome")
    _warn_meta(fm, primary.id, body, warnings)
    shown = _shown(meta, fm, primary)
    report = Report(
        source=origin or name, encoding=decoded.encoding, kind=kind,
        platforms=tuple(p.id for p in pack_list), title=title, metadata=shown,
        paragraphs=sum(1 for b in re.split(r"\n\s*\n", body) if b.strip()),
        removed=tuple(applied.removals), warnings=tuple(warnings),
    )
    text_out = render_post(fm, body)
    return ImportResult(text_out, fm["slug"], fm, body, report, sha, fm["imported"]["body_sha256"])


def _shown(meta: dict[str, tuple[Any, str]], fm: dict, primary: Any) -> dict[str, tuple[Any, str]]:
    """What went into the front matter (the values as written) and where each came from."""
    src = fm["source"]
    values = {"title": fm["title"], "author": src["author"], "site_name": src["site_name"], "url": src["url"],
              "published": src["published"], "copyright": fm["copyright"], "license": fm["license"]}
    shown: dict[str, tuple[Any, str]] = {}
    for key, value in values.items():
        if value:
            where = meta[key][1] if key in meta else ("the notice" if key == "license" else f"pack {primary.id}")
            shown[key] = (value, where)
    for key in ("updated", "subtitle"):  # found, not in the front matter: shown as found
        if key in meta:
            value = parse_date(meta[key][0]) if key == "updated" else clean_value(meta[key][0])
            shown[key] = (value or clean_value(meta[key][0]), meta[key][1])
    return shown


def _merge_given(fm: dict, given: dict) -> None:
    """A Markdown dump's own front matter wins; the importer only fills what is missing."""
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(fm.get(key), dict):
            for sub, subval in value.items():
                if key != "imported":
                    fm[key][sub] = subval
        elif key != "imported":
            fm[key] = value


def _warn_meta(fm: dict, platform: str, body: str, warnings: list[str]) -> None:
    if platform == "medium" and body.rstrip().endswith("…"):
        warnings.append("the body ends with '…': probably a paywalled preview, not the whole article")
    if fm["source"]["author"] is None:
        warnings.append("no author found in the dump (source.author is null)")


def _strip_site_suffix(title: str) -> str:
    """'Title - 简书', 'Title_CSDN博客', 'Title | Site' -> 'Title': only the last short segment goes."""
    m = re.match(r"^(.{2,}?)(?:\s+[-–—|]\s+|_)([^-–—|_]{1,30})$", title)
    return m.group(1).strip() if m else title


def _split_front_matter(text: str, name: str) -> tuple[str, dict]:
    m = _FM_RE.match(text)
    if not m:
        return text, {}
    doc = safeyaml.load(m.group(1) or "", name, 2)
    if doc.data is None:
        return text[m.end():], {}
    if not isinstance(doc.data, dict):
        raise ContentError(name, 2, "front matter must be a mapping of keys to values")
    return text[m.end():], doc.data
