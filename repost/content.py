"""Collect post and page files and parse each into a record (`model.Post`, `model.Page`).

`parse_post`/`parse_page` are pure per-file functions (text in, record out) so that a cache can
memoise them; `load_site` is collect -> parse -> model (`model.build_model`).
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from repost import frontmatter, markup
from repost.config import PERMISSIONS, Config
from repost.errors import ContentError, ErrorList
from repost.model import Page, Post, Site, Source, build_model
from repost.slug import RESERVED, WINDOWS_RESERVED, check_slug, slugify
from repost.text import reading_minutes, sanitised_text, truncate
from repost.ui import UI, quiet_ui

POST_KEYS = frozenset("title slug date updated tags summary description source copyright license permission draft imported lang".split())
PAGE_KEYS = frozenset("title slug permalink date updated summary description draft lang menu weight".split())
SOURCE_KEYS = frozenset("platform site_name author url published title".split())


# ---- collect -------------------------------------------------------------------------------

def collect(config: Config, ui: UI | None = None) -> tuple[list[Path], list[Path]]:
    """Post and page files, sorted; symlinks are not followed (Jekyll safe mode)."""
    ui = ui or quiet_ui()
    return _md_files(config.paths.posts, True, ui), _md_files(config.paths.pages, False, ui)


def _md_files(folder: Path, recursive: bool, ui: UI) -> list[Path]:
    found: list[Path] = []
    if not folder.is_dir():
        return found
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:  # the entry types come with the listing: no stat each
            listing = sorted(entries, key=lambda e: e.name)
        child = getattr(current, "_make_child_relpath", current.joinpath)  # the fast way pathlib lists folders
        for entry in listing:
            name = entry.name
            if name.startswith((".", "_")) or name.endswith("~"):
                continue
            path = child(name)
            if entry.is_symlink():
                ui.warn(f"{path}: symlink not followed")
            elif entry.is_dir(follow_symlinks=False):
                if recursive:
                    stack.append(path)
            elif entry.is_file(follow_symlinks=False) and os.path.splitext(name)[1].lower() in (".md", ".markdown"):
                found.append(path)
    return sorted(found)


def read_text(path: Path, rel: str) -> str:
    try:
        return decode(path.read_bytes(), rel)
    except OSError as exc:
        raise ContentError(rel, None, f"cannot read: {exc.strerror}") from None


def decode(data: bytes, rel: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(rel, None, f"not UTF-8 (byte {exc.start}: {exc.reason}); re-save it as UTF-8") from None


# ---- parse (pure) --------------------------------------------------------------------------

class _Fields:
    """Typed access to front matter values; every error names the key's line."""

    def __init__(self, doc: frontmatter.Document, rel: str, allowed: frozenset):
        self.doc, self.rel, self.warnings = doc, rel, []
        for key in doc.meta:
            if key not in allowed:
                self.warnings.append(f"{rel}:{doc.line_of(key)}: unknown front matter key '{key}' (ignored)")

    def error(self, key: Any, msg: str) -> ContentError:
        keys = key if isinstance(key, tuple) else (key,)
        return ContentError(self.rel, self.doc.line_of(*keys), msg)

    def text(self, key: str, required: bool = False, data: dict | None = None, where: tuple = ()) -> str | None:
        data = self.doc.meta if data is None else data
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise self.error(where + (key,), f"'{'.'.join(map(str, where + (key,)))}' must be text, not {type(value).__name__}")
        text = unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""
        if not text:
            if required:
                raise self.error(where + (key,), f"missing '{key}'")
            return None
        return text

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.doc.meta.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"'{key}' must be true or false, not {value!r}")
        return value

    def when(self, key: str, tz, required: bool = False, data: dict | None = None, where: tuple = ()) -> datetime | None:
        raw = self.text(key, required, data, where)
        if raw is None:
            return None
        parsed = parse_date(raw)
        if parsed is None:
            raise self.error(where + (key,), f"'{key}' is not a date: {raw!r} (use e.g. 2026-11-27T13:20:00+08:00)")
        if parsed.tzinfo is None:
            self.warnings.append(f"{self.rel}:{self.doc.line_of(*(where + (key,)))}: '{key}' has no time zone; using {tz.key}")
            parsed = parsed.replace(tzinfo=tz)
        return parsed

    def tags(self) -> tuple[str, ...]:
        value = self.doc.meta.get("tags")
        if value is None:
            return ()
        items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
        if not isinstance(items, list):
            raise self.error("tags", "'tags' must be a list of names")
        out: list[str] = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                raise self.error(("tags", i), f"tag {item!r} must be non-empty text")
            name = unicodedata.normalize("NFC", str(item)).strip()
            if name not in out:
                out.append(name)
        return tuple(out)


