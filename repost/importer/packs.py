"""Rule packs: YAML data that says how to recognise a platform and what of its dump is chrome.

Packs are validated when loaded (a bad regex or an unknown key is a ConfigError with the pack's
file and line), detected by weighted markers, and composed: every pack whose markers score enough
applies, the best-scoring one names the platform, and `generic` always applies last.
See docs/importer.md for the format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from repost import safeyaml
from repost.errors import ConfigError, ErrorList

FIELDS = ("title", "subtitle", "author", "site_name", "url", "published", "updated", "copyright", "license")
ZONES = ("any", "head", "tail")
PERMISSIONS = ("pending", "granted", "public", "licensed")
SECTIONS = ("drop", "header_end", "footer_start", "end")
HTML_KEYS = ("title", "body", "author", "site_name", "published", "drop")
_TOP_KEYS = {"id", "name", "site_name", "threshold", "title", "detect", "meta", "after_title", "licenses", "html", "notes", "drop_leading_images", *SECTIONS}
_RULE_KEYS = {"name", "pattern", "zone", "lines", "ignore_case", "anywhere"}
_META_KEYS = {"name", "pattern", "zone", "lines", "ignore_case", "keep", "title", "unless", "same_as"}
ANCHORS = ("before", "after")
_DETECT_KEYS = {"pattern", "weight", "in", "ignore_case"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
MAX_WINDOW = 40


@dataclass(frozen=True)
class Rule:
    """One pattern: full-line (or, when it contains a newline, a run of consecutive lines)."""

    name: str
    regex: re.Pattern
    zone: str = "any"
    lines: int = 1
    keep: bool = False       # meta rules: lift the value but leave the line in the body
    anywhere: bool = False   # footer_start/end: no "near the end" guard
    title: str = ""          # meta rules: a byline; the title is the line just before/after it
    unless: re.Pattern | None = None  # meta rules: skipped when a line of the head is this (CSDN's 转载 badge)
    same_as: str = ""        # meta rules: a match counts only if its values equal this field, already found

    @property
    def multiline(self) -> bool:
        return self.lines > 1


@dataclass(frozen=True)
class Marker:
    regex: re.Pattern
    weight: float = 1.0
    html: bool = False


@dataclass(frozen=True)
class License:
    regex: re.Pattern
    license: str | None
    permission: str


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    site_name: str | None = None
    threshold: float = 2.0
    title: str = "first_line"   # or after_header: the title follows the header chrome (cnblogs)
    detect: tuple[Marker, ...] = ()
    drop: tuple[Rule, ...] = ()
    header_end: tuple[Rule, ...] = ()
    footer_start: tuple[Rule, ...] = ()
    end: tuple[Rule, ...] = ()
    meta: tuple[Rule, ...] = ()
    after_title: tuple[Rule, ...] = ()
    licenses: tuple[License, ...] = ()
    html: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drop_leading_images: bool = False   # images before the first words are account banners (WeChat)
    path: str = ""

    def score(self, plains: Iterable[str], html_source: str = "") -> float:
        """Sum of the weights of the markers found (each counted once)."""
        plains = list(plains)
        total = 0.0
        for marker in self.detect:
            if marker.html:
                hit = bool(html_source) and marker.regex.search(html_source) is not None
            else:
                hit = any(marker.regex.search(p) for p in plains)
            total += marker.weight if hit else 0.0
        return total


@dataclass(frozen=True)
class Packs:
    """All loaded packs by id, in load order (built-ins first, then the site's)."""

    by_id: dict[str, Pack]

    def get(self, pack_id: str) -> Pack | None:
        return self.by_id.get(pack_id)

    @property
    def ids(self) -> list[str]:
        return list(self.by_id)


def load_packs(config: Any = None) -> Packs:
    """Built-in packs plus every `*.yaml` in the folders of `import.rules`; a site pack with a
    built-in's id replaces it. Raises ConfigError/ErrorList with file:line for bad packs."""
    files: list[tuple[str, str]] = []
    builtin = resources.files("repost.importer") / "packs"
    for entry in sorted(builtin.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            files.append((f"repost/importer/packs/{entry.name}", entry.read_text(encoding="utf-8")))
    rules = getattr(getattr(config, "import_", None), "rules", ()) or ()
    for folder in rules:
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(getattr(config, "path", None), None, f"import.rules folder not found: {folder}")
        for path in sorted(folder.glob("*.yaml")):
            files.append((str(path), path.read_text(encoding="utf-8-sig")))
    errors: list[ConfigError] = []
    by_id: dict[str, Pack] = {}
    for shown, text in files:
        try:
            pack = parse_pack(text, shown)
        except (ConfigError, ErrorList) as exc:
            errors.extend(exc.errors if isinstance(exc, ErrorList) else [exc])
            continue
        by_id[pack.id] = pack
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    if "generic" not in by_id:
        by_id["generic"] = Pack(id="generic", name="generic", threshold=0)
    return Packs(by_id)


def parse_pack(text: str, path: str) -> Pack:
    """Validate one pack's YAML into a Pack; every problem is reported with its line."""
    try:
        doc = safeyaml.load(text, path)
    except ConfigError:
        raise
    except Exception as exc:  # ContentError from the YAML loader: same message, config flavour
        raise ConfigError(path, getattr(exc, "line", None), getattr(exc, "message", str(exc))) from None
    data = doc.data
    errors: list[ConfigError] = []

    def err(keys: tuple, msg: str) -> None:
        errors.append(ConfigError(path, doc.line_of(*keys), msg))

    if not isinstance(data, dict):
        raise ConfigError(path, doc.line_of(), "a rule pack must be a mapping (id, name, detect, drop, ...)")
    for key in data:
        if key not in _TOP_KEYS:
            err((key,), f"unknown key '{key}' in rule pack (allowed: {', '.join(sorted(_TOP_KEYS))})")
    pack_id = data.get("id")
    if not isinstance(pack_id, str) or not _ID_RE.match(pack_id):
        err(("id",), "pack id must be lower-case letters, digits, '-' or '_'")
        pack_id = "invalid"
    kwargs: dict[str, Any] = {"id": pack_id, "name": str(data.get("name") or pack_id), "path": path}
    site_name = data.get("site_name")
    if site_name is not None and not isinstance(site_name, str):
        err(("site_name",), "site_name must be a string or null")
    kwargs["site_name"] = site_name if isinstance(site_name, str) else None
    threshold = data.get("threshold", 2)
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
        err(("threshold",), "threshold must be a number")
    else:
        kwargs["threshold"] = float(threshold)
    title = data.get("title", "first_line")
    if title not in ("after_header", "first_line"):
        err(("title",), "title must be after_header or first_line")
    kwargs["title"] = title
    kwargs["detect"] = tuple(_markers(data.get("detect") or [], err))
    for section in SECTIONS:
        kwargs[section] = tuple(_rules(pack_id, section, data.get(section) or [], err, _RULE_KEYS))
    for section in ("meta", "after_title"):
        kwargs[section] = tuple(_rules(pack_id, section, data.get(section) or [], err, _META_KEYS))
    kwargs["licenses"] = tuple(_licenses(data.get("licenses") or [], err))
    kwargs["html"] = _html(data.get("html") or {}, err)
    if not isinstance(data.get("drop_leading_images", False), bool):
        err(("drop_leading_images",), "drop_leading_images must be true or false")
    kwargs["drop_leading_images"] = data.get("drop_leading_images") is True
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    return Pack(**kwargs)


def _compile(pattern: Any, keys: tuple, err, ignore_case: bool = False) -> re.Pattern | None:
    if not isinstance(pattern, str) or not pattern:
        err(keys, "pattern must be a non-empty string (a Python regular expression)")
        return None
    try:
        return re.compile(pattern, re.I if ignore_case else 0)
    except re.error as exc:
        err(keys, f"bad regular expression: {exc}")
        return None


def _markers(items: Any, err) -> Iterable[Marker]:
    if not isinstance(items, list):
        err(("detect",), "detect must be a list")
        return
    for i, item in enumerate(items):
        keys = ("detect", i)
        item = {"pattern": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            err(keys, "a detect entry is a pattern or a mapping with pattern and weight")
            continue
        for key in item:
            if key not in _DETECT_KEYS:
                err(keys + (key,), f"unknown key '{key}' in detect entry")
        weight = item.get("weight", 1)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            err(keys + ("weight",), "weight must be a number")
            weight = 1
        where = item.get("in", "text")
        if where not in ("text", "html"):
            err(keys + ("in",), "in must be text or html")
        regex = _compile(item.get("pattern"), keys, err, bool(item.get("ignore_case")))
        if regex is not None:
            yield Marker(regex, float(weight), where == "html")


def _rules(pack_id: str, section: str, items: Any, err, allowed: set) -> Iterable[Rule]:
    if not isinstance(items, list):
        err((section,), f"{section} must be a list")
        return
    for i, item in enumerate(items):
        keys = (section, i)
        item = {"pattern": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            err(keys, f"a {section} entry is a pattern or a mapping with a pattern")
            continue
        for key in item:
            if key not in allowed:
                err(keys + (key,), f"unknown key '{key}' in {section} entry (allowed: {', '.join(sorted(allowed))})")
        zone = item.get("zone", "any")
        if zone not in ZONES:
            err(keys + ("zone",), f"zone must be one of {', '.join(ZONES)}")
        pattern = item.get("pattern")
        multi = isinstance(pattern, str) and _spans_lines(pattern)
        lines = item.get("lines", 12 if multi else 1)
        if isinstance(pattern, str) and (multi or lines > 1):
            pattern = f"(?:{pattern})(?=\\n|\\Z)"
        if not isinstance(lines, int) or isinstance(lines, bool) or not 1 <= lines <= MAX_WINDOW:
            err(keys + ("lines",), f"lines must be an integer from 1 to {MAX_WINDOW}")
            lines = 1
        regex = _compile(pattern, keys, err, bool(item.get("ignore_case")))
        if regex is None:
            continue
        if section in ("meta", "after_title"):
            bad = [g for g in regex.groupindex if g not in FIELDS]
            if bad or not regex.groupindex:
                err(keys, f"meta patterns need named groups among {', '.join(FIELDS)}" + (f" (unknown: {', '.join(bad)})" if bad else ""))
                continue
        anchor = item.get("title", "")
        if anchor and anchor not in ANCHORS:
            err(keys + ("title",), "title must be before or after (where the title stands next to this byline)")
            anchor = ""
        unless = _compile(item["unless"], keys + ("unless",), err) if "unless" in item else None
        same_as = item.get("same_as", "")
        if same_as and same_as not in FIELDS:
            err(keys + ("same_as",), f"same_as must be one of {', '.join(FIELDS)}")
            same_as = ""
        name = item.get("name") or f"{section}[{i}]"
        yield Rule(f"{pack_id}.{name}", regex, zone, lines, bool(item.get("keep")), bool(item.get("anywhere")),
                   anchor, unless, same_as)


def _spans_lines(pattern: str) -> bool:
    """A newline outside character classes (`[^\\n]` alone does not make a multi-line pattern)."""
    outside = re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern)
    return "\\n" in outside or "\n" in outside


def _licenses(items: Any, err) -> Iterable[License]:
    if not isinstance(items, list):
        err(("licenses",), "licenses must be a list")
        return
    for i, item in enumerate(items):
        keys = ("licenses", i)
        if not isinstance(item, dict) or "pattern" not in item:
            err(keys, "a licenses entry needs pattern, license and permission")
            continue
        permission = item.get("permission", "pending")
        if permission not in PERMISSIONS:
            err(keys + ("permission",), f"permission must be one of {', '.join(PERMISSIONS)}")
        regex = _compile(item.get("pattern"), keys, err, True)
        if regex is not None:
            yield License(regex, item.get("license"), permission)


def _html(data: Any, err) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        err(("html",), "html must be a mapping of field -> CSS selectors")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if key not in HTML_KEYS:
            err(("html", key), f"unknown html key '{key}' (allowed: {', '.join(HTML_KEYS)})")
            continue
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            err(("html", key), "html selectors must be a CSS selector or a list of them")
            continue
        for sel in value:
            try:
                from lxml.cssselect import CSSSelector

                CSSSelector(sel)
            except Exception as exc:  # cssselect raises its own SelectorSyntaxError
                err(("html", key), f"bad CSS selector {sel!r}: {exc}")
        out[key] = tuple(value)
    return out


def detect(packs: Packs, plains: list[str], html_source: str = "", platform: str | None = None) -> list[tuple[Pack, float]]:
    """The packs that apply, best first, generic last. `platform` forces one pack (plus generic)."""
    generic = packs.get("generic")
    if platform:
        forced = packs.get(platform)
        if forced is None:
            raise ConfigError(None, None, f"unknown platform {platform!r} (known: {', '.join(packs.ids)})")
        chosen = [(forced, forced.score(plains, html_source))]
    else:
        scored = [(p, p.score(plains, html_source)) for p in packs.by_id.values() if p.id != "generic"]
        chosen = [(p, s) for p, s in scored if p.detect and s >= p.threshold]
        chosen.sort(key=lambda ps: -ps[1])  # stable: ties keep load order
    if generic is not None and all(p.id != "generic" for p, _ in chosen):
        chosen.append((generic, 0.0))
    return chosen
