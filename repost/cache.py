"""The build cache in `<site>/.repost-cache/` (one sqlite file): what makes a rebuild cheap.

- sources: each source file's stat signature and content digest, so an unchanged file is not even
  read. A signature taken within two seconds of the file's last change is not trusted (git's
  "racy clean" rule), because a second edit in the same clock tick keeps size and mtime.
- records: each parsed post or page, keyed by the digest of its kind, path and bytes. Its HTML is
  stored apart and read when a page that shows it is rendered, so a build holds only the model.
- outputs, per output folder: each file's input key, the facts it read while rendering (see
  `track.py`) and its stat after the write, so an up-to-date page is neither rendered nor read.
Everything is dropped when the salt changes: config fingerprint, repost's version and code, the
Markdown/Jinja library versions. A damaged or missing cache only costs time.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import sys
import time
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from repost import __version__, content
from repost.config import Config
from repost.content import Page, Post

FOLDER = ".repost-cache"
FORMAT = 1  # bump when the layout of a table changes
RACY_NS = 2_000_000_000
LIBRARIES = ("markdown-it-py", "nh3", "pygments", "jinja2", "pyyaml", "lxml", "pypinyin")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE IF NOT EXISTS sources(rel TEXT PRIMARY KEY, sig TEXT, digest TEXT);
CREATE TABLE IF NOT EXISTS records(digest TEXT PRIMARY KEY, meta BLOB, body TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS outputs(out TEXT, path TEXT, key BLOB, deps BLOB, stat TEXT, PRIMARY KEY(out, path));
CREATE TABLE IF NOT EXISTS touches(out TEXT, tok TEXT, path TEXT);
CREATE INDEX IF NOT EXISTS touches_tok ON touches(out, tok);
CREATE INDEX IF NOT EXISTS touches_path ON touches(out, path);
CREATE TABLE IF NOT EXISTS state(out TEXT PRIMARY KEY, v BLOB);
"""


class LazyHtml:
    """A Post/Page HTML field that, when the instance does not hold it, reads it from the cache.

    Not memoised: a full render would otherwise end up holding every body in memory.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__.get(self.name)
        if value is None:
            value = obj.__dict__["_html"].load(self.name)
        return value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value


class CachedPost(Post):
    """A Post from the cache; `body_html` and `summary_html` are read on use."""

    body_html = LazyHtml()
    summary_html = LazyHtml()


class CachedPage(Page):
    """A Page from the cache; `body_html` is read on use."""

    body_html = LazyHtml()


_HTML = ("path", "body_html", "summary_html")
_POST_FIELDS = tuple(f.name for f in fields(Post) if f.name not in _HTML)
_PAGE_FIELDS = tuple(f.name for f in fields(Page) if f.name not in _HTML)


class HtmlRef:
    """Where one record's HTML lives."""

    __slots__ = ("reader", "digest")

    def __init__(self, reader: "Reader", digest: str):
        self.reader, self.digest = reader, digest

    def load(self, field: str) -> str:
        return self.reader.html(self.digest, "summary" if field == "summary_html" else "body")


class Reader:
    """Reads HTML for one build: a connection per process (forked render workers open their own)."""

    def __init__(self, db: str):
        self.db = db
        self._con: sqlite3.Connection | None = None
        self._pid = 0

    def __getstate__(self) -> dict:
        return {"db": self.db, "_con": None, "_pid": 0}

    def html(self, digest: str, column: str) -> str:
        if self._con is None or self._pid != os.getpid():
            self._con, self._pid = sqlite3.connect(self.db, timeout=60, check_same_thread=False), os.getpid()
        row = self._con.execute(f"SELECT {column} FROM records WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise RuntimeError(f"the build cache lost the HTML of {digest[:12]}; run `repost build --clean`")
        return row[0]

    def close(self) -> None:
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
        self._con = None


def salt(config: Config) -> str:
    """Everything that changes every parsed record or rendered page at once."""
    h = hashlib.sha256(f"{FORMAT}\n{__version__}\n{sys.version}\n{config.fingerprint}\n{config.root}".encode())
    for name in LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=-\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):  # repost's own code: a changed parser changes records
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def source_digest(kind: str, rel: str, data: bytes) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + rel.encode() + b"\0" + data).hexdigest()


