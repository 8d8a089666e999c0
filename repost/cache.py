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

import contextlib
import hashlib
import marshal
import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from repost import __version__, model, records
from repost.config import Config
from repost.model import Page, Post
from repost.records import STUBS, CacheLost, HtmlRef, Reader, StubPage, StubPost
from repost.track import Reads, pack, tok_id, unpack
from repost.write import stat_sig

FOLDER = ".repost-cache"
FORMAT = 6  # bump when the layout of a table changes
RACY_NS = 2_000_000_000
LIBRARIES = ("markdown-it-py", "markdown-it-pyrs", "nh3", "pygments", "jinja2", "pyyaml", "lxml", "pypinyin")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE IF NOT EXISTS sources(rel TEXT PRIMARY KEY, sig TEXT, digest TEXT);
CREATE TABLE IF NOT EXISTS records(digest TEXT PRIMARY KEY, meta BLOB, summary, body);  -- summary before the
-- long body: reading it then does not walk the body's overflow pages
CREATE TABLE IF NOT EXISTS outs(id INTEGER PRIMARY KEY, folder TEXT UNIQUE, state BLOB, stamp BLOB, shape BLOB);
CREATE TABLE IF NOT EXISTS plans(out INTEGER, n INTEGER, chunk BLOB, PRIMARY KEY(out, n));
CREATE TABLE IF NOT EXISTS deps(out INTEGER, path TEXT, reads BLOB, PRIMARY KEY(out, path));
CREATE TABLE IF NOT EXISTS touches(out INTEGER, tok INTEGER, paths BLOB, PRIMARY KEY(out, tok)) WITHOUT ROWID;
"""


_WARM: dict[str, tuple[str, dict]] = {}  # db -> (salt, digest -> record): what a long-running process
# (`repost serve`) already loaded, so that its rebuilds do not unpickle every record again


def salt(config: Config) -> str:
    """Everything that changes every parsed record or rendered page at once."""
    h = hashlib.sha256(f"{FORMAT}\n{__version__}\n{sys.version}\n{config.fingerprint}\n{config.root}".encode())
    for name, version in versions(LIBRARIES).items():
        h.update(f"{name}={version}\n".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):  # repost's own code: a changed parser changes records
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution ("-" if none), read from the names of the
    `.dist-info` folders on sys.path, first one wins, as importlib.metadata does; that module
    itself is only loaded for what this does not find (importing it costs a rebuild ~7 ms)."""
    key = {name: name.replace("-", "_").replace(".", "_").lower() for name in names}
    wanted, found = set(key.values()), {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                name, _, version = entry[:-10].partition("-")
                name = name.replace(".", "_").lower()
                if name in wanted and name not in found:
                    found[name] = version
    out = {}
    for name in names:
        if key[name] in found:
            out[name] = found[key[name]]
            continue
        from importlib import metadata

        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def source_digest(kind: str, rel: str, data: bytes) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + rel.encode() + b"\0" + data).hexdigest()


def signature(st: os.stat_result, now_ns: int) -> str | None:
    """A stat signature worth trusting later, or None while the file is too fresh (racy)."""
    if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def out_stat(path: str | Path) -> str | None:
    try:
        return stat_sig(os.stat(path))
    except OSError:
        return None


