"""Slugs and safe output paths: no content-derived name may leave its folder."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from repost.errors import ContentError

MAX_SLUG_BYTES = 120
# Names the site generates itself, and names Windows refuses: a derived slug never takes them.
RESERVED = frozenset(
    "tags tag page feed feeds index 404 atom rss sitemap robots archive archives static assets "
    "search about posts pages".split()
)
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)
_SAFE_SLUG = re.compile(r"^[^\x00-\x1f/\\?#%\"<>|*:\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+$")


def slugify(title: str, style: str = "pinyin", *, fallback_seed: str = "") -> str:
    """A URL- and file-safe slug from a title, NFC, capped in UTF-8 bytes, never empty or reserved."""
    text = unicodedata.normalize("NFC", title or "")
    if style == "pinyin":
        words = _pinyin_words(text)
    elif style == "unicode":
        words = _words(text, keep_unicode=True)
    else:
        words = _words(_fold_ascii(text), keep_unicode=False)
    slug = cap_bytes("-".join(w for w in words if w), MAX_SLUG_BYTES).strip("-")
    if not slug:
        digest = hashlib.sha1((fallback_seed or title or "").encode("utf-8")).hexdigest()[:8]
        slug = f"post-{digest}"
    if slug in RESERVED or slug in WINDOWS_RESERVED:
        slug = f"{slug}-post"
    return slug


def _pinyin_words(text: str) -> list[str]:
    from pypinyin import lazy_pinyin  # imported on first use: its dictionaries take ~0.2 s to load

    words: list[str] = []
    for token in lazy_pinyin(text, errors=lambda run: [run]):
        words.extend(_words(_fold_ascii(token), keep_unicode=False))
    return words


def preload() -> None:
    """Load pypinyin's dictionaries now (about 0.13 s), e.g. while workers parse, rather than
    when the model first slugs a tag with Han characters."""
    try:
        import pypinyin  # noqa: F401
    except Exception:  # the real import, when a slug needs it, reports any problem
        pass


def _fold_ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _words(text: str, keep_unicode: bool) -> list[str]:
    text = text.lower()
    if keep_unicode:
        return ["".join(ch for ch in w if ch.isalnum()) for w in re.split(r"[^\w]+|_", text)]
    return re.split(r"[^a-z0-9]+", text)


def cap_bytes(text: str, limit: int) -> str:
    """Truncate to at most `limit` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def check_slug(slug: object, path: str | Path | None = None, line: int | None = None) -> str:
    """Validate a slug given in front matter: one safe path segment, NFC."""
    if not isinstance(slug, str) or not slug.strip():
        raise ContentError(path, line, "slug must be a non-empty string")
    slug = unicodedata.normalize("NFC", slug.strip())
    if slug in (".", "..", "~") or slug.startswith(".") or not _SAFE_SLUG.match(slug):
        raise ContentError(path, line, f"slug {slug!r} is not a safe URL segment (no '/', '\\\\', '..', control characters)")
    if slug.endswith((" ", ".")) or slug.lower() in WINDOWS_RESERVED:
        raise ContentError(path, line, f"slug {slug!r} is not a portable file name")
    if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        raise ContentError(path, line, f"slug is longer than {MAX_SLUG_BYTES} bytes")
    return slug


def safe_join(root: Path, relative: str) -> Path:
    """root/relative, refusing any result whose real path is not inside root."""
    if "\x00" in relative or "\\" in relative:
        raise ContentError(None, None, f"unsafe path {relative!r}")
    root_real = Path(root).resolve()
    target = (root_real / relative.lstrip("/")).resolve()
    if target != root_real and not target.is_relative_to(root_real):
        raise ContentError(None, None, f"path {relative!r} leaves {root}")
    return target
