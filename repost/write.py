"""Atomic output: build a complete new tree beside the old one, then swap it into place.

Unchanged files are hard-linked from the previous output (copied if links fail), changed ones
written; if nothing changed the output is not touched at all. A failure at any point leaves the
previous output byte-identical. `.git` and `CNAME` in the output survive every build.

A small change to a big site (the build cache knows the output's files) is applied in place
instead: the changed files are staged beside the output, then each is renamed over its old
version, so the cost is that of the change, not of linking the whole tree.

This module decides what changed and stages it (worker processes stage pages with `stage`);
the moves that put it in place, and the clean-up after a killed build, are in `swap.py`.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Callable, Iterable

from repost.errors import ConfigError, ContentError
from repost.swap import (OLD_PREFIX, TEMP_PREFIX, clean_stale, dispose, existing_files, move_preserved, patch_in,
                         swap_in)

PATCH_MIN_FILES = 256  # below this many files, linking a whole new tree is cheap enough
PATCH_MAX_CHANGES = 1000  # above this many changed files (and a quarter of the tree), swap a whole new tree
STAGED = ".staged"  # a small change waits in the temp folder flat, under hashed names: no folder per file


def _flat(rel: str) -> str:
    return hashlib.blake2b(rel.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


def check_output_dir(output: Path, root: Path, sources: list[Path] = ()) -> Path:
    """Refuse output folders whose replacement would delete the site or the user's files."""
    out = Path(os.path.abspath(output)).resolve()
    root = Path(root).resolve()
    home = Path.home().resolve()
    if out == Path(out.anchor) or out == home:
        raise ConfigError(None, None, f"refusing to build into {out}: it is the file-system root or your home folder")
    if out == root or root.is_relative_to(out):
        raise ConfigError(None, None, f"refusing to build into {out}: it is or contains the site root {root}")
    for src in sources:
        src = Path(src).resolve()
        if out == src or out.is_relative_to(src) or src.is_relative_to(out):
            raise ConfigError(None, None, f"refusing to build into {out}: it overlaps the source folder {src}")
    return out


