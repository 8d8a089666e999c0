"""This build's posts and pages: one stat per input; each file parsed, found in the cache by its
digest, or a stub of an unchanged file; parsed in workers and stored as they arrive.

`stat_inputs` stats every input file once (sources, templates, static files): all of them make
the stamp of the nothing-changed shortcut (`incremental.up_to_date`), and a source whose stat is
as the cache recorded it is known by its digest without being read. `parse_sources` parses the
files whose bytes changed (on every core when there are many, each batch of records stored in
the cache as the workers send them) and gives every other one as a stub from the cache, which
loads its fields on first use (`Sources.load` loads them all when the model is made again).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from repost import content, parallel
from repost.cache import BuildCache, signature, source_digest
from repost.config import Config
from repost.model import Page, Post
from repost.errors import ContentError, raise_all
from repost.records import STUBS, record_row, row_summary
from repost.render import theme_dir

STORE_BATCH = 1024  # records per insert (a commit costs; 256 a commit cost the parent 0.25 s more at 10k)


@dataclass
class Inputs:
    """Every input file, stat'ed once."""

    posts: list[Path]
    pages: list[Path]
    statics: dict[str, Path]
    sigs: list[str | None]  # the trusted stat signature of each of posts + pages (None: too fresh, or gone)
    stamp: str | None  # all of them: the last build's stamp means nothing changed
    env: str | None  # templates, static files and --drafts: what a saved shape depends on but sources


def stat_inputs(config: Config, posts: list[Path], pages: list[Path], statics: dict[str, Path], drafts: bool) -> Inputs:
    """Digests of the stat of the input files (None when one is too fresh for its stat to be
    trusted). Config and code are in the cache's salt."""
    now = time.time_ns()
    h = hashlib.blake2b(f"{drafts}\n".encode(), digest_size=16)
    env_ok = _feed(h, [*statics.values(), *_template_files(config)], now, [])
    env = h.hexdigest() if env_ok else None
    sigs: list[str | None] = []
    ok = _feed(h, [*posts, *pages], now, sigs) and env_ok
    return Inputs(posts, pages, statics, sigs, h.hexdigest() if ok else None, env)


def _feed(h: Any, paths: list, now: int, sigs: list) -> bool:
    ok, parts = True, []
    for path in paths:
        try:
            sig = signature(os.stat(path), now)
        except OSError:
            sig = None
        sigs.append(sig)
        if sig is None:
            ok = False
        elif ok:
            parts.append(f"{path}\0{sig}\n")
    h.update("".join(parts).encode("utf-8", "surrogateescape"))
    return ok


def _template_files(config: Config) -> list[str]:
    """Every template file a build may read (the site's layouts, then the theme's), sorted: the
    stamp hashes them in order."""
    found = []
    for folder in (config.paths.layouts, theme_dir() / "templates"):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            found.extend(os.path.join(dirpath, name) for name in sorted(filenames))
    return found


@dataclass
class _Entry:
    kind: str
    path: Path
    rel: str
    sig: str | None
    digest: str | None = None
    data: bytes | None = None
    record: Any = None


class Sources:
    """This build's posts and pages: records, stubs of unchanged files, digests."""

    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        self.digests: dict[tuple, str] = {(e.kind, e.rel): e.digest for e in entries}  # ("post", rel) -> digest
        self._list()

    def _list(self) -> None:
        self.posts: list[Post] = [e.record for e in self.entries if e.kind == "post"]
        self.pages: list[Page] = [e.record for e in self.entries if e.kind == "page"]
        self.by_token: dict[tuple, Post | Page] = {(e.kind, e.rel): e.record for e in self.entries}

    def load(self, config: Config, cache: BuildCache) -> None:
        """Every record's fields, at once (the model is made again); a lost record is parsed again."""
        missing = cache.fill(e.record for e in self.entries)
        if missing:
            errors: dict[int, ContentError] = {}
            _parse(config, cache, self.entries, [i for i, e in enumerate(self.entries) if e.digest in missing], errors)
            raise_all([errors[i] for i in sorted(errors)])
            self._list()

    def warnings(self, saved: dict[str, tuple] | None = None) -> tuple[list[str], dict[str, tuple]]:
        """Every record's warnings in file order, and by file; a stub's are `saved` (same bytes
        as when the last build read them)."""
        found: dict[str, tuple] = {}
        for e in self.entries:
            found[e.rel] = (saved or {}).get(e.rel, ()) if type(e.record) in STUBS else e.record.warnings
        return [w for ws in found.values() for w in ws], {rel: ws for rel, ws in found.items() if ws}


