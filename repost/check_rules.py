"""The rules of `repost check`: each a plain function of the loaded files and the report.

Attribution, permission, duplicates (two files at one URL, two reposts of one original article,
two posts with the same words, and URLs that take a generated page or a static file, found by
planning the site as the build would), links (disallowed schemes, internal links that land on
no planned output) and provenance (the raw dump still there and unchanged). The schema check is
the parse itself, done while loading (`check.load`). What a rule needs of one file, whatever the
rest of the site is (its scheme findings, its words' fingerprint, its links into the site, its
normalised source URL), is derived here by `derive_facts` and kept by digest in `check.sqlite`
(`check_cache.py`), so an unchanged file is not read again.
"""
from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from datetime import datetime
from typing import Callable, Iterable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from repost import links, model, render
from repost.build import static_files
from repost.check_cache import Facts, Memory
from repost.check_files import Recorder, Report, SourceFile
from repost.config import Config
from repost.errors import ContentError, ErrorList, RepostError
from repost.slug import safe_join

# Query parameters that only track the click (compared away when matching original URLs).
TRACKING_PARAMS = re.compile(
    r"^(?:utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|spm|scm"
    r"|from|isappinstalled|share_token|share_source|share_medium|scene|subscene|chksm|sharer_\w+|ref_src|s_r)$",
    re.IGNORECASE,
)
MIN_BODY_CHARS = 40  # shorter bodies ("coming soon") are not compared as duplicates
_NOT_WORD = re.compile(r"[\W_]+")


# ---- facts ----------------------------------------------------------------------------------

def derive_facts(f: SourceFile, record: model.Post | model.Page | None, base_path: str) -> Facts:
    """What check needs of a file beyond its record, from its text and its record's body: pure,
    so it is kept by digest."""
    text = f.text
    if not text:
        return Facts(False)
    schemes: list[tuple[int, str, str]] = []
    body_line = f.body_line
    body = f.clean.split("\n", body_line - 1)[-1] if body_line > 1 else f.clean
    for link in links.disallowed_links(body):
        scheme = links.scheme_of(link.url)
        level = "error" if scheme in links.DANGEROUS_SCHEMES else "warning"
        schemes.append((body_line + link.line, level, f"{link.kind} with disallowed scheme '{scheme}:' "
                        f"({_short(link.url)}); the sanitiser drops it"))
    if record is None:
        return Facts(True, tuple(schemes))
    body_html = record.body_html
    internal = []
    for url in dict.fromkeys(links.html_links(body_html)):
        rel = links.target(url, record.url, base_path)
        if rel is not None:
            internal.append((url, rel))
    source = record.source if f.kind == "post" else None
    source_key = normalise_url(source.url) if source and source.url else None
    return Facts(True, tuple(schemes), body_fingerprint(body_html), tuple(internal), source_key)


# ---- checks ---------------------------------------------------------------------------------

def check_attribution(config: Config, posts: list[SourceFile], report: Report) -> None:
    """A repost names its platform or site; it should name the author or URL, and a notice or licence."""
    for f in posts:
        post = f.record
        if post.source is None and post.imported is None:
            continue
        src = post.source or model.Source()
        key = "source" if post.source is not None else "imported"
        if not ((src.platform and src.platform != "unknown") or src.site_name):
            level = "error" if config.policy.require_attribution else "warning"
            report.add(f, f.line(key), level, "repost names neither source.platform nor source.site_name "
                       "(policy.require_attribution)", "attribution")
        if not src.author and not src.url:
            report.add(f, f.line(key), "warning", "repost names neither the original author (source.author) "
                       "nor the original URL (source.url)", "attribution")
        if not post.copyright and not post.license:
            report.add(f, f.line(key), "warning", "repost carries no copyright notice and no license", "attribution")


def check_permission(config: Config, posts: list[SourceFile], report: Report) -> None:
    """List posts whose permission is pending, and say whether the build publishes them."""
    for f in posts:
        if f.record.permission != "pending":
            continue
        if config.policy.publish_pending:
            report.add(f, f.line("permission"), "warning", "permission pending, published anyway "
                       "(policy.publish_pending is true)", "permission")
        else:
            report.add(f, f.line("permission"), "note", "permission pending: left out of the build "
                       "(policy.publish_pending is false)", "permission")


def check_duplicates(config: Config, files: list[SourceFile], report: Report) -> None:
    """Two files at one URL; two reposts of one original URL; two posts with the same words."""
    _groups(report, files, lambda f: f.record.output.casefold(), lambda f: ("slug",),
            lambda f: f"same URL {f.record.url} as")
    posts = [f for f in files if f.kind == "post"]
    _groups(report, posts, lambda f: f.facts.source_key, lambda f: ("source", "url"),
            lambda f: "same original article (source.url) as")
    _groups(report, posts, lambda f: f.facts.fingerprint, None, lambda f: "same text as")


