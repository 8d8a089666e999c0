"""Rebuild only what changed: which sources to parse again, which pages to render again.

`parse_sources` takes unchanged files' records from the cache and parses the rest (on every core
when there are many). `LastBuild` knows what the previous build into the same output folder read
and wrote, and says which planned files to render: new or differently keyed ones (template,
context, URL), those whose file is not as that build left it, and those that read a value that
has changed since. Everything else is kept as it is, unread.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from repost import content, parallel
from repost.cache import BuildCache, out_stat, record_row, signature, source_digest
from repost.config import Config
from repost.content import Page, Post
from repost.errors import ContentError, raise_all
from repost.render import Output, theme_dir
from repost.track import Reads, Tracker
from repost.ui import UI
from repost.write import Writer

STORE_BATCH = 256


@dataclass
class Sources:
    posts: list[Post]
    pages: list[Page]
    digests: dict[tuple, str]  # ("post", rel) -> digest of its bytes
    warnings: list[str]


@dataclass
class _Entry:
    kind: str
    path: Path
    rel: str
    sig: str | None
    digest: str | None = None
    data: bytes | None = None
    record: Any = None


def parse_sources(config: Config, cache: BuildCache, post_files: list[Path], page_files: list[Path], ui: UI) -> Sources:
    """Every post and page, parsed or from the cache; all errors raised together, warnings shown once."""
    known = cache.source_digests()
    now = time.time_ns()
    entries: list[_Entry] = []
    errors: dict[int, ContentError] = {}
    for kind, folder, files in (("post", config.paths.posts, post_files), ("page", config.paths.pages, page_files)):
        for path, rel in zip(files, _rels(config, folder, files)):
            entry = _Entry(kind, path, rel, None)
            try:
                _identify(entry, known.get(rel), now)
            except ContentError as exc:
                errors[len(entries)] = exc
            entries.append(entry)
    found = cache.load_records({e.digest: e.path for e in entries if e.digest})
    misses = []
    for i, entry in enumerate(entries):
        entry.record = found.get(entry.digest) if entry.digest else None
        if entry.record is None and i not in errors:
            misses.append(i)
    _parse(config, cache, entries, misses, errors)
    if errors:
        raise_all([errors[i] for i in sorted(errors)])
    warnings = [warning for e in entries for warning in e.record.warnings]
    for warning in warnings:
        ui.warn(warning)
    current = {e.rel for e in entries}
    gone = [rel for rel in known if rel not in current]
    cache.save_sources(((e.rel, e.sig, e.digest) for e in entries if known.get(e.rel) != (e.sig, e.digest)), gone)
    if gone or misses:
        cache.prune_records()
        cache.keep_warm({e.digest for e in entries})
    return Sources(posts=[e.record for e in entries if e.kind == "post"],
                   pages=[e.record for e in entries if e.kind == "page"],
                   digests={(e.kind, e.rel): e.digest for e in entries}, warnings=warnings)


def _rels(config: Config, folder: Path, files: list[Path]) -> list[str]:
    """`config.rel` of each file, resolving the folder once instead of every file."""
    if not files:
        return []
    base = config.rel(folder)
    if os.path.isabs(base):
        return [str(path) for path in files]
    cut = len(str(folder)) + 1
    prefix = "" if base == "." else base + "/"
    return [prefix + str(path)[cut:].replace(os.sep, "/") for path in files]


def _identify(entry: _Entry, last: tuple[str | None, str] | None, now: int) -> None:
    """The digest of a file: from the cache when its stat is unchanged (and old enough), else read."""
    try:
        st = os.stat(entry.path)
        entry.sig = signature(st, now)
        if entry.sig is not None and last is not None and last[0] == entry.sig:
            entry.digest = last[1]
            return
        entry.data = entry.path.read_bytes()
    except OSError as exc:
        raise ContentError(entry.rel, None, f"cannot read: {exc.strerror}") from None
    entry.digest = source_digest(entry.kind, entry.rel, entry.data)


def _parse(config: Config, cache: BuildCache, entries: list[_Entry], misses: list[int], errors: dict) -> None:
    """Parse the files the cache does not have; store each record and keep only its lazy copy."""
    for i in misses:
        if entries[i].data is None:  # known by its stat, but its record is gone: read it after all
            try:
                _identify(entries[i], None, 0)
            except ContentError as exc:
                errors[i] = exc
    misses = [i for i in misses if i not in errors]

    def job(i: int) -> tuple[int, Any]:
        entry = entries[i]
        parse = content.parse_post if entry.kind == "post" else content.parse_page
        try:
            record = parse(config, entry.path, entry.rel, content.decode(entry.data, entry.rel))
        except ContentError as exc:
            return i, parallel.Failure(exc.path, exc.line, exc.message)
        return i, record_row(entry.digest, record)

    pending: list[tuple[int, tuple]] = []
    for i, result in parallel.run(job, misses, parallel=parallel.worth_it(len(misses), parallel.MIN_PARSE)):
        if isinstance(result, parallel.Failure):
            errors[i] = result.error()
            continue
        pending.append((i, result))
        if len(pending) >= STORE_BATCH:
            _store(cache, entries, pending)
    _store(cache, entries, pending)


def _store(cache: BuildCache, entries: list[_Entry], pending: list[tuple[int, tuple]]) -> None:
    """Save parsed records; the build keeps only their lazy copies (no HTML in memory)."""
    if not pending:
        return
    cache.insert_records([row for _, row in pending])
    for i, row in pending:
        entries[i].record = cache.lazy(row[0], row[1], entries[i].path)
        entries[i].data = None
    pending.clear()


# ---- nothing changed? -----------------------------------------------------------------------

def input_stamp(config: Config, files: list[Path], drafts: bool) -> str | None:
    """One digest of the stat of every input file (sources, static files, templates), or None when
    one is too fresh for its stat to be trusted. Config and code are in the cache's salt."""
    now = time.time_ns()
    h = hashlib.blake2b(f"{drafts}\n".encode(), digest_size=16)
    for path in [*files, *_template_files(config)]:
        try:
            sig = signature(os.stat(path), now)
        except OSError:
            return None
        if sig is None:
            return None
        h.update(f"{path}\0{sig}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _template_files(config: Config) -> list[str]:
    found = []
    for folder in (config.paths.layouts, theme_dir() / "templates"):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            found.extend(os.path.join(dirpath, name) for name in sorted(filenames))
    return found


def up_to_date(cache: BuildCache, out_dir: Path, stamp: str | None) -> dict | None:
    """What the last build reported, if its inputs and its output are exactly as it left them."""
    saved = cache.stamp() if stamp is not None else None
    if not saved or saved["stamp"] != stamp or saved["dir"] != _dir_id(out_dir):
        return None
    if saved["next"] is not None and time.time() >= saved["next"]:
        return None  # a future post is due
    state = cache.state() or {}
    base = str(out_dir)
    if any(out_stat(os.path.join(base, path)) != stat for path, (_, stat) in state.get("outputs", {}).items()
           if stat is not None):
        return None
    return saved


def next_due(posts: list[Post], config: Config) -> float | None:
    """When the earliest future post becomes due (the site changes then without any edit)."""
    now = datetime.now(config.tz)
    return min((p.date.timestamp() for p in posts if p.date > now), default=None)


# ---- pages ----------------------------------------------------------------------------------

def output_key(tracker: Tracker, out: Output, template_digest: bytes) -> bytes:
    """What a planned file is, apart from the values its template reads: template, URL, context."""
    return tracker.key(out.template, template_digest, out.url, out.context)


class LastBuild:
    """What the previous build into this output folder read and wrote."""

    def __init__(self, cache: BuildCache, out_dir: Path, tracker: Tracker, sources: Sources):
        self.cache, self.out_dir, self.tracker = cache, out_dir, tracker
        state = cache.state()
        if state is None or state.get("dir") != _dir_id(out_dir):
            if state is not None:
                cache.forget_outputs()
            state = None
        self.valid = state is not None
        self.outputs: dict[str, tuple[bytes, str | None]] = state["outputs"] if self.valid else {}
        self.files: set[str] | None = set(self.outputs) if self.valid else None
        self.facts: dict[tuple, bytes] = dict(state["facts"]) if self.valid else {}
        self.changed: set[tuple] = set()
        self.changed_facts: set[tuple] = set()
        if self.valid:
            last = state["sources"]
            now = sources.digests
            self.changed = {tok for tok in last.keys() | now.keys() if last.get(tok) != now.get(tok)}
            for (tok, name), fp in self.facts.items():
                if tracker.current(tok, name) != fp:
                    self.changed.add(tok)
                    self.changed_facts.add((tok, name))

    def to_render(self, plan: list[Output], keys: list[bytes]) -> list[int]:
        """Indices of the planned files that must be rendered this time."""
        todo = {i for i, out in enumerate(plan) if self.outputs.get(out.path, (None,))[0] != keys[i]}
        if self.changed:
            where = {out.path: i for i, out in enumerate(plan)}
            for path in self.cache.touching(self.changed):
                i = where.get(path)
                if i is not None and i not in todo and self.tracker.stale(self.cache.deps(path), self.changed):
                    todo.add(i)
        base = str(self.out_dir)
        for i, out in enumerate(plan):
            if i not in todo and out_stat(os.path.join(base, out.path)) != self.outputs[out.path][1]:
                todo.add(i)  # deleted or edited by hand since
        return sorted(todo)

    def save(self, writer: Writer, plan: list[Output], statics: dict[str, Path],
             rendered: dict[str, tuple[bytes, Reads]], sources: Sources, stamp: dict | None) -> None:
        """Record this build (called only after the output is committed)."""
        for key in self.changed_facts:
            self.facts[key] = self.tracker.current(*key)
        for _, reads in rendered.values():
            for tok, name, fp in reads.facts:
                self.facts[(tok, name)] = fp
        base = str(self.out_dir)
        restat = writer.swapped or not self.valid  # a new tree: links may have become copies
        outputs: dict[str, tuple[bytes, str | None]] = {}
        for out in plan:
            path = out.path
            if path in rendered:
                outputs[path] = (rendered[path][0], out_stat(os.path.join(base, path)))
            else:
                key, stat = self.outputs[path]
                outputs[path] = (key, out_stat(os.path.join(base, path)) if restat else stat)
        for rel in statics:
            outputs[rel] = (b"static", None)
        gone = [path for path in self.outputs if path not in outputs]
        state = {"dir": _dir_id(self.out_dir), "sources": sources.digests, "facts": self.facts, "outputs": outputs}
        stamp = dict(stamp, dir=state["dir"]) if stamp and stamp["stamp"] else None
        self.cache.save(state, stamp, {path: reads for path, (_, reads) in rendered.items()}, gone, fresh=not self.valid)


def _dir_id(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
