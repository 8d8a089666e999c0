"""Atomic output: build a complete new tree beside the old one, then swap it into place.

Unchanged files are hard-linked from the previous output (copied if links fail), changed ones
written; if nothing changed the output is not touched at all. A failure at any point leaves the
previous output byte-identical. `.git` and `CNAME` in the output survive every build.

A small change to a big site (the build cache knows the output's files) is applied in place
instead: the changed files are staged beside the output, then each is renamed over its old
version (old versions kept aside until the end, and put back if anything fails), so the cost is
that of the change, not of linking the whole tree.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import itertools
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Callable, Iterable

from repost.errors import ConfigError, ContentError

PRESERVE = (".git", "CNAME")
TEMP_PREFIX = ".repost-build-"
OLD_PREFIX = ".repost-old-"
PATCH_MIN_FILES = 256  # below this many files, linking a whole new tree is cheap enough
PATCH_MAX_CHANGES = 1000  # above this many changed files (and a quarter of the tree), swap a whole new tree
_TRASH = itertools.count()
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
            self._move_preserved(self.output, self._temp, moved=moved)
            old = swap_in(self._temp, self.output)
        except OSError as exc:
            self._move_preserved(self._temp, self.output, only=moved)
            self.abort()
            raise ContentError(self.output, None, f"cannot replace the output folder: {exc.strerror or exc}") from None
        self._temp = None
        self.swapped = True
        self._dispose([old])

    def _patch(self, removed: list[str]) -> None:
        """Put each staged file in place in one step: exchanged with the old version where the
        platform can (the old version then waits in the staging folder), else renamed over it
        after a link to the old one is kept aside. Every step is undone if one fails."""
        aside = self.output.with_name(f"{OLD_PREFIX}{self.output.name}-{os.getpid()}")
        undo: list = []
        try:
            for rel in self.changed:
                target, new = self.output / rel, self._temp / STAGED / _flat(rel) if self.flat else self._temp / rel
                _make_parents(target.parent, self.output, undo)
                if not os.path.lexists(target):
                    os.replace(new, target)
                    undo.append(lambda t=target: os.unlink(t))
                elif exchange(new, target):
                    undo.append(lambda a=new, b=target: exchange(a, b))
                else:
                    _set_aside(target, aside / _flat(rel), undo)
                    os.replace(new, target)
            for rel in removed:
                _set_aside(self.output / rel, aside / _flat(rel), undo)
                os.unlink(self.output / rel)
        except BaseException as exc:
            for action in reversed(undo):
                try:
                    action()
                except OSError:
                    pass
            shutil.rmtree(aside, ignore_errors=True)
            self.abort()
            if isinstance(exc, OSError):
                raise ContentError(self.output, None, f"cannot update the output folder: {exc.strerror or exc}") from None
            raise
        for rel in removed:
            _prune_empty(self.output / rel, self.output)
        temp, self._temp = self._temp, None
        self._dispose([aside, temp])

    def _dispose(self, folders: list[Path | None]) -> None:
        """Delete what the commit left (old versions): now, or renamed out of the way and handed
        to `later`, so that a server tells its browsers before the disk has freed them."""
        folders = [f for f in folders if f is not None and os.path.lexists(f)]
        if self.later is None:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            return
        trash = []
        for folder in folders:
            moved = folder.with_name(f"{OLD_PREFIX}{self.output.name}-trash{next(_TRASH)}-{os.getpid()}")
            try:
                os.rename(folder, moved)
                trash.append(moved)
            except OSError:  # its name will be used again by the next build: delete it now
                shutil.rmtree(folder, ignore_errors=True)
        self.later(lambda: [shutil.rmtree(t, ignore_errors=True) for t in trash])

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

    def _move_preserved(self, src: Path | None, dst: Path | None, only: list[str] | None = None,
                        moved: list[str] | None = None) -> list[str]:
        moved = [] if moved is None else moved  # filled as it goes, so a failure midway can be undone
        if src is None or dst is None or not src.is_dir():
            return moved
        for name in only if only is not None else PRESERVE:
            if (src / name).exists() or (src / name).is_symlink():
                os.rename(src / name, dst / name)
                moved.append(name)
        return moved


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


def _make_parents(folder: Path, root: Path, undo: list) -> None:
    missing = []
    while folder != root and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        undo.append(lambda p=path: p.rmdir())


def _set_aside(target: Path, keep: Path, undo: list) -> None:
    """Keep the old version of `target` (a hard link, else a copy) until the commit is done."""
    keep.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(target, keep, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, keep, follow_symlinks=False)
    undo.append(lambda: os.replace(keep, target))


def _prune_empty(path: Path, root: Path) -> None:
    folder = path.parent
    while folder != root:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def swap_in(new: Path, output: Path) -> Path | None:
    """Put `new` at `output`; returns where the old tree went (to delete), or None.

    On Linux the two folders are exchanged in one atomic step (renameat2 RENAME_EXCHANGE), so
    a server never sees the output missing; elsewhere two renames, undone if the second fails.
    """
    if not output.exists():
        os.rename(new, output)
        return None
    if exchange(new, output):
        return new
    old = output.with_name(f"{OLD_PREFIX}{output.name}-{os.getpid()}")
    os.rename(output, old)
    try:
        os.rename(new, output)
    except OSError:
        os.rename(old, output)
        raise
    return old


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False when the platform cannot (then the caller renames)."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    except OSError:
        return None


def existing_files(output: Path) -> list[str]:
    """Files in the current output, except the preserved entries."""
    if not output.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(output):
        rel_dir = Path(dirpath).relative_to(output)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in PRESERVE]
            filenames = [f for f in filenames if f not in PRESERVE]
        found.extend((rel_dir / f).as_posix() for f in filenames)
    return found


def clean_stale(output: Path) -> None:
    """Remove temp trees left by a killed build (their pid is gone)."""
    parent = output.parent
    if not parent.is_dir():
        return
    for prefix in (TEMP_PREFIX, OLD_PREFIX):
        for entry in parent.glob(f"{prefix}{output.name}-*"):
            pid = entry.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or (int(pid) == os.getpid() and "-trash" in entry.name):
                continue  # our own trash is being deleted by `later`
            if int(pid) == os.getpid() or not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
