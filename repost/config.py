"""config.yaml -> a frozen Config, validated at start: every error at once, with key path and line."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from repost import __version__, safeyaml
from repost.errors import ConfigError, ErrorList

SLUG_STYLES = ("pinyin", "unicode", "ascii")
PERMISSIONS = ("pending", "granted", "public", "licensed")
DEPLOY_TYPES = ("dir", "rsync", "git", "s3")
PERMALINK_FIELDS = ("slug", "year", "month", "day")


@dataclass(frozen=True)
class Paths:
    content: Path
    raw: Path
    layouts: Path
    static: Path
    output: Path

    @property
    def posts(self) -> Path:
        return self.content / "posts"

    @property
    def pages(self) -> Path:
        return self.content / "pages"


@dataclass(frozen=True)
class Feeds:
    limit: int = 20
    atom: bool = True
    rss: bool = True


@dataclass(frozen=True)
class ImportSettings:
    rules: tuple[Path, ...] = ()
    default_permission: str = "pending"
    max_size: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class Policy:
    require_attribution: bool = True
    publish_pending: bool = True


@dataclass(frozen=True)
class DeployTarget:
    name: str
    type: str
    options: Mapping[str, Any]
    line: int | None = None


@dataclass(frozen=True)
class Config:
    root: Path
    path: Path | None
    paths: Paths
    title: str = "A repost blog"
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    author: str | None = None
    timezone: str = "UTC"
    permalink: str = "/posts/{slug}/"
    slug: str = "pinyin"
    paginate: int = 10
    summary_length: int = 140
    feeds: Feeds = field(default_factory=Feeds)
    import_: ImportSettings = field(default_factory=ImportSettings)
    policy: Policy = field(default_factory=Policy)
    deploy: tuple[DeployTarget, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    fingerprint: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rel(self, path: Path) -> str:
        """A path as shown in messages: relative to the site root when inside it."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


