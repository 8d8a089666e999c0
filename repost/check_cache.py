"""What `repost check` takes from earlier runs, so that checking an unchanged site costs little.

- Parsed records come from the build cache (`.repost-cache/build.sqlite`) the way a build takes
  them (`sources.parse_sources`): a file whose stat signature is unchanged (and older than two
  seconds, see `cache.signature`) is known by its digest without being read; any other file is
  read and hashed, and a digest the cache does not have means parsing. The build cache is opened
  only when its salt is the current one: opening it otherwise would start it over, and `check`
  must leave it as the next build expects it. Missing, old or foreign: everything is parsed.
- Facts: what `check` derives from one file's bytes and record (findings about URL schemes, the
  body's words fingerprint, its links into the site), in `.repost-cache/check.sqlite`, keyed by
  the same digest and dropped whenever the build cache's salt (config, code, libraries) changes.
- The sha256 of each raw dump named by `imported.from`, keyed by the dump's stat signature.

Every cache here may only skip work: a damaged or unwritable one is ignored.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from repost import cache as build_cache
from repost.config import Config
from repost.model import Page, Post

FILE = "check.sqlite"
# What reading a record's HTML raises when the build cache lost it (CacheLost is a RuntimeError).
LOST = (RuntimeError, sqlite3.Error, zlib.error, pickle.UnpicklingError, EOFError)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS facts(digest TEXT PRIMARY KEY, facts BLOB);
CREATE TABLE IF NOT EXISTS raws(path TEXT PRIMARY KEY, sig TEXT, sha256 TEXT);
"""


@dataclass(frozen=True)
class Facts:
    """What `check` derives from one source file, whatever the rest of the site is."""

    has_text: bool
    schemes: tuple[tuple[int, str, str], ...] = ()  # (line, level, message): URLs the sanitiser drops
    fingerprint: str | None = None  # `check_rules.body_fingerprint` of the body
    internal: tuple[tuple[str, str], ...] = ()  # (url as written, output-relative target) of links into the site
    source_key: str | None = None  # `check_rules.normalise_url` of a post's source.url


class Memory:
    """One `check` run's view of the build cache (read) and of its own facts (read and written)."""

    def __init__(self, config: Config, *, enabled: bool = True):
        self.now = time.time_ns()
        self.build: build_cache.BuildCache | None = None
        self.db: sqlite3.Connection | None = None
        self.known: dict[str, tuple[str | None, str]] = {}
        self.facts: dict[str, Facts] = {}
        self.raws: dict[str, tuple[str, str]] = {}
        self.fresh: dict[str, Facts] = {}
        self.fresh_raws: dict[str, tuple[str, str]] = {}
        if not enabled:
            return
        folder = config.root / build_cache.FOLDER
        salt = build_cache.salt(config)
        if _salt_of(folder / "build.sqlite") == salt:
            try:
                self.build = build_cache.BuildCache(config, config.paths.output)
                self.known = self.build.source_digests()
            except (OSError, *LOST):
                self.build = None
        self.db = _open_facts(folder, salt)
        if self.db is not None:
            try:
                self.facts = {d: Facts(*pickle.loads(blob)) for d, blob in self.db.execute("SELECT digest, facts FROM facts")}
                self.raws = {p: (sig, sha) for p, sig, sha in self.db.execute("SELECT path, sig, sha256 FROM raws")}
            except (sqlite3.Error, pickle.UnpicklingError, TypeError, EOFError):
                self.facts, self.raws = {}, {}

    def identify(self, kind: str, path: Path, rel: str) -> tuple[str | None, bytes | None]:
        """(digest, bytes read or None): the build cache's digest when the stat is unchanged and
        old enough, else the file is read and hashed; (None, None) when it cannot be read."""
        try:
            st = os.stat(path)
            sig = build_cache.signature(st, self.now)
            last = self.known.get(rel)
            if sig is not None and last is not None and last[0] == sig:
                return last[1], None
            data = path.read_bytes()
        except OSError:
            return None, None
        return build_cache.source_digest(kind, rel, data), data

    def records(self, wanted: dict[str, Path]) -> dict[str, Post | Page]:
        """The build cache's records among `wanted` (digest -> path)."""
        if self.build is None or not wanted:
            return {}
        try:
            return self.build.load_records(wanted)
        except LOST:
            return {}

    def remember(self, digest: str, facts: Facts) -> None:
        self.fresh[digest] = self.facts[digest] = facts

    def raw_sha256(self, path: Path) -> str:
        """sha256 of a raw dump, read only when its stat changed (or is too fresh to trust)."""
        key = str(path)
        sig = build_cache.signature(os.stat(path), self.now)
        last = self.raws.get(key)
        if sig is not None and last is not None and last[0] == sig:
            return last[1]
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sig is not None:
            self.fresh_raws[key] = self.raws[key] = (sig, sha)
        return sha

    def close(self, digests: set[str] | None) -> None:
        """Save new facts, forget those of digests no file has any more (None: keep them all, the
        run stopped half-way), close both caches."""
        if self.build is not None:
            self.build.close()
            self.build = None
        if self.db is None:
            return
        stale = [(d,) for d in self.facts if d not in digests] if digests is not None else []
        try:
            if self.fresh or stale or self.fresh_raws:
                with self.db:
                    self.db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?)",
                                        ((d, pickle.dumps((f.has_text, f.schemes, f.fingerprint, f.internal, f.source_key), protocol=pickle.HIGHEST_PROTOCOL))
                                         for d, f in self.fresh.items()))
                    self.db.executemany("DELETE FROM facts WHERE digest = ?", stale)
                    self.db.executemany("INSERT OR REPLACE INTO raws VALUES (?, ?, ?)",
                                        ((p, sig, sha) for p, (sig, sha) in self.fresh_raws.items()))
        except sqlite3.Error:
            pass  # another check is writing, or the disk is full: next time, then
        finally:
            self.db.close()
            self.db = None


def _salt_of(db: Path) -> str | None:
    """The salt a build cache was made with, read without changing anything (None: no usable cache)."""
    if not db.is_file():
        return None
    try:
        con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            row = con.execute("SELECT v FROM meta WHERE k = 'salt'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _open_facts(folder: Path, salt: str) -> sqlite3.Connection | None:
    """check.sqlite, emptied when made with another salt, made over when damaged; None if impossible."""
    db = folder / FILE
    for attempt in (1, 2):
        con = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(db, timeout=10)  # implicit transactions: one commit per `with con`
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(SCHEMA)
            row = con.execute("SELECT v FROM meta WHERE k = 'salt'").fetchone()
            if row is None or row[0] != salt:
                with con:
                    con.execute("DELETE FROM facts")
                    con.execute("DELETE FROM raws")
                    con.execute("INSERT OR REPLACE INTO meta VALUES ('salt', ?)", (salt,))
            return con
        except sqlite3.OperationalError:  # locked, read-only, full: check without it this time
            break
        except sqlite3.DatabaseError:  # not a database any more: ours to make over
            if con is not None:
                con.close()
            if attempt == 1:
                db.unlink(missing_ok=True)
            con = None
        except OSError:
            break
    if con is not None:
        con.close()
    return None
