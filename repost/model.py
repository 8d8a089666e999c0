"""The site model: what is published, as the renderer and the build cache see it.

Records are frozen dataclasses so that the cache can keep them and pages can share them;
`build_model` is the one place that decides what a build publishes (drafts, future and pending
posts left out) and how tags group, so `build`, `check` and `serve` agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import quote

from repost.config import Config
from repost.slug import slugify


@dataclass(frozen=True)
class Source:
    """Where a repost came from."""

    platform: str | None = None
    site_name: str | None = None
    author: str | None = None
    url: str | None = None
    published: datetime | None = None
    title: str | None = None


@dataclass(frozen=True)
class Post:
    path: Path
    rel: str  # path shown in messages (relative to the site root)
    title: str
    slug: str
    date: datetime  # aware, in the site timezone
    updated: datetime | None
    tags: tuple[str, ...]
    body_html: str
    summary_html: str
    description: str  # plain-text summary for meta tags and feeds
    reading_minutes: int
    url: str  # site path, percent-encoded, e.g. /posts/x/
    output: str  # output file, e.g. posts/x/index.html
    draft: bool = False
    source: Source | None = None
    copyright: str | None = None
    license: str | None = None
    permission: str | None = None
    imported: dict | None = None
    lang: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def is_repost(self) -> bool:
        return self.source is not None

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(frozen=True)
class Page:
    path: Path
    rel: str
    title: str
    slug: str
    body_html: str
    description: str
    url: str
    output: str
    date: datetime | None = None
    updated: datetime | None = None
    draft: bool = False
    lang: str | None = None
    menu: bool = True
    weight: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tag:
    name: str
    slug: str
    url: str
    posts: tuple[Post, ...]


@dataclass(frozen=True)
class Site:
    config: Config
    posts: tuple[Post, ...]  # published, newest first
    pages: tuple[Page, ...]
    tags: tuple[Tag, ...]  # sorted by name
    skipped: tuple[str, ...] = ()  # log lines for drafts/future posts left out
    tag_of: Mapping[str, Tag] = field(default_factory=dict)  # every tag name as written -> its Tag


TAG_SLUGS: dict[tuple[str, str], str] = {}  # (style, name) -> slug: memo, kept by the build cache


def tag_slug(config: Config, name: str) -> str:
    """Memoised: every post names its tags, and a pinyin slug needs the pinyin dictionaries."""
    key = (config.slug, name)
    slug = TAG_SLUGS.get(key)
    if slug is None:
        slug = TAG_SLUGS[key] = slugify(name, config.slug, fallback_seed=name)
    return slug


def build_model(config: Config, posts: Iterable[Post], pages: Iterable[Page], *, drafts: bool = False,
                now: datetime | None = None) -> Site:
    """Choose what is published and group it: drafts, future posts, tags; newest first."""
    now = (now or datetime.now(config.tz)).astimezone(config.tz)
    shown: list[Post] = []
    skipped: list[str] = []
    for post in posts:
        if post.draft and not drafts:
            skipped.append(f"{post.rel}: draft, skipped (build with --drafts to include it)")
        elif post.date > now:
            skipped.append(f"{post.rel}: dated {post.date.isoformat()} (in the future), skipped")
        elif post.permission == "pending" and not config.policy.publish_pending:
            skipped.append(f"{post.rel}: permission pending and policy.publish_pending is false, skipped")
        else:
            shown.append(post)
    shown.sort(key=lambda p: (p.date, p.slug), reverse=True)
    kept_pages = sorted((p for p in pages if drafts or not p.draft), key=lambda p: (p.weight, p.title, p.rel))
    tags = _tags(config, shown)
    by_key = {tag_slug(config, t.name).casefold(): t for t in tags}
    tag_of = {name: by_key[tag_slug(config, name).casefold()] for post in shown for name in post.tags}
    return Site(config=config, posts=tuple(shown), pages=tuple(kept_pages), tags=tags, skipped=tuple(skipped), tag_of=tag_of)


def _tags(config: Config, posts: list[Post]) -> tuple[Tag, ...]:
    """Group posts by tag slug (case-folded), so `Python` and `python` are one tag."""
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for post in posts:
        for name in post.tags:
            key = tag_slug(config, name).casefold()
            groups.setdefault(key, []).append(post)
            names[key] = min(names.get(key, name), name)
    tags = []
    for key, members in groups.items():
        slug = tag_slug(config, names[key])
        tags.append(Tag(names[key], slug, quote(f"/tags/{slug}/", safe="/-._~"), tuple(members)))
    return tuple(sorted(tags, key=lambda t: (t.name.casefold(), t.name)))