def _groups(report: Report, files: list[SourceFile], key: Callable, where: Callable | None, what: Callable) -> None:
    by_key: dict[str, list[SourceFile]] = {}
    for f in files:
        k = key(f)
        if k:
            by_key.setdefault(k, []).append(f)
    for group in by_key.values():
        for f in group[1:] if len(group) > 1 else ():
            others = ", ".join(o.rel for o in group if o is not f)
            line = f.line(*where(f)) if where else f.body_line
            report.add(f, line, "error", f"{what(f)} {others}", "duplicate")


def check_outputs(config: Config, files: list[SourceFile], drafts: bool, report: Report) -> set[str] | None:
    """Plan the site as the build would (future posts included) and report URL collisions with
    generated pages and static files; returns every output path, or None when the plan failed."""
    posts = _unique_urls(f.record for f in files if f.kind == "post")
    pages = _unique_urls(f.record for f in files if f.kind == "page")
    site = model.build_model(config, posts, pages, drafts=drafts, now=datetime.max.replace(tzinfo=config.tz))
    statics = static_files(config, Recorder([]))
    try:
        plan = render.plan_outputs(site)
        render.check_collisions([(o.path, o.source) for o in plan] + [(rel, config.rel(src)) for rel, src in statics.items()])
    except RepostError as exc:
        for err in exc.errors if isinstance(exc, ErrorList) else [exc]:
            report.add(getattr(err, "path", None) or "content", None, "error", getattr(err, "message", str(err)), "duplicate")
        return None
    return {o.path for o in plan} | set(statics)


def _unique_urls(records: Iterable) -> list:
    seen, out = set(), []
    for r in records:
        if r.output.casefold() not in seen:
            seen.add(r.output.casefold())
            out.append(r)
    return out


def check_links(config: Config, files: list[SourceFile], outputs: set[str] | None, report: Report) -> None:
    """Disallowed schemes in the Markdown; internal links and images that point nowhere."""
    base_path = urlsplit(config.base_url).path or "/"
    for f in files:
        for line, level, message in f.facts.schemes:
            report.add(f, line, level, message, "links")
        if outputs is None or f.record is None:
            continue
        for url, rel in f.facts.internal:
            if not links.exists(rel, outputs):
                hint = f" (outside the site's base path {base_path})" if rel == "" else ""
                report.add(f, _line_of_text(f, url), "error", f"link to {_short(url)} points nowhere in the built site{hint}", "links")


def _line_of_text(f: SourceFile, url: str) -> int:
    """The body line where a URL is written (the body's first line when it cannot be found)."""
    start = f.body_line
    body = f.clean.split("\n", start - 1)[-1] if start > 1 else f.clean
    for needle in (url, unquote(url), html.escape(url)):
        at = body.find(needle)
        if at >= 0:
            return start + body.count("\n", 0, at)
    return start


def _short(url: str, limit: int = 80) -> str:
    url = url.replace("\n", " ").replace("\t", " ")
    return url if len(url) <= limit else url[: limit - 1] + "…"


def check_provenance(config: Config, posts: list[SourceFile], report: Report, memory: Memory) -> None:
    """The raw dump named in `imported.from` still exists and still hashes to `imported.sha256`."""
    for f in posts:
        imported = f.record.imported
        if imported is None:
            continue
        origin, digest = imported.get("from"), imported.get("sha256")
        if not isinstance(origin, str) or not origin.strip():
            report.add(f, f.line("imported"), "error", "imported.from does not name the raw dump", "provenance")
            continue
        try:
            candidates = [safe_join(base, origin) for base in (config.paths.content, config.root)]
        except ContentError:
            report.add(f, f.line("imported", "from"), "error", f"imported.from {origin!r} leaves the site folder", "provenance")
            continue
        raw = next((c for c in candidates if c.is_file() and not c.is_symlink()), None)
        if raw is None:
            report.add(f, f.line("imported", "from"), "warning", f"raw dump {origin} (imported.from) is missing; "
                       "provenance cannot be verified", "provenance")
        elif not isinstance(digest, str) or memory.raw_sha256(raw) != digest.strip().lower():
            report.add(f, f.line("imported", "sha256"), "error", f"raw dump {origin} no longer matches imported.sha256 "
                       "(changed since import: re-import it, or restore the original)", "provenance")


# ---- normalisation --------------------------------------------------------------------------

def normalise_url(url: str) -> str:
    """One key per original article: no scheme, host lower case without www., no default port,
    no trailing slash or fragment, tracking parameters dropped, the rest sorted."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port if parts.port not in (None, 80, 443) else None
    except ValueError:  # a port that is no number, a broken IPv6 host: compared as written
        return url.strip()
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~").rstrip("/") or ""
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    return f"{host}{f':{port}' if port else ''}{path}" + (f"?{urlencode(query)}" if query else "")


def body_fingerprint(body_html: str) -> str | None:
    """Hash of the visible words of a body (markup, whitespace and punctuation ignored)."""
    text = unicodedata.normalize("NFKC", html.unescape(re.sub(r"<[^>]*>", " ", body_html)))
    words = _NOT_WORD.sub("", text).casefold()
    if len(words) < MIN_BODY_CHARS:
        return None
    return hashlib.sha256(words.encode("utf-8")).hexdigest()