# key -> (type check, default). Nested sections list their own keys.
_TOP = {
    "title": str, "description": str, "base_url": str, "language": str, "author": (str, type(None)),
    "timezone": str, "permalink": str, "slug": str, "paginate": int, "summary_length": int,
    "paths": dict, "feeds": dict, "import": dict, "policy": dict, "deploy": list, "extra": dict,
}
_PATHS = {"content": str, "raw": str, "layouts": str, "static": str, "output": str}
_FEEDS = {"limit": int, "atom": bool, "rss": bool}
_IMPORT = {"rules": list, "default_permission": str, "max_size": int}
_POLICY = {"require_attribution": bool, "publish_pending": bool}
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "a mapping", list: "a list"}


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate; a missing default config.yaml is an error with a hint."""
    cfg_path = Path(path or "config.yaml")
    if not cfg_path.is_file():
        raise ConfigError(cfg_path, None, "config file not found (create one, or run `repost init DIR`)")
    raw = cfg_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(cfg_path, None, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return parse_config(text, cfg_path.resolve().parent, cfg_path)


def parse_config(text: str, root: Path, path: Path | None = None) -> Config:
    """Validate config text into a Config; raises ConfigError or ErrorList with every problem."""
    shown = path or root / "config.yaml"
    doc = safeyaml.load(text, shown)
    data = doc.data if doc.data is not None else {}
    errors: list[ConfigError] = []

    def err(keys: tuple, msg: str) -> None:
        errors.append(ConfigError(shown, doc.line_of(*keys), msg))

    if not isinstance(data, dict):
        raise ConfigError(shown, doc.line_of(), "config must be a mapping of keys to values")
    top = _section(data, (), _TOP, err)
    paths = _section(top.get("paths") or {}, ("paths",), _PATHS, err)
    feeds = _section(top.get("feeds") or {}, ("feeds",), _FEEDS, err)
    imp = _section(top.get("import") or {}, ("import",), _IMPORT, err)
    policy = _section(top.get("policy") or {}, ("policy",), _POLICY, err)

    root = root.resolve()
    content = root / paths.get("content", "content")
    cfg_paths = Paths(
        content=content,
        raw=root / paths["raw"] if "raw" in paths else content / "raw",
        layouts=root / paths.get("layouts", "layouts"),
        static=root / paths.get("static", "static"),
        output=root / paths.get("output", "site"),
    )
    kwargs: dict[str, Any] = {k: top[k] for k in ("title", "description", "language", "author", "summary_length") if k in top}
    kwargs["base_url"] = _base_url(top.get("base_url", Config.base_url), err)
    kwargs["timezone"] = _timezone(top.get("timezone", "UTC"), err)
    kwargs["permalink"] = _permalink(top.get("permalink", Config.permalink), err)
    kwargs["slug"] = _choice(top.get("slug", "pinyin"), SLUG_STYLES, ("slug",), err)
    for key, low in (("paginate", 1), ("summary_length", 1)):
        if key in top and top[key] < low:
            err((key,), f"{key} must be at least {low}")
    if "paginate" in top:
        kwargs["paginate"] = top["paginate"]
    if feeds.get("limit", 1) < 1:
        err(("feeds", "limit"), "feeds.limit must be at least 1")
    rules = []
    for i, item in enumerate(imp.get("rules", [])):
        if not isinstance(item, str):
            err(("import", "rules", i), "import.rules entries must be folder paths")
        else:
            rules.append(root / item)
    _choice(imp.get("default_permission", "pending"), PERMISSIONS, ("import", "default_permission"), err)
    if imp.get("max_size", 1) < 1:
        err(("import", "max_size"), "import.max_size must be a positive number of bytes")
    imp["rules"] = tuple(rules)
    deploy = _deploy(top.get("deploy") or [], doc, err)

    if errors:
        errors.sort(key=lambda e: e.line or 0)
        raise errors[0] if len(errors) == 1 else ErrorList(errors)
    fingerprint = hashlib.sha256(f"{__version__}\n{text}".encode()).hexdigest()[:16]
    return Config(
        root=root, path=path, paths=cfg_paths, feeds=Feeds(**feeds), import_=ImportSettings(**imp),
        policy=Policy(**policy), deploy=deploy, extra=MappingProxyType(dict(top.get("extra") or {})),
        fingerprint=fingerprint, **kwargs,
    )


def default_config(root: Path) -> Config:
    return parse_config("", root)


def _section(data: Any, keys: tuple, schema: dict, err) -> dict:
    """Check one mapping's keys and value types; returns only the valid entries."""
    name = ".".join(map(str, keys))
    if not isinstance(data, dict):
        err(keys, f"{name} must be a mapping")
        return {}
    good = {}
    for key, value in data.items():
        where = keys + (key,)
        dotted = ".".join(map(str, where))
        if key not in schema:
            hint = difflib.get_close_matches(str(key), list(schema), n=1)
            err(where, f"unknown key '{dotted}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            continue
        want = schema[key]
        wants = want if isinstance(want, tuple) else (want,)
        ok = any(isinstance(value, w) and not (w is int and isinstance(value, bool)) for w in wants)
        if not ok:
            err(where, f"{dotted} must be {_TYPE_NAMES.get(wants[0], wants[0].__name__)}, not {value!r}")
            continue
        good[key] = value
    return good


def _choice(value: str, allowed: tuple, keys: tuple, err) -> str:
    if value not in allowed:
        err(keys, f"{'.'.join(keys)} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _base_url(value: str, err) -> str:
    if not value.startswith(("http://", "https://")) or "://" == value[-3:]:
        err(("base_url",), f"base_url must be an absolute http(s) URL, not {value!r}")
        return Config.base_url
    return value.rstrip("/") + "/"


def _timezone(value: str, err) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        err(("timezone",), f"unknown timezone {value!r} (use an IANA name such as Asia/Shanghai or UTC)")
        return "UTC"
    return value


def _permalink(value: str, err) -> str:
    import string

    if not (value.startswith("/") and value.endswith("/")):
        err(("permalink",), "permalink must start and end with '/', e.g. /posts/{slug}/")
        return Config.permalink
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        err(("permalink",), f"bad permalink pattern: {exc}")
        return Config.permalink
    if any(seg in (".", "..") or "\\" in seg for seg in value.split("/")):
        err(("permalink",), "permalink may not contain '.', '..' or '\\' segments")
        return Config.permalink
    bad = [f for f in fields if f not in PERMALINK_FIELDS]
    if bad or "slug" not in fields:
        err(("permalink",), f"permalink may use {{{'}, {'.join(PERMALINK_FIELDS)}}} and must contain {{slug}}")
        return Config.permalink
    return value


def _deploy(items: list, doc: safeyaml.YamlDoc, err) -> tuple[DeployTarget, ...]:
    targets, seen = [], set()
    for i, item in enumerate(items):
        where = ("deploy", i)
        if not isinstance(item, dict):
            err(where, "each deploy target must be a mapping with name and type")
            continue
        name, kind = item.get("name"), item.get("type")
        if not isinstance(name, str) or not name:
            err(where, "deploy target needs a name")
            continue
        if name in seen:
            err(where + ("name",), f"duplicate deploy target name '{name}'")
        seen.add(name)
        if kind not in DEPLOY_TYPES:
            err(where + ("type",), f"deploy target '{name}': type must be one of {', '.join(DEPLOY_TYPES)}")
            continue
        options = {k: v for k, v in item.items() if k not in ("name", "type")}
        targets.append(DeployTarget(name, kind, MappingProxyType(options), doc.line_of(*where)))
    return tuple(targets)
