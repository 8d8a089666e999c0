"""Deploy into a local folder: mirror site/ there, but delete only what an earlier deploy wrote.

The folder may hold files that are not ours (a server's own files, another tool's): the manifest
`.repost-deploy.json` in the folder lists what repost wrote, and only those files are ever
deleted. Each file is written to a temporary name beside it and renamed into place, so a reader
never sees half a file.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path, PurePosixPath

from repost.deploy import MANIFEST, REQUIRED, Job, Plan, refuse_dangerous

KEYS = {"path": (str, REQUIRED)}


def check(job: Job) -> None:
    job.dest = dest = refuse_dangerous(job, job.options["path"], "path")
    if dest.exists() and not dest.is_dir():
        raise job.error(f"path {dest} exists and is not a folder")


def run(job: Job) -> None:
    dest: Path = job.dest
    owned = _read_manifest(job, dest)
    plan, digests = _plan(job, dest, owned)
    if not job.proceed(plan):
        return
    dest.mkdir(parents=True, exist_ok=True)
    new = set(plan.upload)
    try:
        for rel in plan.upload + plan.update:
            _copy(job.files[rel], _target(job, dest, rel))
            owned[rel] = digests[rel]
            if rel in new:
                job.done.uploaded += 1
            else:
                job.done.updated += 1
        for rel in plan.delete:
            _remove(dest, _target(job, dest, rel))
            owned.pop(rel, None)
            job.done.deleted += 1
    except BaseException:
        if job.done.any:  # even after a failure the next deploy must know what is ours
            with contextlib.suppress(OSError):
                _write_manifest(dest, owned)
        raise
    owned.update(digests)  # every site file is now in place, with our bytes
    _write_manifest(dest, owned)


def _plan(job: Job, dest: Path, owned: dict[str, str]) -> tuple[Plan, dict[str, str]]:
    upload, update, digests = [], [], {}
    for rel, src in job.files.items():
        target = _target(job, dest, rel)
        digests[rel] = _sha256(src)
        if not os.path.lexists(target):
            upload.append(rel)
        elif target.is_symlink() or target.stat().st_size != src.stat().st_size or _sha256(target) != digests[rel]:
            update.append(rel)
    delete = [rel for rel in sorted(owned) if rel not in job.files and os.path.lexists(_target(job, dest, rel))]
    unchanged = len(job.files) - len(upload) - len(update)
    return Plan(tuple(upload), tuple(update), tuple(delete), unchanged), digests


def _target(job: Job, dest: Path, rel: str) -> Path:
    """dest/rel, refusing to go through a symlink or to replace a folder with a file."""
    current = dest
    for part in PurePosixPath(rel).parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise job.error(f"{current} is a symlink; refusing to write through it")
        if current.exists() and not current.is_dir():
            raise job.error(f"{current} is a file where the site needs a folder")
    target = dest / rel
    if target.is_dir() and not target.is_symlink():
        raise job.error(f"{target} is a folder where the site has a file")
    return target


def _copy(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".repost-tmp-")
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            while chunk := inp.read(1 << 20):
                out.write(chunk)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server must be able to read it
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove(dest: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    parent = target.parent
    while parent != dest and dest in parent.parents:  # drop folders the deletion left empty
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _read_manifest(job: Job, dest: Path) -> dict[str, str]:
    path = dest / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        files = data["files"]
        assert isinstance(files, dict)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise job.error(f"{path} is not a valid deploy manifest; fix or delete it") from None
    for rel in files:
        parts = PurePosixPath(rel).parts if isinstance(rel, str) else ()
        if not parts or rel.startswith("/") or "\\" in rel or any(p in ("..", ".") for p in parts):
            raise job.error(f"{path} lists an unsafe path {rel!r}; refusing to delete anything")
    return {str(k): str(v) for k, v in files.items()}


def _write_manifest(dest: Path, owned: dict[str, str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest, prefix=".repost-tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"version": 1, "files": dict(sorted(owned.items()))}, out, ensure_ascii=False, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest / MANIFEST)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