def parse_date(raw: str) -> datetime | None:
    """ISO 8601 date or datetime (a date alone means midnight); naive when no zone is given."""
    text = raw.strip().replace("/", "-")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time())
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def parse_post(config: Config, path: Path, rel: str, text: str) -> Post:
    """One post file -> Post (pure: the same text and config give the same Post)."""
    doc = frontmatter.split(text, rel)
    f = _Fields(doc, rel, POST_KEYS)
    tz = config.tz
    title = f.text("title", required=True)
    when = f.when("date", tz, required=True).astimezone(tz)
    updated = f.when("updated", tz)
    slug = _slug(config, f, title, rel)
    body, bare, summary_html = _body_and_summary(doc, f, rel)
    plain = sanitised_text(bare)
    summary_src = f.text("summary")
    if summary_src:
        summary_html = markup.render_markdown(summary_src)
    description = f.text("description") or truncate(sanitised_text(summary_html) if summary_html else plain, config.summary_length)
    if not summary_html:
        summary_html = f"<p>{_esc(truncate(plain, config.summary_length))}</p>" if plain else ""
    url, output = post_url(config, slug, when)
    permission = _permission(f)
    return Post(
        path=path, rel=rel, title=title, slug=slug, date=when, updated=updated.astimezone(tz) if updated else None,
        tags=f.tags(), body_html=body, summary_html=summary_html, description=description,
        reading_minutes=reading_minutes(plain), url=url, output=output, draft=f.flag("draft"),
        source=_source(f, tz), copyright=f.text("copyright"), license=f.text("license"), permission=permission,
        imported=_mapping(f, "imported"), lang=f.text("lang"), warnings=tuple(f.warnings),
    )


def parse_page(config: Config, path: Path, rel: str, text: str) -> Page:
    """One page file (about, ...) -> Page; its URL is `permalink`, else /<slug>/."""
    doc = frontmatter.split(text, rel)
    f = _Fields(doc, rel, PAGE_KEYS)
    title = f.text("title", required=True)
    slug = check_slug(f.text("slug") or unicodedata.normalize("NFC", path.stem), rel, doc.line_of("slug"))
    body, bare = _render(doc.body, rel, doc.body_line)
    permalink = f.text("permalink") or f"/{slug}/"
    url, output = _page_url(permalink, f)
    weight = _weight(f)
    tz = config.tz
    date_ = f.when("date", tz)
    return Page(
        path=path, rel=rel, title=title, slug=slug, body_html=body,
        description=f.text("description") or truncate(sanitised_text(bare), config.summary_length),
        url=url, output=output, date=date_.astimezone(tz) if date_ else None, updated=f.when("updated", tz),
        draft=f.flag("draft"), lang=f.text("lang"), menu=f.flag("menu", True), weight=weight, warnings=tuple(f.warnings),
    )


def _slug(config: Config, f: _Fields, title: str, rel: str) -> str:
    given = f.text("slug")
    if given is not None:
        return check_slug(given, rel, f.doc.line_of("slug"))
    slug = slugify(title, config.slug, fallback_seed=rel)
    if not any(ch.isalnum() for ch in title):
        f.warnings.append(f"{rel}:{f.doc.line_of('title')}: title gives no slug; using {slug!r} (set 'slug' to choose one)")
    elif slug.endswith("-post") and slug[:-5] in RESERVED | WINDOWS_RESERVED and not re.search(r"post\W*$", title, re.I):
        f.warnings.append(f"{rel}:{f.doc.line_of('title')}: slug {slug[:-5]!r} is reserved; using {slug!r} (set 'slug' to choose one)")
    return check_slug(slug, rel, f.doc.line_of("title"))


def _body_and_summary(doc: frontmatter.Document, f: _Fields, rel: str) -> tuple[str, str, str]:
    """The body's HTML, the same before highlighting (see `markup.render_parts`), the summary's HTML."""
    parts = markup.split_more(doc.body)
    if parts is None:
        return (*_render(doc.body, rel, doc.body_line), "")
    before, after = parts
    return (*_render(before + "\n\n" + after, rel, doc.body_line), _render(before, rel, doc.body_line)[0])


def _render(text: str, rel: str, line: int) -> tuple[str, str]:
    try:
        return markup.render_parts(text)
    except markup.MarkupTimeout as exc:
        raise ContentError(rel, line, str(exc)) from None
    except RecursionError:
        raise ContentError(rel, line, "Markdown nested too deeply to render") from None


