"""Rebuild only what changed: which pages to render again, and whether any need to be.

`up_to_date` is the nothing-changed shortcut: the stamp of every input (`sources.stat_inputs`)
is the last build's, and so is every output file. `LastBuild` knows what the previous build into
the same output folder read and wrote: whether its saved model and plan still hold (`shape.py`),
and which planned files to render: new or differently keyed ones (template, context, URL), those
whose file is not as that build left it, and those that read a value that has changed since.
Everything else is kept as it is, unread. Which sources are parsed again: `sources.py`.
"""
from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import AbstractSet as Set

from repost import shape
from repost.cache import BuildCache, out_stat
from repost.config import Config
from repost.model import Post
from repost.render import Output
from repost.sources import Sources
from repost.track import SOURCE_KINDS, Reads, Tracker
from repost.write import Writer, stat_sig

STATE_KEYS = frozenset({"dir", "sources", "facts", "outputs"})


# ---- nothing changed? -----------------------------------------------------------------------

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