def signature(st: os.stat_result, now_ns: int) -> str | None:
    """A stat signature worth trusting later, or None while the file is too fresh (racy)."""
    if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def out_stat(path: str | Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


class BuildCache:
    """One build's view of the cache; `enabled=False` (`--clean`) starts it over empty."""

    def __init__(self, config: Config, out_dir: Path, *, enabled: bool = True):
        self.folder = config.root / FOLDER
        self.db = str(self.folder / "build.sqlite")
        self.out = str(out_dir)
        self.con = self._open(salt(config), enabled)
        self.reader = Reader(self.db)
        row = self.con.execute("SELECT v FROM meta WHERE k = 'tag_slugs'").fetchone()
        content.TAG_SLUGS.update(pickle.loads(row[0]) if row else {})  # no pinyin dictionaries on a rebuild
        self._slugs = len(content.TAG_SLUGS)

    # -- opening

    def _open(self, current: str, enabled: bool) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        con = old = None
        try:
            con = self._connect()
            old = con.execute("SELECT v FROM meta WHERE k = 'salt'").fetchone()
        except sqlite3.DatabaseError:  # damaged: start over below
            old = None
        if enabled and old is not None and old[0] == current:
            return con
        if con is not None:
            con.close()
        for suffix in ("", "-wal", "-shm"):  # a new salt or --clean: a fresh, empty cache
            Path(self.db + suffix).unlink(missing_ok=True)
        con = self._connect()
        con.execute("INSERT OR REPLACE INTO meta VALUES ('salt', ?)", (current,))
        return con

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.db, timeout=60, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")  # a cache: a torn write is detected and dropped
        con.executescript(SCHEMA)
        return con

    def close(self) -> None:
        if len(content.TAG_SLUGS) != self._slugs:
            with self.con:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES ('tag_slugs', ?)",
                                 (pickle.dumps(dict(content.TAG_SLUGS), protocol=pickle.HIGHEST_PROTOCOL),))
        self.con.close()

    # -- sources and records

    def source_digests(self) -> dict[str, tuple[str | None, str]]:
        """rel -> (trusted stat signature or None, digest) as of the last parse."""
        return {rel: (sig, digest) for rel, sig, digest in self.con.execute("SELECT rel, sig, digest FROM sources")}

    def save_sources(self, rows: Iterable[tuple[str, str | None, str]], gone: Iterable[str]) -> None:
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", rows)
            self.con.executemany("DELETE FROM sources WHERE rel = ?", ((rel,) for rel in gone))

    def load_records(self, wanted: dict[str, Path]) -> dict[str, Post | Page]:
        """The cached records among `wanted` (digest -> source path), as lazy CachedPost/CachedPage."""
        found: dict[str, Post | Page] = {}
        digests = list(wanted)
        for i in range(0, len(digests), 900):
            chunk = digests[i:i + 900]
            marks = ",".join("?" * len(chunk))
            for digest, meta in self.con.execute(f"SELECT digest, meta FROM records WHERE digest IN ({marks})", chunk):
                kind, values = pickle.loads(meta)
                found[digest] = self._lazy(digest, kind, values, wanted[digest])
        return found

    def _lazy(self, digest: str, kind: str, values: tuple, path: Path) -> Post | Page:
        cls, names = (CachedPost, _POST_FIELDS) if kind == "post" else (CachedPage, _PAGE_FIELDS)
        lazy = object.__new__(cls)
        fields = lazy.__dict__
        fields.update(zip(names, values))
        fields["path"] = path
        fields["_html"] = HtmlRef(self.reader, digest)
        return lazy

    def store_records(self, items: Iterable[tuple[str, Post | Page]]) -> None:
        """Save parsed records: the fields (but the path) apart from the HTML."""
        rows = []
        for digest, record in items:
            kind, names = ("post", _POST_FIELDS) if isinstance(record, Post) else ("page", _PAGE_FIELDS)
            values = tuple(getattr(record, name) for name in names)
            meta = pickle.dumps((kind, values), protocol=pickle.HIGHEST_PROTOCOL)
            rows.append((digest, meta, record.body_html, getattr(record, "summary_html", "")))
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", rows)

    def lazy_record(self, digest: str, record: Post | Page) -> Post | Page:
        kind, names = ("post", _POST_FIELDS) if isinstance(record, Post) else ("page", _PAGE_FIELDS)
        return self._lazy(digest, kind, tuple(getattr(record, name) for name in names), record.path)

    def prune_records(self) -> None:
        """Drop records no source points at any more (old versions of edited files)."""
        with self.con:
            self.con.execute("DELETE FROM records WHERE digest NOT IN (SELECT digest FROM sources)")

    # -- per output folder

    def state(self) -> dict[str, Any] | None:
        row = self.con.execute("SELECT v FROM state WHERE out = ?", (self.out,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def outputs(self) -> dict[str, tuple[bytes, str | None]]:
        """path -> (input key, stat after the last write) for this output folder."""
        return {path: (key, stat) for path, key, stat in
                self.con.execute("SELECT path, key, stat FROM outputs WHERE out = ?", (self.out,))}

    def deps(self, path: str) -> list[tuple]:
        row = self.con.execute("SELECT deps FROM outputs WHERE out = ? AND path = ?", (self.out, path)).fetchone()
        return pickle.loads(row[0]) if row and row[0] else []

    def touching(self, tokens: Iterable[str]) -> set[str]:
        """Outputs whose render read any of these objects."""
        found: set[str] = set()
        for tok in tokens:
            found.update(p for (p,) in self.con.execute("SELECT path FROM touches WHERE out = ? AND tok = ?", (self.out, tok)))
        return found

    def save_outputs(self, state: dict[str, Any], rendered: dict[str, tuple[bytes, list, set[str]]],
                     stats: dict[str, str | None], gone: Iterable[str]) -> None:
        """After a successful write: new records for rendered files, stats, removals, the state."""
        out = self.out
        drop = [(out, path) for path in [*gone, *rendered]]
        rows, touches = [], []
        for path, (key, deps, tokens) in rendered.items():
            blob = pickle.dumps(deps, protocol=pickle.HIGHEST_PROTOCOL) if deps else None
            rows.append((out, path, key, blob, stats.get(path)))
            touches.extend((out, tok, path) for tok in tokens)
        with self.con:
            self.con.executemany("DELETE FROM outputs WHERE out = ? AND path = ?", drop)
            if self.con.execute("SELECT 1 FROM touches WHERE out = ? LIMIT 1", (out,)).fetchone():
                self.con.executemany("DELETE FROM touches WHERE out = ? AND path = ?", drop)
            self.con.executemany("INSERT INTO outputs VALUES (?, ?, ?, ?, ?)", rows)
            self.con.executemany("INSERT INTO touches VALUES (?, ?, ?)", touches)
            self.con.executemany("UPDATE outputs SET stat = ? WHERE out = ? AND path = ?",
                                 ((stat, out, path) for path, stat in stats.items() if path not in rendered))
            self.con.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (out, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)))

    def stamp(self) -> dict | None:
        row = self.con.execute("SELECT v FROM meta WHERE k = ?", ("stamp:" + self.out,)).fetchone()
        return pickle.loads(row[0]) if row else None

    def save_stamp(self, stamp: dict | None) -> None:
        """The inputs' stamp of a successful build and what it reported; None forgets it."""
        with self.con:
            if stamp is None:
                self.con.execute("DELETE FROM meta WHERE k = ?", ("stamp:" + self.out,))
            else:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("stamp:" + self.out, pickle.dumps(stamp)))

    def forget_outputs(self) -> None:
        """The output folder is not what we recorded (deleted, replaced): start its record over."""
        with self.con:
            self.con.execute("DELETE FROM outputs WHERE out = ?", (self.out,))
            self.con.execute("DELETE FROM touches WHERE out = ?", (self.out,))
            self.con.execute("DELETE FROM state WHERE out = ?", (self.out,))
            self.con.execute("DELETE FROM meta WHERE k = ?", ("stamp:" + self.out,))


def now_ns() -> int:
    return time.time_ns()
