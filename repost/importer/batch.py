"""The batch: which dumps to import, and what may be written where.

Raw dumps are only ever read. A dump whose bytes match the `imported.sha256` of its post is a
no-op (the build calls this on every run). A post that no longer hashes to what the importer
wrote was edited by hand and is left alone unless forced. Two dumps of one article (same body
words) write one post. Every path written is inside `content/posts/`.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from repost import safeyaml
from repost.errors import ContentError, RepostError
from repost.importer.convert import HTML_SUFFIXES, MD_SUFFIXES, ImportResult, import_dump
from repost.importer.emit import render_post, written_by_importer
from repost.importer.packs import Packs
from repost.slug import safe_join

DUMP_SUFFIXES = (".txt", ".text", *HTML_SUFFIXES, *MD_SUFFIXES)
_FM_RE = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
_TEMP_NAME = re.compile(r"^(?:\.|#|~\$)|(?:~|\.swp|\.swx|\.tmp|\.part|\.crdownload)$|^4913$")


@dataclass
class FileOutcome:
    path: Path
    status: str                      # imported | unchanged | skipped | failed | dry-run
    message: str = ""
    result: ImportResult | None = None
    target: Path | None = None


@dataclass
class ImportSummary:
    imported: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    written: list[Path] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)
        key = "imported" if outcome.status == "dry-run" else outcome.status
        setattr(self, key, getattr(self, key) + 1)


@dataclass
class _Existing:
    path: Path
    fm: dict
    text: str


class _Index:
    """The posts already on disk, by raw dump, by body fingerprint and by slug (case-folded)."""

    def __init__(self, posts: Path):
        self.by_from: dict[str, _Existing] = {}
        self.by_body: dict[str, Path] = {}
        self.slugs: dict[str, Path] = {}
        if not posts.is_dir():
            return
        for path in sorted(posts.glob("*.md")):
            if path.is_symlink():
                continue
            self.slugs[path.stem.casefold()] = path
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            fm = _front_matter(text, path)
            if not isinstance(fm, dict):
                continue
            if isinstance(fm.get("slug"), str):
                self.slugs[fm["slug"].casefold()] = path
            imported = fm.get("imported") if isinstance(fm.get("imported"), dict) else {}
            if isinstance(imported.get("from"), str):
                self.by_from[imported["from"]] = _Existing(path, fm, text)
            if isinstance(imported.get("body_sha256"), str):
                self.by_body.setdefault(imported["body_sha256"], path)


def _front_matter(text: str, path: Path) -> dict | None:
    m = _FM_RE.match(text)
    if not m:
        return None
    try:
        return safeyaml.load(m.group(1) or "", path, 2).data
    except RepostError:
        return None


def collect(config: Any, paths: list[Path] | None, warn: Callable[[str], None]) -> tuple[list[Path], list[ContentError]]:
    """The dump files named (folders walked, sorted); symlinks, hidden and editor temp files skipped."""
    errors: list[ContentError] = []
    if not paths:
        raw = config.paths.raw
        if not raw.is_dir():
            return [], []
        paths = [raw]
    files: list[Path] = []
    for given in paths:
        given = Path(given)
        if given.is_symlink():
            warn(f"{given}: symlink not followed")
        elif given.is_dir():
            for root, dirs, names in os.walk(given, followlinks=False):
                for d in dirs:
                    if Path(root, d).is_symlink():
                        warn(f"{Path(root, d)}: symlinked folder not followed")
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not Path(root, d).is_symlink()
                                 and not _is_saved_page_assets(Path(root), d))
                for name in sorted(names):
                    path = Path(root, name)
                    if _TEMP_NAME.search(name) or not name.lower().endswith(DUMP_SUFFIXES):
                        continue
                    if path.is_symlink():
                        warn(f"{path}: symlink not followed")
                        continue
                    files.append(path)
        elif given.is_file():
            files.append(given)
        else:
            errors.append(ContentError(given, None, "no such file or folder"))
    return files, errors


def _is_saved_page_assets(root: Path, name: str) -> bool:
    """`X_files/` beside `X.html` holds a saved page's assets (browsers' "save complete page"): not dumps."""
    if not name.endswith("_files"):
        return False
    stem = name[: -len("_files")]
    return any((root / f"{stem}{ext}").is_file() for ext in (".html", ".htm", ".HTML", ".HTM"))


def origin_of(config: Any, path: Path) -> str:
    """How the post names its dump: relative to content/ (raw/x.txt), else to the site root."""
    resolved = path.resolve()
    for base in (config.paths.content, config.root):
        try:
            return resolved.relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def import_paths(config: Any, paths: list[Path] | None = None, *, platform: str | None = None, force: bool = False,
                 dry_run: bool = False, lossy: bool = False, ui: Any = None, packs: Packs | None = None,
                 now: Any = None, on_file: Callable[[FileOutcome], None] | None = None) -> ImportSummary:
    """Import dumps into content/posts/; see the module docstring for the rules."""
    from repost.importer.packs import load_packs

    summary = ImportSummary()
    warn = ui.warn if ui is not None else summary.warnings.append
    files, errors = collect(config, paths, warn)
    for error in errors:
        summary.errors.append(error)
        summary.add(FileOutcome(Path(error.path or ""), "failed", error.message))
        if on_file:
            on_file(summary.outcomes[-1])
    if not files:
        return summary
    posts = config.paths.posts
    index = _Index(posts)
    max_size = config.import_.max_size
    cache: list[Packs] = [packs] if packs is not None else []

    def load() -> Packs:  # only when some dump needs converting: the no-op run never parses packs
        if not cache:
            cache.append(load_packs(config))
        return cache[0]

    for path in files:
        outcome = _one(config, path, index, None, max_size, platform=platform, force=force,
                       dry_run=dry_run, lossy=lossy, now=now, load=load)
        if outcome.status == "failed":
            summary.errors.append(ContentError(path, None, outcome.message))
        if outcome.status == "imported" and outcome.target is not None:
            summary.written.append(outcome.target)
        summary.add(outcome)
        if on_file:
            on_file(outcome)
    return summary


def _one(config, path: Path, index: _Index, packs: Packs | None, max_size: int, *, platform, force, dry_run,
         lossy, now, load) -> FileOutcome:
    origin = origin_of(config, path)
    try:
        size = path.stat().st_size
        if size > max_size:
            return FileOutcome(path, "failed", f"file is {size:,} bytes, over the import size cap of {max_size:,} bytes (import.max_size)")
        data = path.read_bytes()
    except OSError as exc:
        return FileOutcome(path, "failed", f"cannot read: {exc.strerror}")
    sha = hashlib.sha256(data).hexdigest()
    existing = index.by_from.get(origin)
    unchanged = existing and existing.path.exists() and (existing.fm.get("imported") or {}).get("sha256") == sha
    if unchanged and not force and not dry_run:
        return FileOutcome(path, "unchanged", f"already imported as {existing.path.name}", target=existing.path)
    try:
        result = import_dump(data, packs or load(), config, name=path.name, platform=platform, lossy=lossy,
                             now=now, origin=origin)
    except ContentError as exc:
        return FileOutcome(path, "failed", exc.message)
    except RepostError as exc:
        return FileOutcome(path, "failed", str(exc))
    duplicate = index.by_body.get(result.body_sha256)
    if duplicate is not None and (existing is None or duplicate != existing.path):
        return FileOutcome(path, "skipped", f"duplicate: same article as {duplicate.name}", result)
    if existing is not None:
        if written_by_importer(existing.text) is False and not force:
            return FileOutcome(path, "skipped", f"{existing.path.name} was edited by hand since import; "
                                                "not overwritten (use --force)", result, existing.path)
        result = _keep_curator_fields(result, existing.fm)
        target = existing.path
    else:
        slug = _free_slug(result.slug, index)
        if slug != result.slug:
            result = _with(result, slug=slug)
        target = safe_join(config.paths.posts, f"{slug}.md")
    if dry_run:  # the report and the Markdown, even for a dump imported before (nothing is written)
        if unchanged and not force:
            return FileOutcome(path, "unchanged", f"unchanged since imported as {target.name} (dry run)", result, target)
        return FileOutcome(path, "dry-run", f"would write {target.name}", result, target)
    if target.exists() and target.read_text(encoding="utf-8", errors="replace") == result.text:
        _register(index, origin, target, result)
        return FileOutcome(path, "unchanged", f"{target.name} is up to date", result, target)
    _atomic_write(target, result.text)
    _register(index, origin, target, result)
    return FileOutcome(path, "imported", f"wrote {target.name}", result, target)


def _register(index: _Index, origin: str, target: Path, result: ImportResult) -> None:
    index.by_from[origin] = _Existing(target, result.front_matter, result.text)
    index.by_body.setdefault(result.body_sha256, target)
    index.slugs[target.stem.casefold()] = target


def _free_slug(slug: str, index: _Index) -> str:
    """The slug, or slug-2, slug-3... when another post (compared case-folded) has it."""
    candidate, n = slug, 2
    while candidate.casefold() in index.slugs:
        candidate = f"{slug}-{n}"
        n += 1
    return candidate


def _with(result: ImportResult, **fm_changes) -> ImportResult:
    fm = dict(result.front_matter)
    fm.update(fm_changes)
    fm["imported"] = dict(fm["imported"])
    text = render_post(fm, result.body)
    return ImportResult(text, fm["slug"], fm, result.body, result.report, result.sha256, result.body_sha256)


def _keep_curator_fields(result: ImportResult, old: dict) -> ImportResult:
    """Re-importing a changed dump keeps the post's slug and publication date."""
    changes = {k: old[k] for k in ("slug", "date") if isinstance(old.get(k), str) and old.get(k)}
    return _with(result, **changes) if changes else result


def _atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".import-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