def _source(f: _Fields, tz) -> Source | None:
    data = f.doc.meta.get("source")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise f.error("source", "'source' must be a mapping (platform, site_name, author, url, published)")
    for key in data:
        if key not in SOURCE_KEYS:
            f.warnings.append(f"{f.rel}:{f.doc.line_of('source', key)}: unknown key 'source.{key}' (ignored)")
    url = f.text("url", data=data, where=("source",))
    if url and not re.match(r"^https?://[^\s/]+", url):
        raise f.error(("source", "url"), f"'source.url' must be an absolute http(s) URL, not {url!r}")
    published = f.when("published", tz, data=data, where=("source",))
    values = {k: f.text(k, data=data, where=("source",)) for k in ("platform", "site_name", "author", "title")}
    return Source(url=url, published=published, **values)


def _mapping(f: _Fields, key: str) -> dict | None:
    value = f.doc.meta.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise f.error(key, f"'{key}' must be a mapping")
    return {str(k): v for k, v in value.items()}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- URLs ----------------------------------------------------------------------------------

def post_url(config: Config, slug: str, when: datetime) -> tuple[str, str]:
    path = config.permalink.format(slug=slug, year=f"{when.year:04d}", month=f"{when.month:02d}", day=f"{when.day:02d}")
    return quote(path, safe="/-._~"), path.strip("/") + "/index.html"


def _page_url(permalink: str, f: _Fields) -> tuple[str, str]:
    if not (permalink.startswith("/") and permalink.endswith("/")) or permalink == "/" or "//" in permalink:
        raise f.error("permalink", f"page permalink must start and end with one '/' and not be '/', not {permalink!r}")
    for part in permalink.strip("/").split("/"):
        check_slug(part, f.rel, f.doc.line_of("permalink"))
    return quote(permalink, safe="/-._~"), permalink.strip("/") + "/index.html"


# ---- load ----------------------------------------------------------------------------------

def parse_files(config: Config, post_files: list[Path], page_files: list[Path], ui: UI | None = None,
                ) -> tuple[list[Post], list[Page]]:
    """Parse every file; all errors are raised together, warnings are shown once."""
    ui = ui or quiet_ui()
    posts, pages, errors = [], [], []
    for files, parse, into in ((post_files, parse_post, posts), (page_files, parse_page, pages)):
        for path in files:
            rel = config.rel(path)
            try:
                into.append(parse(config, path, rel, read_text(path, rel)))
            except ContentError as exc:
                errors.append(exc)
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    for record in [*posts, *pages]:
        for warning in record.warnings:
            ui.warn(warning)
    return posts, pages


def report_skipped(site: Site, ui: UI) -> None:
    """Future posts are said aloud (they surprise people); drafts only with -v."""
    for line in site.skipped:
        ui.info(line) if "future" in line else ui.detail(line)


def load_site(config: Config, *, drafts: bool = False, ui: UI | None = None, now: datetime | None = None) -> Site:
    """collect -> parse -> model; every file's error is reported at once."""
    ui = ui or quiet_ui()
    posts, pages = parse_files(config, *collect(config, ui), ui)
    site = build_model(config, posts, pages, drafts=drafts, now=now)
    report_skipped(site, ui)
    return site


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def front_matter_errors(config: Config, rel: str, text: str, *, page: bool = False) -> tuple[list[ContentError], list[str]]:
    """Every front matter error of one file at once, and its warnings (`repost check`).

    `parse_post`/`parse_page` stop at the first error; this runs the same field checks one by one.
    """
    try:
        doc = frontmatter.split(text, rel)
    except ContentError as exc:
        return [exc], []
    f = _Fields(doc, rel, PAGE_KEYS if page else POST_KEYS)
    tz = config.tz
    probes = [lambda: f.text("title", required=True), lambda: f.when("date", tz, required=not page),
              lambda: f.when("updated", tz), lambda: f.flag("draft"), lambda: f.text("lang"),
              lambda: f.text("description"), lambda: f.text("slug") and check_slug(f.text("slug"), rel, doc.line_of("slug"))]
    if page:
        probes += [lambda: f.flag("menu", True), lambda: _page_url(f.text("permalink") or "/x/", f), lambda: _weight(f)]
    else:
        probes += [f.tags, lambda: f.text("summary"), lambda: _source(f, tz), lambda: f.text("copyright"),
                   lambda: f.text("license"), lambda: _mapping(f, "imported"), lambda: _permission(f)]
    errors: list[ContentError] = []
    for probe in probes:
        try:
            probe()
        except ContentError as exc:
            if all(exc.format() != e.format() for e in errors):
                errors.append(exc)
    return errors, list(dict.fromkeys(f.warnings))


def _weight(f: _Fields) -> int:
    weight = f.doc.meta.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise f.error("weight", "'weight' must be an integer")
    return weight


def _permission(f: _Fields) -> str | None:
    permission = f.text("permission")
    if permission is not None and permission not in PERMISSIONS:
        raise f.error("permission", f"'permission' must be one of {', '.join(PERMISSIONS)}, not {permission!r}")
    return permission
