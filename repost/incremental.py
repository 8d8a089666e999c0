"""Rebuild only what changed: which sources to parse again, which pages to render again.

`stat_inputs` stats every input file once. `parse_sources` parses the files whose bytes changed
(on every core when there are many) and gives every other one as a stub from the cache, which
loads its fields on first use (`Sources.load` loads them all when the model is made again).
`LastBuild` knows what the previous build into the same output folder read and wrote: whether
its saved model and plan still hold (`shape.py`), and which planned files to render: new or
differently keyed ones (template, context, URL), those whose file is not as that build left it,
and those that read a value that has changed since. Everything else is kept as it is, unread.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import AbstractSet as Set, Any, Callable

from repost import content, parallel, shape
from repost.cache import BuildCache, out_stat, signature, source_digest
from repost.config import Config
from repost.model import Page, Post
from repost.errors import ContentError, raise_all
from repost.records import STUBS, record_row, row_summary
from repost.render import Output, theme_dir
from repost.track import SOURCE_KINDS, Reads, Tracker
from repost.write import Writer, stat_sig

STORE_BATCH = 1024  # records per insert (a commit costs; 256 a commit cost the parent 0.25 s more at 10k)
STATE_KEYS = frozenset({"dir", "sources", "facts", "outputs"})


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


# ---- nothing changed? -----------------------------------------------------------------------

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
    if not isinstance(saved, dict) or saved.get("stamp") != stamp or saved.get("dir") != _dir_id(out_dir):
        return None
    if saved.get("next") is not None and time.time() >= saved["next"]:
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

    def __init__(self, cache: BuildCache, out_dir: Path, sources: Sources):
        self.cache, self.out_dir = cache, out_dir
        state = cache.state()
        if not isinstance(state, dict) or not STATE_KEYS <= state.keys() or state["dir"] != _dir_id(out_dir):
            cache.forget_outputs()  # another folder there now, or the record is unreadable: start it over
            state = None
        self.valid = state is not None
        self.outputs: dict[str, tuple[bytes, str | None]] = state["outputs"] if self.valid else {}
        self.files: Set[str] | None = self.outputs.keys() if self.valid else None
        self.facts: dict[tuple, bytes] = dict(state["facts"]) if self.valid else {}
        self.then: dict[tuple, str] = state["sources"] if self.valid else {}
        self.env: str | None = state.get("env") if self.valid else None
        self.warned: dict[str, tuple] = state.get("warned", {}) if self.valid else {}
        now, then = sources.digests, self.then
        self.changed: set[tuple] = {tok for tok, digest in now.items() if then.get(tok) != digest}
        if len(then) > len(now) - sum(tok not in then for tok in self.changed):  # some of them are gone
            self.changed.update(tok for tok in then if tok not in now)
        self.changed_facts: set[tuple] = set()
        self.quick = False
        self.why: str | None = None  # why the last build's model and plan do not hold
        self.tracker: Tracker | None = None

    def reuse(self, config: Config, sources: Sources, env: str | None) -> shape.Saved | None:
        """The last build's model and plan, if this build would make the same ones: same
        templates, static files and --drafts, same source files, each changed one in its old
        shape. `self.why` says why not."""
        self.why = self._differs(sources, env)
        if self.why:
            return None
        blob = self.cache.shape()
        saved = shape.load(blob, config, sources.by_token, self.cache.plan_chunk) if blob else None
        if saved is None:
            self.why = "none saved"
        elif saved.due is not None and time.time() >= saved.due:
            self.why, saved = "a future post is due", None
        self.quick = saved is not None
        return saved

    def _differs(self, sources: Sources, env: str | None) -> str | None:
        if not self.valid:
            return "no last build"
        if env is None or env != self.env:
            return "templates, static files or --drafts changed"
        if self.then.keys() != sources.digests.keys():
            return "files added or removed"
        paths = {e.digest: e.path for e in sources.entries}
        before = self.cache.load_records({self.then[tok]: paths[sources.digests[tok]] for tok in self.changed})
        for tok in self.changed:
            old = before.get(self.then[tok])
            if old is None or not shape.same(old, sources.by_token[tok]):
                return f"{tok[1]} moved (slug, date, tags, draft...)" if old else f"{tok[1]}: its last version is gone"
        return None

    def compare(self, tracker: Tracker) -> None:
        """Add to the changed objects the derived ones (site, tags, template variables, a post's
        mappings) whose facts, the values pages read of them, differ now. With the last build's
        shape, only those held by a changed source can differ."""
        self.tracker = tracker
        if not self.valid:
            return
        sources = {tok for tok in self.changed if tok[0] in SOURCE_KINDS}
        for (tok, name), fp in self.facts.items():
            if self.quick and _root(tok) not in sources:
                continue
            if tracker.current(tok, name) != fp:
                self.changed.add(tok)
                self.changed_facts.add((tok, name))

    def key(self, path: str) -> bytes:
        return self.outputs[path][0]

    def to_render(self, paths: list[str], keys: list[bytes] | None) -> list[int]:
        """Indices of the planned files (by output path) that must be rendered this time; `keys`
        None: the plan is the last build's, so are the keys."""
        outputs, todo, where = self.outputs, set(), {}
        for i, path in enumerate(paths):
            where[path] = i
            last = outputs.get(path)
            if last is None or (keys is not None and last[0] != keys[i]):
                todo.add(i)
        if self.valid:
            for tok in self.changed:
                for path, entries in self.cache.touching(tok):
                    i = where.get(path)
                    if i is not None and i not in todo and self.tracker.stale(tok, entries):
                        todo.add(i)
        base, stat = os.path.join(str(self.out_dir), ""), os.stat
        for path, i in where.items():  # deleted or edited by hand since: out_stat, inlined (a big site has many)
            if i not in todo:
                try:
                    st = stat(base + path)
                except OSError:
                    todo.add(i)
                    continue
                if stat_sig(st) != outputs[path][1]:
                    todo.add(i)
        return sorted(todo)

    def save(self, writer: Writer, paths: list[str], statics: dict[str, Path], rendered: dict[str, tuple[bytes, Reads]],
             sources: Sources, stamp: dict | None, env: str | None, warned: dict[str, tuple], shape_blob: bytes | None) -> None:
        """Record this build (called only after the output is committed)."""
        for key in self.changed_facts:
            self.facts[key] = self.tracker.current(*key)
        for _, reads in rendered.values():
            for tok, name, fp in reads.facts:
                self.facts[(tok, name)] = fp
        base = str(self.out_dir)
        restat = writer.swapped or not self.valid  # a new tree: links may have become copies
        outputs: dict[str, tuple[bytes, str | None]] = {}
        written = writer.stats  # what the writer staged, stat'ed then: renaming keeps size, time and inode
        for path in paths:
            if path in rendered:
                outputs[path] = (rendered[path][0], written.get(path) or out_stat(os.path.join(base, path)))
            else:
                key, stat = self.outputs[path]
                outputs[path] = (key, out_stat(os.path.join(base, path)) if restat else stat)
        for rel in statics:
            outputs[rel] = (b"static", None)
        gone = [path for path in self.outputs if path not in outputs]
        state = {"dir": _dir_id(self.out_dir), "sources": sources.digests, "facts": self.facts, "outputs": outputs,
                 "env": env if (shape_blob or self.quick) else None, "warned": warned}
        stamp = dict(stamp, dir=state["dir"]) if stamp and stamp["stamp"] else None
        self.cache.save(state, stamp, {path: reads for path, (_, reads) in rendered.items()}, gone,
                        fresh=not self.valid, shape=shape_blob)


def _root(tok: tuple) -> tuple:
    """The object a derived token hangs from: ("map", ("post", rel), "imported") -> ("post", rel)."""
    while tok[0] == "map":
        tok = tok[1]
    return tok


def _dir_id(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