def parse_sources(config: Config, cache: BuildCache, inputs: Inputs, meanwhile: Callable[[], None] | None = None) -> Sources:
    """Every post and page: the files whose bytes changed parsed (or found in the cache), the
    others as stubs. All errors raised together. `meanwhile`: see `parallel.run`."""
    known = cache.source_digests()
    entries: list[_Entry] = []
    errors: dict[int, ContentError] = {}
    sigs = iter(inputs.sigs)
    for kind, folder, files in (("post", config.paths.posts, inputs.posts), ("page", config.paths.pages, inputs.pages)):
        for path, rel, sig in zip(files, _rels(config, folder, files), sigs):
            entry = _Entry(kind, path, rel, sig)
            if rel in known:  # a file the cache does not know is read where it is parsed (by a worker)
                try:
                    _identify(entry, known[rel])
                except ContentError as exc:
                    errors[len(entries)] = exc
            entries.append(entry)
    fresh = [i for i, e in enumerate(entries) if i not in errors and (e.digest is None or known[e.rel][1] != e.digest)]
    for i, entry in enumerate(entries):
        if i not in errors and entry.digest is not None:
            entry.record = cache.stub(entry.kind, entry.digest, entry.path, entry.rel)
    missing = cache.fill(entries[i].record for i in fresh if entries[i].record is not None)
    _parse(config, cache, entries, [i for i in fresh if entries[i].digest is None or entries[i].digest in missing], errors,
           meanwhile)
    if errors:
        raise_all([errors[i] for i in sorted(errors)])
    current = {e.rel for e in entries}
    gone = [rel for rel in known if rel not in current]
    cache.save_sources(((e.rel, e.sig, e.digest) for e in entries if known.get(e.rel) != (e.sig, e.digest)), gone)
    if gone or fresh:  # old records are dropped when the build ends
        cache.live = {e.digest for e in entries}
        cache.replaced = {known[rel][1] for rel in gone} | {known[e.rel][1] for i in fresh if (e := entries[i]).rel in known}
    return Sources(entries)


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


def _identify(entry: _Entry, last: tuple[str | None, str] | None) -> None:
    """The digest of a file: from the cache when its stat is unchanged (and old enough), else read."""
    if entry.sig is not None and last is not None and last[0] == entry.sig:
        entry.digest = last[1]
        return
    entry.data, entry.digest = _contents(entry)


def _contents(entry: _Entry) -> tuple[bytes, str]:
    """The file's bytes and their digest."""
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        raise ContentError(entry.rel, None, f"cannot read: {exc.strerror}") from None
    return data, source_digest(entry.kind, entry.rel, data)


def _parse(config: Config, cache: BuildCache, entries: list[_Entry], misses: list[int], errors: dict,
           meanwhile: Callable[[], None] | None = None) -> None:
    """Parse the files the cache does not have; store each record and keep only its lazy copy.
    `meanwhile`: see `parallel.run`."""
    for i in misses:
        if entries[i].data is None and entries[i].digest is not None:  # known by its stat, but its record is gone
            try:
                entries[i].sig = None
                _identify(entries[i], None)
            except ContentError as exc:
                errors[i] = exc
    misses = [i for i in misses if i not in errors]

    def job(i: int) -> tuple[int, Any]:
        entry = entries[i]
        data, digest = entry.data, entry.digest
        parse = content.parse_post if entry.kind == "post" else content.parse_page
        try:
            if data is None:  # not read yet (see parse_sources)
                data, digest = _contents(entry)
            record = parse(config, entry.path, entry.rel, content.decode(data, entry.rel))
        except ContentError as exc:
            return i, parallel.Failure(exc.path, exc.line, exc.message)
        return i, record_row(digest, record)

    pending: list[tuple[int, tuple]] = []
    for i, result in parallel.run(job, misses, parallel=parallel.worth_it(len(misses), parallel.MIN_PARSE), meanwhile=meanwhile):
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
        entries[i].record = cache.lazy(row[0], row[1], entries[i].path, row_summary(row) if entries[i].kind == "post" else None)
        entries[i].digest, entries[i].data = row[0], None
    pending.clear()

