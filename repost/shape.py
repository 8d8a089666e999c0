"""The site's shape, saved: the last build's model and output plan, with posts and pages by name.

Most edits change a post's text, not where it sits: its body, summary or title, but not its slug,
date, tags or draft flag. The model (published posts, their order, tags, pages) and the plan (every
output file with its template and context) are made only of those fields (`FIELDS`), so such an
edit leaves both exactly as they were. The build then reloads them from here instead of loading
every record and computing model, plan and each page's key again; it renders only the pages whose
recorded reads (`track.py`) the edit changed. Records come back as whatever the build has for
each name (stubs for unchanged files, which load their fields only if a page reads them).
"""
from __future__ import annotations

import copyreg
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from repost.config import Config
from repost.model import Page, Post, Site
from repost.records import STUBS, CachedPage, CachedPost, CacheLost
from repost.render import Output

# What model.build_model, render.plan_outputs, render.shared_context and the page keys read of
# each record, besides its path: a change to any of these rebuilds model and plan.
FIELDS = {
    "post": ("slug", "date", "updated", "tags", "draft", "permission", "url", "output"),
    "page": ("slug", "title", "weight", "draft", "url", "output", "date", "updated"),
}


CHUNK = 256  # planned files per pickle: a build unpickles only the chunks holding pages it renders


class Plan(Sequence):
    """A saved plan: outputs unpickled a chunk at a time, when one of them is asked for."""

    def __init__(self, paths: list[str], fetch: Any, load: Any):
        self.paths, self._fetch, self._load = paths, fetch, load
        self._loaded: dict[int, list[Output]] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = i // CHUNK
        if n not in self._loaded:
            try:
                self._loaded[n] = self._load(self._fetch(n))
            except CacheLost:
                raise
            except Exception as exc:  # names a record that is gone, or damaged: build it all again
                raise CacheLost(f"the saved plan cannot be read ({type(exc).__name__})") from None
        return self._loaded[n][i % CHUNK]


@dataclass
class Saved:
    """A saved shape, loaded: the model and plan, and what the build derives from the model."""

    site: Site
    plan: Plan
    updated: datetime | None  # the `updated` template variable (the newest post date)
    due: float | None  # when the earliest future post becomes due


def same(old: Post | Page, new: Post | Page) -> bool:
    """Whether a new version of a record leaves the model and plan as they were. repr, not ==,
    for dates: the same instant with another UTC offset prints differently."""
    kind = "post" if isinstance(new, Post) else "page"
    if isinstance(old, Post) != (kind == "post"):
        return False
    names = FIELDS[kind]
    return repr([getattr(old, n) for n in names]) == repr([getattr(new, n) for n in names])


def dump(site: Site, plan: list[Output], updated: datetime | None, due: float | None) -> tuple[bytes, list[bytes]]:
    """The model with the plan's outline (its paths), and the plan in chunks, to store apart."""
    head = _dumps((site.posts, site.pages, site.tags, site.skipped, site.tag_of, [o.path for o in plan], updated, due))
    return head, [_dumps(plan[i:i + CHUNK]) for i in range(0, len(plan), CHUNK)]


def load(head: bytes, config: Config, records: Mapping[tuple[str, str], Post | Page], fetch: Any) -> Saved | None:
    """The saved shape with this build's records in it; None if it names a record that is gone.
    `fetch(n)` gives chunk n of the plan."""

    def unpickle(data: bytes) -> Any:
        return _Unpickler(io.BytesIO(data), config, records).load()

    try:
        posts, pages, tags, skipped, tag_of, paths, updated, due = unpickle(head)
    except (KeyError, pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError):
        return None
    site = Site(config=config, posts=posts, pages=pages, tags=tags, skipped=skipped, tag_of=tag_of)
    return Saved(site, Plan(paths, fetch, unpickle), updated, due)


def _dumps(value: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def _record(kind: str, rel: str) -> Any:
    raise RuntimeError("resolved by _Unpickler")


def _config() -> Any:
    raise RuntimeError("resolved by _Unpickler")


def _by_name(record: Post | Page) -> tuple:
    return _record, ("post" if isinstance(record, Post) else "page", record.rel)


def _no_config(config: Config) -> tuple:
    return _config, ()


class _Pickler(pickle.Pickler):
    dispatch_table = {**copyreg.dispatch_table, Config: _no_config,
                      **{cls: _by_name for cls in (Post, Page, CachedPost, CachedPage, *STUBS)}}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, config: Config, records: Mapping[tuple[str, str], Post | Page]):
        super().__init__(file)
        self.config, self.records = config, records

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_record":
            return lambda kind, rel: self.records[(kind, rel)]
        if module == __name__ and name == "_config":
            return lambda: self.config
        return super().find_class(module, name)
