"""The file-system moves that make a build atomic: put the new output in place in one step.

A whole new tree is swapped in for the old one: on Linux the two folders are exchanged at once
(renameat2 RENAME_EXCHANGE), so a server never sees the output missing; elsewhere two renames,
undone if the second fails. A few changed files are put in place one by one instead, each old
version kept aside until the end and put back if any step fails. `.git` and `CNAME` in the
output are carried over to every new tree. Temp and old folders sit beside the output under
clearly named prefixes with the build's pid, so the next build removes those of a killed one.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import itertools
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterable

PRESERVE = (".git", "CNAME")
TEMP_PREFIX = ".repost-build-"
OLD_PREFIX = ".repost-old-"
_TRASH = itertools.count()


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


def patch_in(output: Path, changes: Iterable[tuple[str, Path]], removed: list[str], aside: Path,
             name: Callable[[str], str]) -> None:
    """Put each staged file (`changes`: output path, staged file) in place in one step and delete
    `removed`: exchanged with the old version where the platform can (the old version then waits
    where the new one was staged), else renamed over it after a link to the old one is kept in
    `aside` (as `name(rel)`). Every step is undone if one fails, and the error raised again."""
    undo: list = []
    try:
        for rel, new in changes:
            target = output / rel
            _make_parents(target.parent, output, undo)
            if not os.path.lexists(target):
                os.replace(new, target)
                undo.append(lambda t=target: os.unlink(t))
            elif exchange(new, target):
                undo.append(lambda a=new, b=target: exchange(a, b))
            else:
                _set_aside(target, aside / name(rel), undo)
                os.replace(new, target)
        for rel in removed:
            _set_aside(output / rel, aside / name(rel), undo)
            os.unlink(output / rel)
    except BaseException:
        for action in reversed(undo):
            try:
                action()
            except OSError:
                pass
        shutil.rmtree(aside, ignore_errors=True)
        raise
    for rel in removed:
        _prune_empty(output / rel, output)


def move_preserved(src: Path | None, dst: Path | None, only: list[str] | None = None,
                   moved: list[str] | None = None) -> list[str]:
    """Move `.git` and `CNAME` (or `only` these names) from one tree to the other."""
    moved = [] if moved is None else moved  # filled as it goes, so a failure midway can be undone
    if src is None or dst is None or not src.is_dir():
        return moved
    for name in only if only is not None else PRESERVE:
        if (src / name).exists() or (src / name).is_symlink():
            os.rename(src / name, dst / name)
            moved.append(name)
    return moved


def dispose(folders: list[Path | None], output: Path, later: Callable[[Callable[[], None]], None] | None) -> None:
    """Delete what a commit left (old versions): now, or renamed out of the way and handed to
    `later`, so that a server tells its browsers before the disk has freed them."""
    folders = [f for f in folders if f is not None and os.path.lexists(f)]
    if later is None:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        return
    trash = []
    for folder in folders:
        moved = folder.with_name(f"{OLD_PREFIX}{output.name}-trash{next(_TRASH)}-{os.getpid()}")
        try:
            os.rename(folder, moved)
            trash.append(moved)
        except OSError:  # its name will be used again by the next build: delete it now
            shutil.rmtree(folder, ignore_errors=True)
    later(lambda: [shutil.rmtree(t, ignore_errors=True) for t in trash])


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