class BuildCache:
    """One build's view of the cache; `enabled=False` (`--clean`) starts it over empty."""

    def __init__(self, config: Config, out_dir: Path, *, enabled: bool = True):
        self.folder = config.root / FOLDER
        self.db = str(self.folder / "build.sqlite")
        self.out = str(out_dir)
        self._out: int | None = None
        self._scratch: str | None = None
        self.live: set[str] | None = None  # set when sources changed: the digests still in use
        self.replaced: set[str] = set()  # and the digests they had
        current = salt(config)
        try:
            self.con = self._open(current, enabled)
        except (OSError, sqlite3.Error):  # a read-only site, a full disk: build without a cache
            self._scratch = tempfile.mkdtemp(prefix="repost-cache-")
            self.folder, self.db = Path(self._scratch), os.path.join(self._scratch, "build.sqlite")
            self.con = self._open(current, False)
        warm = _WARM.get(self.db)
        if warm is None or warm[0] != current:
            warm = _WARM[self.db] = (current, {})
        self.warm: dict[str, Post | Page] = warm[1]
        self.reader = Reader(self.db)
        row = self.con.execute("SELECT v FROM meta WHERE k = 'tag_slugs'").fetchone()
        model.TAG_SLUGS.update(pickle.loads(row[0]) if row else {})  # no pinyin dictionaries on a rebuild
        self._slugs = len(model.TAG_SLUGS)
        row = self.con.execute("SELECT v FROM meta WHERE k = 'template_refs'").fetchone()
        self.template_refs: dict[str, list | None] = pickle.loads(row[0]) if row else {}
        self._refs = len(self.template_refs)

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
        _WARM.pop(self.db, None)
        for suffix in ("", "-wal", "-shm", "-journal"):  # a new salt or --clean: a fresh, empty cache
            Path(self.db + suffix).unlink(missing_ok=True)
        for old_code in self.folder.glob("__jinja2_*.cache"):
            old_code.unlink(missing_ok=True)
        con = self._connect()
        con.execute("INSERT OR REPLACE INTO meta VALUES ('salt', ?)", (current,))
        return con

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.db, timeout=60, isolation_level=None, check_same_thread=False)
        # A rollback journal, not a write-ahead log: a build writes its records and its record of
        # pages in a few big transactions while nothing reads (render workers read afterwards),
        # and a log writes every page twice (0.3 s of a 10,000-post build's serial end, and as
        # much while the workers parse). Readers and the writer only ever wait briefly.
        con.execute("PRAGMA journal_mode=TRUNCATE")
        con.execute("PRAGMA synchronous=OFF")  # a cache: a torn write is detected and dropped
        con.execute("PRAGMA cache_size=-16000")
        con.executescript(SCHEMA)
        return con

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction. The connection is in autocommit mode (so that pragmas and reads need
        none), where `with con` commits nothing and each statement is its own transaction: a
        commit per row, 4x slower for the 265,000 index rows of a 10,000-post build, and not atomic."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        """Keep the memos that grew (tag slugs, template references), drop records no source
        uses any more (kept until now: the build compares an edited file's old record with its
        new one), then close."""
        with self._transaction():
            if self.live is not None:
                self.con.executemany("DELETE FROM records WHERE digest = ?", ((d,) for d in self.replaced - self.live))
                for digest in [d for d in self.warm if d not in self.live]:
                    del self.warm[digest]
            if len(model.TAG_SLUGS) != self._slugs:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES ('tag_slugs', ?)",
                                 (pickle.dumps(dict(model.TAG_SLUGS), protocol=pickle.HIGHEST_PROTOCOL),))
            if len(self.template_refs) != self._refs:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES ('template_refs', ?)",
                                 (pickle.dumps(self.template_refs, protocol=pickle.HIGHEST_PROTOCOL),))
        self.con.close()
        if self._scratch is not None:
            _WARM.pop(self.db, None)
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- sources and records

    def source_digests(self) -> dict[str, tuple[str | None, str]]:
        """rel -> (trusted stat signature or None, digest) as of the last parse."""
        return {rel: (sig, digest) for rel, sig, digest in self.con.execute("SELECT rel, sig, digest FROM sources")}

    def save_sources(self, rows: Iterable[tuple[str, str | None, str]], gone: Iterable[str]) -> None:
        with self._transaction():
            self.con.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", rows)
            self.con.executemany("DELETE FROM sources WHERE rel = ?", ((rel,) for rel in gone))

    def load_records(self, wanted: dict[str, Path]) -> dict[str, Post | Page]:
        """The cached records among `wanted` (digest -> source path), as lazy CachedPost/CachedPage."""
        found = {digest: self.warm[digest] for digest in wanted if digest in self.warm}
        digests = [digest for digest in wanted if digest not in found]
        for i in range(0, len(digests), 900):
            chunk = digests[i:i + 900]
            marks = ",".join("?" * len(chunk))
            for digest, meta in self.con.execute(f"SELECT digest, meta FROM records WHERE digest IN ({marks})", chunk):
                found[digest] = self.lazy(digest, meta, wanted[digest])
        return found

    def stub(self, kind: str, digest: str, path: Path, rel: str) -> Post | Page:
        """The record of an unchanged source without reading it: warm in a long-running process,
        else a stub that loads its fields on first use (or in bulk with `fill`)."""
        record = self.warm.get(digest)
        if record is None:
            record = object.__new__(StubPost if kind == "post" else StubPage)
            record.__dict__.update(rel=rel, path=path, _html=HtmlRef(self.reader, digest))
            self.warm[digest] = record
        return record

    def fill(self, objects: Iterable[Post | Page]) -> set[str]:
        """Load the stubs among `objects` in bulk; returns the digests the cache does not have."""
        stubs = {r.__dict__["_html"].digest: r for r in objects if type(r) in STUBS}
        digests = list(stubs)
        for i in range(0, len(digests), 900):
            chunk = digests[i:i + 900]
            marks = ",".join("?" * len(chunk))
            for digest, meta in self.con.execute(f"SELECT digest, meta FROM records WHERE digest IN ({marks})", chunk):
                records.fill_record(stubs.pop(digest), meta)
        for digest in stubs:
            self.warm.pop(digest, None)
        return set(stubs)

    def lazy(self, digest: str, meta: bytes, path: Path, summary: str | None = None) -> Post | Page:
        """A record without its HTML, from its stored fields; with its summary when the caller
        has it at hand (a fresh parse): every list page shows it, in every render worker."""
        cls, pairs = records.stored_fields(meta)
        record = object.__new__(cls)
        fields_ = record.__dict__
        fields_.update(pairs)
        fields_["path"] = path
        fields_["_html"] = HtmlRef(self.reader, digest)
        if summary is not None:
            fields_["summary_html"] = summary
        self.warm[digest] = record
        return record

    def insert_records(self, rows: list[tuple]) -> None:
        """Rows made by `record_row` (in worker processes when there are many)."""
        with self._transaction():  # plain HTML stored as text, as it was encoded (no copy made)
            self.con.executemany("INSERT OR REPLACE INTO records(digest, meta, body, summary) VALUES (?1, ?2, "
                                 "CASE WHEN ?4 THEN ?3 ELSE CAST(?3 AS TEXT) END, "
                                 "CASE WHEN ?6 THEN ?5 ELSE CAST(?5 AS TEXT) END)", rows)

    # -- per output folder

    def _out_id(self) -> int:
        if self._out is None:
            self.con.execute("INSERT OR IGNORE INTO outs(folder) VALUES (?)", (self.out,))
            self._out = self.con.execute("SELECT id FROM outs WHERE folder = ?", (self.out,)).fetchone()[0]
        return self._out

    def state(self) -> dict[str, Any] | None:
        """What the last build into this folder left: its sources, facts and files (key, stat)."""
        row = self.con.execute("SELECT state FROM outs WHERE folder = ?", (self.out,)).fetchone()
        return _unpack(row[0]) if row and row[0] else None

    def stamp(self) -> dict | None:
        row = self.con.execute("SELECT stamp FROM outs WHERE folder = ?", (self.out,)).fetchone()
        return _unpack(row[0]) if row and row[0] else None

    def shape(self) -> bytes | None:
        """The last build's model and plan outline (`shape.py`), as saved."""
        row = self.con.execute("SELECT shape FROM outs WHERE folder = ?", (self.out,)).fetchone()
        return row[0] if row else None

    def plan_chunk(self, n: int) -> bytes:
        """One chunk of the saved plan's outputs (read only for the pages a build renders)."""
        row = self.con.execute("SELECT chunk FROM plans WHERE out = ? AND n = ?", (self._out_id(), n)).fetchone()
        if row is None:
            raise CacheLost(f"the build cache lost part {n} of the saved plan")
        return row[0]

    def touching(self, tok: tuple) -> list[tuple[str, list]]:
        """The outputs whose render read this object, each with what it read of it (see `Reads`)."""
        out, wanted = self._out_id(), tok_id(tok)
        row = self.con.execute("SELECT paths FROM touches WHERE out = ? AND tok = ?", (out, wanted)).fetchone()
        found = []
        for path, blob in self._deps(marshal.loads(row[0]) if row else []):
            found.extend((path, unpack(packed)) for i, packed in marshal.loads(blob) if i == wanted)
        return found

    def save(self, state: dict[str, Any], stamp: dict | None, rendered: dict[str, Reads], gone: list[str],
             fresh: bool, shape: tuple[bytes, list[bytes]] | None = None) -> None:
        """After a successful write: the reads of the rendered files, removals, state and stamp,
        and the site's shape (None: unchanged). `fresh`: nothing was recorded for this folder
        before (no old rows to replace).

        Each page's row in `deps` holds what it read (`Reads.touched`, as rendered); each object's
        row in `touches` lists the pages that read it. A row per object rather than per (object,
        page) pair: a 10,000-post site has about 10,000 objects but 265,000 pairs."""
        out = self._out_id()
        whole = fresh or all(path in rendered or key == b"static" for path, (key, _) in state["outputs"].items())
        added: dict[int, list[str]] = {}
        removed: dict[int, set[str]] = {}
        before = {} if whole else {path: [i for i, _ in marshal.loads(blob)] for path, blob in self._deps([*gone, *rendered])}
        for path in gone:
            for i in before.get(path, ()):
                removed.setdefault(i, set()).add(path)
        for path, reads in rendered.items():
            now = [i for i, _ in marshal.loads(reads.touched)]
            old = before.get(path)
            if old is None:
                for i in now:
                    added.setdefault(i, []).append(path)
                continue
            for i in set(now).difference(old):
                added.setdefault(i, []).append(path)
            for i in set(old).difference(now):
                removed.setdefault(i, set()).add(path)
        with self._transaction():
            if whole:  # every page rendered (a first build, or a template changed): the record anew
                self.con.execute("DELETE FROM touches WHERE out = ?", (out,))
                self.con.execute("DELETE FROM deps WHERE out = ?", (out,))
            self.con.executemany("DELETE FROM deps WHERE out = ? AND path = ?", ((out, path) for path in gone))
            self.con.executemany("INSERT OR REPLACE INTO deps VALUES (?, ?, ?)",
                                 ((out, path, reads.touched) for path, reads in rendered.items()))
            rows, empty = [], []
            for i in sorted(added.keys() | removed.keys()):
                paths = set(added.get(i, ()))
                if not whole:
                    row = self.con.execute("SELECT paths FROM touches WHERE out = ? AND tok = ?", (out, i)).fetchone()
                    paths.update(marshal.loads(row[0]) if row else ())
                    paths.difference_update(removed.get(i, ()))
                if paths:
                    rows.append((out, i, marshal.dumps(sorted(paths))))
                else:
                    empty.append((out, i))
            self.con.executemany("INSERT OR REPLACE INTO touches VALUES (?, ?, ?)", rows)
            self.con.executemany("DELETE FROM touches WHERE out = ? AND tok = ?", empty)
            self.con.execute("UPDATE outs SET state = ?, stamp = ? WHERE id = ?",
                             (pack(state), pack(stamp) if stamp else None, out))
            if shape is not None:
                self.con.execute("UPDATE outs SET shape = ? WHERE id = ?", (shape[0], out))
                self.con.execute("DELETE FROM plans WHERE out = ?", (out,))
                self.con.executemany("INSERT INTO plans VALUES (?, ?, ?)", ((out, n, c) for n, c in enumerate(shape[1])))

    def _deps(self, paths: list[str]) -> list[tuple[str, bytes]]:
        """(path, what it read last time) of these outputs."""
        out, found = self._out_id(), []
        for i in range(0, len(paths), 900):
            chunk = paths[i:i + 900]
            marks = ",".join("?" * len(chunk))
            found.extend(self.con.execute(f"SELECT path, reads FROM deps WHERE out = ? AND path IN ({marks})", (out, *chunk)))
        return found

    def forget_outputs(self) -> None:
        """The output folder is not what we recorded (deleted, replaced): start its record over."""
        out = self._out_id()
        with self._transaction():
            self.con.execute("DELETE FROM deps WHERE out = ?", (out,))
            self.con.execute("DELETE FROM touches WHERE out = ?", (out,))
            self.con.execute("UPDATE outs SET state = NULL, stamp = NULL, shape = NULL WHERE id = ?", (out,))
            self.con.execute("DELETE FROM plans WHERE out = ?", (out,))


def _unpack(blob: bytes) -> Any:
    """A stored value (`track.pack`), or None if it cannot be read (a damaged cache only costs time)."""
    try:
        return unpack(blob)
    except Exception:
        return None
