"""Raw metadata strings -> the values front matter carries (dates, URLs, licence, permission).

Dates are only taken from what a rule or the page marked as a date: a date without a year, or a
relative one ("3 hours ago"), is not a publication date and becomes null with a note.
"""
from __future__ import annotations

import re
from datetime import datetime

from repost.importer.packs import License

_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_ISO = re.compile(r"(?P<y>(?:19|20)\d\d)\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})")
_EN_MDY = re.compile(r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)")
_EN_DMY = re.compile(r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d\d)")
_EPOCH = re.compile(r"^\d{10}$")


def parse_date(text: str | None) -> str | None:
    """'2016.12.11 20:38:25', '2022年06月22日', 'Apr 14, 2024', ISO 8601 -> 'YYYY-MM-DD'; else None."""
    if not text:
        return None
    text = text.strip()
    if _EPOCH.match(text):
        return datetime.utcfromtimestamp(int(text)).strftime("%Y-%m-%d")
    for rx in (_ISO, _EN_MDY, _EN_DMY):
        m = rx.search(text)
        if not m:
            continue
        month = int(m.group("m")) if "m" in m.groupdict() else _MONTHS.get(m.group("mon")[:3].lower())
        if not month:
            continue
        try:
            return datetime(int(m.group("y")), month, int(m.group("d"))).strftime("%Y-%m-%d")
        except ValueError:
            return None
    return None


def clean_value(value: str | None, limit: int = 300) -> str | None:
    if value is None:
        return None
    value = re.sub(r"©\s*\n\s*", "©", value.replace("**", ""))
    value = re.sub(r"\s+", " ", value).strip().strip("*_").strip()
    if not value:
        return None
    return value[:limit]


def clean_url(value: str | None) -> str | None:
    """The URL itself: no surrounding brackets, no `utm_*` tracking parameters (the rest is kept verbatim)."""
    if not value:
        return None
    value = value.strip().strip("<>").strip()
    m = re.match(r"https?://[^\s<>\"'）)]+", value)
    if not m:
        return None
    url = m.group(0)
    base, sep, query = url.partition("?")
    if sep:
        query, hash_sep, fragment = query.partition("#")
        kept = [p for p in query.split("&") if p and not p.lower().startswith("utm_")]
        url = base + ("?" + "&".join(kept) if kept else "") + hash_sep + fragment
    return url


def resolve_license(copyright_text: str | None, licenses: list[License], default_permission: str) -> tuple[str | None, str]:
    """(licence name, permission) from the notice; the site's default permission when none grants one."""
    if copyright_text:
        for lic in licenses:
            if lic.regex.search(copyright_text):
                return lic.license, lic.permission
    return None, default_permission