@dataclass
class Writer:
    """Collects the new tree; `commit` puts it in place and reports what changed.

    `known` (from the build cache) lists the files of the current output, so that neither the
    output nor unchanged files need to be read: `keep` vouches for a file without reading it.
    """

    output: Path
    known: AbstractSet[str] | None = None
    changed: list[str] = field(default_factory=list)
    swapped: bool = False
    later: Callable[[Callable[[], None]], None] | None = None  # runs cleanup nothing waits for (a server)
    flat: bool = True  # see `expect`
    _unchanged: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _temp: Path | None = None
    _fresh: bool = False  # no output folder when staging began: nothing to compare with
    stats: dict[str, str] = field(default_factory=dict)  # rel -> `stat_sig` of each file written

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        clean_stale(self.output)

    def put(self, rel: str, data: bytes) -> None:
        """Add one file with these bytes."""
        old = self._claim(rel)
        if old is not None and _same_bytes(old, data):
            self._unchanged.append(rel)
            return
        self._begin()

        def write() -> None:
            self.stats[rel] = _write_new(self._staged(rel), data)

        self._io(rel, write)
        self.changed.append(rel)

    def put_file(self, rel: str, source: Path) -> None:
        """Add one file copied from `source` (static files)."""
        old = self._claim(rel)
        if old is not None and _same_file(old, source):
            self._unchanged.append(rel)
            return
        self._begin()
        target = self.staging(rel)
        self._io(rel, lambda: shutil.copyfile(source, target))
        self.changed.append(rel)

    def keep(self, rel: str) -> None:
        """Add one file that is already current in the output (the caller knows; nothing is read)."""
        self._claim(rel, look=False)
        self._unchanged.append(rel)

    def keep_all(self, rels: Iterable[str]) -> None:
        """`keep` for many files the last build wrote (so checked then): a big site keeps most."""
        rels = list(rels)
        if not self._seen.isdisjoint(rels) or len(set(rels)) != len(rels):
            raise ContentError(None, None, "two outputs want the same file")
        self._seen.update(rels)
        self._unchanged.extend(rels)

    def expect(self, count: int) -> None:
        """About `count` files will change: a whole new tree (stage each file at its place in it)
        or a few renamed into the output (stage them flat)."""
        self.flat = self._few(count)

    def staging(self, rel: str) -> Path:
        """Where a changed file is written until the commit (its folder made)."""
        return Path(self._staged(rel))

    def prepare(self) -> Path:
        """The staging folder, created now: worker processes write into it with `stage`."""
        self._begin()
        self._fresh = not os.path.isdir(self.output)
        return self._temp

    def _staged(self, rel: str) -> str:
        """`staging` as a string: workers call it for every page of a cold build, where pathlib's
        objects cost more than the path's own work."""
        if self.flat:
            return f"{self._temp}{os.sep}{STAGED}{os.sep}{_flat(rel)}"
        path = f"{self._temp}{os.sep}{rel}"
        _make_folder(os.path.dirname(path))
        return path

    def adopt(self, rel: str, written: str | None) -> None:
        """Record a file a worker staged (`written`: its `stat_sig`, from `stage`) or found unchanged (None)."""
        self._claim(rel, look=False)
        if written is None:
            self._unchanged.append(rel)
        else:
            self.changed.append(rel)
            self.stats[rel] = written

    def commit(self) -> tuple[list[str], list[str]]:
        """Put the new tree in place (if anything changed); returns (changed, removed)."""
        removed = self._removed()
        if not self.changed and not removed:
            self.abort()
            return [], []
        if self._small(removed):
            self._patch(removed)
        else:
            self._swap()
        return sorted(self.changed), removed

    def abort(self) -> None:
        """Drop the half-built tree; the old output was never touched."""
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    # -- internals

    def _claim(self, rel: str, look: bool = True) -> Path | None:
        parts = rel.split("/")
        if rel.startswith("/") or "\\" in rel or "\x00" in rel or any(p in ("", ".", "..") for p in parts):
            raise ContentError(None, None, f"refusing to write {rel!r}: output paths must stay inside the output folder")
        if rel in self._seen:
            raise ContentError(None, None, f"two outputs want /{rel}")
        self._seen.add(rel)
        if not look:
            return None
        old = self.output / rel
        return old if old.is_file() and not old.is_symlink() else None

    def _removed(self) -> list[str]:
        if self.known is None or not self.output.is_dir():
            return sorted(rel for rel in existing_files(self.output) if rel not in self._seen)
        return sorted(rel for rel in self.known - self._seen if os.path.lexists(self.output / rel))

    def _small(self, removed: list[str]) -> bool:
        return self.output.is_dir() and self._few(len(self.changed) + len(removed))

    def _few(self, count: int) -> bool:
        """A big known output and few enough changes to rename into place: linking a new tree
        costs about as much per file as a rename, so a change to a quarter of a big site (a new
        post moves every page of the index: 1,000 files of 14,000) is still cheaper in place."""
        return (self.known is not None and len(self.known) >= PATCH_MIN_FILES
                and count <= max(PATCH_MAX_CHANGES, len(self.known) // 4))

    def _swap(self) -> None:
        self._begin()
        for rel in self._unchanged:
            self._link(rel, self.output / rel)
        moved: list[str] = []
        try:
            staged = self._temp / STAGED
            if self.flat:
                for rel in self.changed:
                    os.replace(staged / _flat(rel), self._target(rel))
            staged.rmdir()
            move_preserved(self.output, self._temp, moved=moved)
            old = swap_in(self._temp, self.output)
        except OSError as exc:
            move_preserved(self._temp, self.output, only=moved)
            self.abort()
            raise ContentError(self.output, None, f"cannot replace the output folder: {exc.strerror or exc}") from None
        self._temp = None
        self.swapped = True
        dispose([old], self.output, self.later)

    def _patch(self, removed: list[str]) -> None:
        """Rename each staged file over its old version (`swap.patch_in`: undone if a step fails)."""
        aside = self.output.with_name(f"{OLD_PREFIX}{self.output.name}-{os.getpid()}")
        temp = self._temp
        staged = ((rel, temp / STAGED / _flat(rel) if self.flat else temp / rel) for rel in self.changed)
        try:
            patch_in(self.output, staged, removed, aside, _flat)
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise ContentError(self.output, None, f"cannot update the output folder: {exc.strerror or exc}") from None
            raise
        self._temp = None
        dispose([aside, temp], self.output, self.later)

    def _begin(self) -> None:
        """Create the temp tree on the first change."""
        if self._temp is not None:
            return
        self._temp = self.output.with_name(f"{TEMP_PREFIX}{self.output.name}-{os.getpid()}")
        shutil.rmtree(self._temp, ignore_errors=True)
        self._io(self._temp.name, lambda: (self._temp / STAGED).mkdir(parents=True))

    def _target(self, rel: str) -> Path:
        target = self._temp / rel
        self._io(rel, lambda: target.parent.mkdir(parents=True, exist_ok=True))
        return target

    def _link(self, rel: str, old: Path) -> None:
        target = self._target(rel)

        def link() -> None:
            try:
                os.link(old, target)
            except OSError:
                shutil.copyfile(old, target)

        self._io(rel, link)

    def _io(self, rel: str, action) -> None:
        try:
            action()
        except OSError as exc:
            self.abort()
            reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise ContentError(self.output / rel, None, f"cannot write: {reason}") from None


def stage(writer: Writer, rel: str, data: bytes) -> str | None:
    """Write `data` where the writer stages `rel` unless the output already holds these bytes;
    the staged file's `stat_sig` if written, else None. Safe to call from worker processes (the
    parent then calls `Writer.adopt`)."""
    output = writer.output
    if not writer._fresh:
        old = output / rel
        if old.is_file() and not old.is_symlink() and _same_bytes(old, data):
            return None
    try:
        return _write_new(writer._staged(rel), data)
    except OSError as exc:
        reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise ContentError(output / rel, None, f"cannot write: {reason}") from None


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _make_folder(folder: str) -> None:
    """A staged file's folder; in a cold build nearly every page has a new one of its own."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def _write_new(path: str, data: bytes) -> str:
    """`Path.write_bytes` without the buffered file object (four system calls, not six); returns
    the file's `stat_sig`, which renaming it into the output keeps."""
    fd = os.open(path, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return stat_sig(os.fstat(fd))
    finally:
        os.close(fd)


def stat_sig(st: os.stat_result) -> str:
    """What the build cache notes of an output file to see later that nobody changed it."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _same_file(path: Path, source: Path) -> bool:
    try:
        if path.stat().st_size != source.stat().st_size:
            return False
        return path.read_bytes() == source.read_bytes()
    except OSError:
        return False
