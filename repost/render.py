"""Jinja environment (site layouts over the built-in theme), the output plan, and rendering.

`plan_outputs` is pure: the site model in, a list of `Output` records out (one per file, with the
template and its context). `render_output` turns one record into bytes. Collisions between any
two outputs (compared case-folded) fail the build naming both sources.
"""
from __future__ import annotations

import hashlib
import math
import traceback
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import jinja2
import markupsafe

from repost import feeds
from repost.records import CacheLost
from repost.config import Config
from repost.model import Post, Site
from repost.errors import ContentError, ErrorList

TEMPLATE_EXTENSIONS = ("html", "htm", "xml")
STRINGS = {  # interface words of the default theme, by language prefix
    "en": {"skip": "Skip to content", "home": "Home", "tags": "Tags", "archive": "Archive", "feed": "Feed",
           "newer": "Newer", "older": "Older", "page": "Page {n} of {total}", "min_read": "{n} min read",
           "reposted_from": "Reposted from", "original_author": "Author", "original_link": "Original",
           "original_date": "Originally published", "unknown_author": "unknown author",
           "permission": {"pending": "Permission to repost: pending", "granted": "Reposted with permission",
                          "public": "Public", "licensed": "Reposted under its license"},
           "tagged": "Posts tagged “{tag}”", "posts_count": "{n} posts", "not_found": "Page not found",
           "not_found_text": "Nothing lives at this address. Try the home page or the archive.",
           "read_more": "Read more", "prev_post": "Previous post", "next_post": "Next post", "nav": "Main",
           "license": "License", "curated_by": "Curated by", "all_tags": "All tags"},
    "zh": {"skip": "跳到正文", "home": "首页", "tags": "标签", "archive": "归档", "feed": "订阅",
           "newer": "较新", "older": "较早", "page": "第 {n} / {total} 页", "min_read": "约 {n} 分钟读完",
           "reposted_from": "转载自", "original_author": "作者", "original_link": "原文链接",
           "original_date": "原文发布于", "unknown_author": "作者未署名",
           "permission": {"pending": "转载授权:待确认", "granted": "已获作者授权转载",
                          "public": "公开内容", "licensed": "依许可协议转载"},
           "tagged": "标签“{tag}”下的文章", "posts_count": "{n} 篇文章", "not_found": "页面不存在",
           "not_found_text": "这个地址没有内容。可以回到首页或看看归档。",
           "read_more": "阅读全文", "prev_post": "上一篇", "next_post": "下一篇", "nav": "主导航",
           "license": "许可协议", "curated_by": "整理", "all_tags": "全部标签"},
}


MISSING = object()


@dataclass(frozen=True)
class Output:
    path: str  # output-relative POSIX path
    template: str
    context: Mapping[str, Any]
    source: str  # the file (or generator) that asked for it, for collision messages
    url: str = ""


@dataclass(frozen=True)
class Pagination:
    number: int
    total: int
    urls: tuple[str, ...]

    @property
    def prev_url(self) -> str | None:
        return self.urls[self.number - 2] if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.urls[self.number] if self.number < self.total else None


def theme_dir() -> Path:
    """The built-in theme (package data, also inside an installed wheel)."""
    return Path(str(resources.files("repost") / "theme"))


def make_env(config: Config) -> jinja2.Environment:
    """Autoescaping environment; the site's layouts override theme templates by name."""
    loaders = [jinja2.FileSystemLoader(str(config.paths.layouts)), jinja2.FileSystemLoader(str(theme_dir() / "templates"))]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(TEMPLATE_EXTENSIONS, default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build: no stat of the template file at every use
        cache_size=-1,  # a plain dict: Jinja's LRU cache takes a lock at every {% include %}
    )
    env.template_class = _Template
    env.filters.update(rfc3339=_once(feeds.rfc3339), rfc822=_once(feeds.rfc822), datefmt=_once(_datefmt(config)))
    return env


def _once(fmt: Callable[..., str]) -> Callable[..., str]:
    """`fmt`, computed once per value (an environment lives for one build, where every post's
    dates are formatted on its page, its neighbours', its listings and the feeds)."""
    memo: dict[tuple, tuple[Any, str]] = {}

    def once(value: Any, *args: Any, **kwargs: Any) -> str:
        key = (id(value), args, tuple(kwargs.items()))
        found = memo.get(key)
        if found is None or found[0] is not value:
            found = memo[key] = (value, fmt(value, *args, **kwargs))  # the value kept: its id stays its own
        return found[1]

    return once


