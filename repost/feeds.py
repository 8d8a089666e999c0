"""Machine-readable outputs' values: feed and sitemap dates, absolute links, JSON-LD.

The XML itself lives in the theme templates (atom.xml, rss.xml, sitemap.xml) so a site can
override it; these helpers keep the rules (offsets always explicit, links absolute) in one place.
"""
from __future__ import annotations

import html
import re
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

_LINK_ATTR = re.compile(r'\b(href|src)="([^"]*)"')


def rfc3339(when: datetime) -> str:
    """Atom / sitemap date: ISO 8601 with an explicit offset (never naive)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime in a feed")
    return when.isoformat(timespec="seconds")


def rfc822(when: datetime) -> str:
    """RSS pubDate with a numeric offset such as +0800 (never 'UTC' or 'GMT')."""
    if when.tzinfo is None:
        raise ValueError("naive datetime in a feed")
    text = format_datetime(when.replace(microsecond=0))
    return text.replace("-0000", "+0000")


def absolutize(fragment: str, base: str) -> str:
    """Make href/src in sanitised HTML absolute against `base` (feed readers have no page URL)."""

    def fix(match: re.Match) -> str:
        url = html.unescape(match.group(2))
        if url.startswith("#") or urlsplit(url).scheme:
            return match.group(0)
        return f'{match.group(1)}="{html.escape(urljoin(base, url), quote=True)}"'

    return _LINK_ATTR.sub(fix, fragment)


def post_jsonld(post: Any, site: Any, abs_url) -> dict:
    """schema.org Article; a repost says what it is based on and who wrote the original."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": post.title,
        "datePublished": rfc3339(post.date),
        "dateModified": rfc3339(post.updated or post.date),
        "url": abs_url(post.url),
        "mainEntityOfPage": abs_url(post.url),
        "inLanguage": post.lang or site.config.language,
        "description": post.description,
    }
    if post.tags:
        data["keywords"] = list(post.tags)
    curator = {"@type": "Person", "name": site.config.author} if site.config.author else None
    src = post.source
    if src is not None:
        original: dict[str, Any] = {"@type": "CreativeWork", "name": src.title or post.title}
        if src.url:
            original["url"] = src.url
        if src.author:
            original["author"] = {"@type": "Person", "name": src.author}
            data["author"] = {"@type": "Person", "name": src.author}
        if src.published:
            original["datePublished"] = rfc3339(src.published)
        if src.site_name:
            original["publisher"] = {"@type": "Organization", "name": src.site_name}
        data["isBasedOn"] = original
        if post.copyright:
            data["copyrightNotice"] = post.copyright
        if curator:
            data["editor"] = curator
    elif curator:
        data["author"] = curator
    if post.license:
        data["license"] = post.license
    return data
