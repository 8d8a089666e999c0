"""Parsed posts and pages as the build cache holds them: the fields pickled in one row, the HTML
stored apart and read on use, and stubs known only by path and digest until a field is read.

Worker processes make the rows (`record_row`); `cache.BuildCache` stores them and hands back the
records defined here.
"""
from __future__ import annotations

import os
import pickle
import sqlite3
import zlib
from dataclasses import fields
from typing import Any, Iterator

from repost.model import Page, Post

ZIP_OVER = 65536  # HTML longer than this is stored compressed (zlib, even at level 1, cost a
# 10k cold build 0.4 s of its 13; uncompressed, the cache of the bench corpus is 150 MB, not 100)


class LazyHtml:
    """A Post/Page HTML field that, when the instance does not hold it, reads it from the cache.

    Bodies are not memoised: a full render would otherwise end up holding every body in memory.
    Summaries are (`keep`): short, and read by every list page that shows the post.
    """

    def __init__(self, keep: bool = False):
        self.keep = keep

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__.get(self.name)
        if value is None:
            value = obj.__dict__["_html"].load(self.name)
            if self.keep:
                obj.__dict__[self.name] = value
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value


class CachedPost(Post):
    """A Post from the cache; `body_html` and `summary_html` are read on use."""

    body_html = LazyHtml()
    summary_html = LazyHtml(keep=True)


class CachedPage(Page):
    """A Page from the cache; `body_html` is read on use."""

    body_html = LazyHtml()


_HTML = ("path", "body_html", "summary_html")
POST_FIELDS = tuple(f.name for f in fields(Post) if f.name not in _HTML)
PAGE_FIELDS = tuple(f.name for f in fields(Page) if f.name not in _HTML)


class CacheLost(RuntimeError):
    """A record the build counted on is gone from the cache (damaged, or pruned by another build)."""


class _Unloaded:
    """A field of a record known so far only by its path and digest (a stub): the first read of
    any field loads them all, and the record becomes an ordinary cached one."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        obj.__dict__["_html"].fill(obj)
        return getattr(obj, self.name)


class StubPost(CachedPost):
    """A cached Post not loaded yet: a build that reuses the saved site shape reads few of them."""


class StubPage(CachedPage):
    """A cached Page not loaded yet."""


for _name in POST_FIELDS:
    if _name != "rel":
        setattr(StubPost, _name, _Unloaded(_name))
for _name in PAGE_FIELDS:
    if _name != "rel":
        setattr(StubPage, _name, _Unloaded(_name))
STUBS = (StubPost, StubPage)


class HtmlRef:
    """Where one record's HTML lives."""

    __slots__ = ("reader", "digest")

    def __init__(self, reader: "Reader", digest: str):
        self.reader, self.digest = reader, digest

    def load(self, field: str) -> str:
        return self.reader.html(self.digest, "summary" if field == "summary_html" else "body")

    def fill(self, record: Post | Page) -> None:
        """Load a stub's fields (see `_Unloaded`)."""
        fill_record(record, self.reader.meta(self.digest))


def stored_fields(meta: bytes) -> tuple[type, Iterator[tuple[str, Any]]]:
    """The class of a row's record and its (field, value) pairs, from the row's meta column."""
    kind, values = pickle.loads(meta)
    cls, names = (CachedPost, POST_FIELDS) if kind == "post" else (CachedPage, PAGE_FIELDS)
    return cls, zip(names, values)


def fill_record(record: Post | Page, meta: bytes) -> None:
    cls, pairs = stored_fields(meta)
    record.__dict__.update(pairs)
    record.__class__ = cls


class Reader:
    """Reads HTML for one build: a connection per process (forked render workers open their own)."""

    def __init__(self, db: str):
        self.db = db
        self._con: sqlite3.Connection | None = None
        self._pid = 0

    def __getstate__(self) -> dict:
        return {"db": self.db, "_con": None, "_pid": 0}

    def html(self, digest: str, column: str) -> str:
        value = self._get(digest, column)
        return zlib.decompress(value).decode("utf-8") if isinstance(value, bytes) else value

    def meta(self, digest: str) -> bytes:
        return self._get(digest, "meta")

    def _get(self, digest: str, column: str) -> Any:
        if self._con is None or self._pid != os.getpid():
            self._con, self._pid = sqlite3.connect(self.db, timeout=60, check_same_thread=False), os.getpid()
        row = self._con.execute(f"SELECT {column} FROM records WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise CacheLost(f"the build cache lost the record {digest[:12]}; run `repost build --clean`")
        return row[0]

    def close(self) -> None:
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
        self._con = None


def record_row(digest: str, record: Post | Page) -> tuple:
    """A records row for `insert_records`: the fields but the path, then the body and the summary,
    each as UTF-8 and whether it is compressed (when long). Pure, so worker processes make the
    rows and the parent only inserts them. Bytes, not text: the parent neither decodes them from
    the pipe nor encodes them again for sqlite (0.2-0.5 s of its CPU at 10,000 posts)."""
    kind, names = ("post", POST_FIELDS) if isinstance(record, Post) else ("page", PAGE_FIELDS)
    meta = pickle.dumps((kind, tuple(getattr(record, name) for name in names)), protocol=pickle.HIGHEST_PROTOCOL)
    return (digest, meta, *_pack(record.body_html), *_pack(getattr(record, "summary_html", "")))


def row_summary(row: tuple) -> str | None:
    """The summary of a `record_row`, unless it was compressed."""
    return None if row[5] else row[4].decode("utf-8")


def _pack(html: str) -> tuple[bytes, bool]:
    data = html.encode("utf-8")
    return (zlib.compress(data, 1), True) if len(data) > ZIP_OVER else (data, False)