class _Template(jinja2.Template):
    """A Jinja template whose printed values are escaped to plain strings. Jinja only ever yields
    or buffers what `{{ ... }}` prints, then joins it (a join makes a plain str of Markup parts
    too, and buffered output such as a macro's is wrapped in Markup by Jinja itself): a Markup
    object made for each of the hundred values a page prints was a tenth of rendering it."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):  # type: ignore[override]
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = _escape  # the name the compiled code prints through
        return super()._from_namespace(environment, namespace, globals)


try:
    from markupsafe._speedups import _escape_inner  # MarkupSafe 3: the C function escape wraps
except ImportError:  # pragma: no cover (MarkupSafe 2, or no compiler)
    def _escape_inner(text: str) -> str:
        return str(markupsafe.escape(text))


def _escape(value: object) -> str:
    """markupsafe.escape, as a str."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()  # type: ignore[union-attr]
    return _escape_inner(str(value))


def _datefmt(config: Config):
    chinese = config.language.lower().startswith(("zh", "ja"))

    def fmt(when: datetime, style: str = "long") -> str:
        if chinese:
            return f"{when.year}年{when.month}月{when.day}日" if style == "long" else f"{when.month:02d}-{when.day:02d}"
        return when.strftime("%-d %b %Y") if style == "long" else when.strftime("%b %d")

    return fmt


def strings(language: str) -> dict:
    return STRINGS.get(language.split("-")[0].lower(), STRINGS["en"])


# ---- plan ----------------------------------------------------------------------------------

def paginate(items: tuple, per_page: int, base_url: str, base_path: str) -> list[tuple[str, str, tuple, Pagination]]:
    """[(output path, url, items, pagination)]: page 1 at base, page n at base/page/n/."""
    total = max(1, math.ceil(len(items) / per_page))
    urls = tuple(base_url if n == 1 else f"{base_url}page/{n}/" for n in range(1, total + 1))
    pages = []
    for n in range(1, total + 1):
        path = f"{base_path}index.html" if n == 1 else f"{base_path}page/{n}/index.html"
        pages.append((path.lstrip("/"), urls[n - 1], items[(n - 1) * per_page:n * per_page], Pagination(n, total, urls)))
    return pages


def plan_outputs(site: Site, others: list[tuple[str, str]] = ()) -> list[Output]:
    """Every generated file of the site, in a deterministic order; raises on URL collisions,
    among them and with `others`, more files the output holds (path, source)."""
    config = site.config
    outs: list[Output] = []
    posts = site.posts
    for i, post in enumerate(posts):
        ctx = {"post": post, "newer": posts[i - 1] if i > 0 else None, "older": posts[i + 1] if i + 1 < len(posts) else None}
        outs.append(Output(post.output, "post.html", ctx, post.rel, post.url))
    for page in site.pages:
        outs.append(Output(page.output, "page.html", {"page": page}, page.rel, page.url))
    for path, url, chunk, pag in paginate(posts, config.paginate, "/", "/"):
        outs.append(Output(path, "index.html", {"posts": chunk, "pagination": pag}, "(home page)", url))
    outs.append(Output("tags/index.html", "tags.html", {}, "(tags index)", "/tags/"))
    for tag in site.tags:
        base = f"tags/{tag.slug}/"
        for path, url, chunk, pag in paginate(tag.posts, config.paginate, tag.url, base):
            outs.append(Output(path, "tag.html", {"tag": tag, "posts": chunk, "pagination": pag}, f"(tag {tag.name!r})", url))
    grouped = years(posts)
    outs.append(Output("archive/index.html", "archive.html", {"years": grouped, "year": None}, "(archive)", "/archive/"))
    for year, chunk in grouped:
        outs.append(Output(f"archive/{year}/index.html", "archive.html", {"years": [(year, chunk)], "year": year},
                           f"(archive {year})", f"/archive/{year}/"))
    outs.append(Output("404.html", "404.html", {}, "(404 page)", "/404.html"))
    feed_posts = posts[: config.feeds.limit]
    if config.feeds.atom:
        outs.append(Output("atom.xml", "atom.xml", {"posts": feed_posts}, "(atom feed)", "/atom.xml"))
    if config.feeds.rss:
        outs.append(Output("rss.xml", "rss.xml", {"posts": feed_posts}, "(rss feed)", "/rss.xml"))
    outs.append(Output("sitemap.xml", "sitemap.xml", {"entries": sitemap_entries(site, outs)}, "(sitemap)", "/sitemap.xml"))
    outs.append(Output("robots.txt", "robots.txt", {}, "(robots.txt)", "/robots.txt"))
    check_collisions([(o.path, o.source) for o in outs] + list(others))
    return outs


def years(posts: tuple[Post, ...]) -> list[tuple[int, list[Post]]]:
    grouped: dict[int, list[Post]] = {}
    for post in posts:
        grouped.setdefault(post.year, []).append(post)
    return sorted(grouped.items(), reverse=True)


def sitemap_entries(site: Site, outs: list[Output]) -> list[tuple[str, datetime | None]]:
    """(url, lastmod) for every HTML page except 404 and paginated tails."""
    latest = max((p.updated or p.date for p in site.posts), default=None)
    entries = []
    for out in outs:
        if not out.path.endswith(".html") or out.path == "404.html" or "/page/" in f"/{out.path}":
            continue
        item = out.context.get("post") or out.context.get("page")
        lastmod = (item.updated or item.date) if item is not None else latest
        entries.append((out.url, lastmod))
    return entries


def check_collisions(items: list[tuple[str, str]]) -> None:
    """Two outputs at one path, or a file where another needs a folder, fail naming both sources.

    Paths are compared case-folded, so the result is the same on macOS and Windows.
    """
    seen: dict[str, str] = {}
    errors = []
    for path, source in items:
        key = path.casefold()
        if key in seen:
            errors.append(_collision(seen[key], source, f"both produce /{path}"))
        else:
            seen[key] = source
    for path, source in items:
        parts = path.casefold().split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in seen:
                errors.append(_collision(seen[folder], source, f"/{folder} is a file but /{path} needs it as a folder"))
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)


def _collision(first: str, second: str, what: str) -> ContentError:
    """Blame a content file (not a generated page) so the message starts with a path to fix."""
    blamed = second if not second.startswith("(") else first
    return ContentError(None if blamed.startswith("(") else blamed, None, f"URL collision: {first} and {second}: {what}")


# ---- render --------------------------------------------------------------------------------

def newest(site: Site) -> datetime | None:
    """The `updated` template variable: when the newest post was published or updated."""
    return max((p.updated or p.date for p in site.posts), default=None)


def shared_context(site: Site, asset_hashes: Mapping[str, str], updated: Any = MISSING) -> dict[str, Any]:
    """Values every template sees: the site, the config, URL helpers and interface strings.
    `updated` is `newest(site)`, passed in when it is known without reading every post."""
    config = site.config
    base_path = urlsplit(config.base_url).path or "/"

    def url(path: str) -> str:
        return base_path + path.lstrip("/")

    def abs_url(path: str) -> str:
        return config.base_url + path.lstrip("/")

    def asset(name: str) -> str:
        digest = asset_hashes.get(name.lstrip("/"))
        return url(name) + (f"?v={digest}" if digest else "")

    def jsonld(post: Post) -> dict:
        return feeds.post_jsonld(post, site, abs_url)

    def feed_html(post: Post) -> str:
        return feeds.absolutize(post.body_html, abs_url(post.url))

    return {
        "site": site, "config": config, "url": url, "abs_url": abs_url, "asset": asset, "jsonld": jsonld,
        "feed_html": feed_html, "t": strings(config.language), "lang": config.language,
        "updated": newest(site) if updated is MISSING else updated,
    }


def render_output(env: jinja2.Environment, out: Output, shared: Mapping[str, Any]) -> bytes:
    """One planned file -> bytes; template errors become `template:line: message`."""
    try:
        template = env.get_template(out.template)
        text = template.render({**shared, **out.context, "current_url": out.url})
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(_template_path(exc.filename, exc.name), exc.lineno, f"template syntax error: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ContentError(None, None, f"template not found: {exc.name} (needed for /{out.path})") from None
    except (ContentError, CacheLost):
        raise
    except Exception as exc:
        path, line = _template_frame(exc)
        raise ContentError(path, line, f"template error while rendering /{out.path}: {type(exc).__name__}: {exc}") from None
    return text.encode("utf-8")


def _template_path(filename: str | None, name: str | None) -> str | None:
    return filename or name


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost traceback frame that is a template (Jinja maps those to template lines)."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt", ".htm")):
            found = (frame.filename, frame.lineno)
    return found


def asset_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]
