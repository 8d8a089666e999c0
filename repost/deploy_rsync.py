"""Deploy with rsync to a local folder or `user@host:path`: one argv list, never a shell.

The plan is rsync's own `--dry-run --itemize-changes` output, so it is exactly what the real run
will do. `--delete` mirrors the site into the destination, so before deleting anything there the
destination must carry the marker file an earlier repost deploy left (or `--force` is given):
a mistyped `dest` then cannot wipe a folder that was never ours.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from repost.deploy import MARKER, REQUIRED, Job, Plan, batch_ssh, refuse_dangerous

KEYS = {"dest": (str, REQUIRED), "options": (list, [])}
# rsync reads `host:path`, `user@host:path`, `host::module` and rsync:// URLs as remote
_REMOTE = re.compile(r"^(rsync://|[^/]*:)")
# --checksum: compare content, so a rebuild that only touched mtimes uploads nothing;
# --chmod: new files are world-readable for the web server whatever the build's umask was
_BASE = ["--recursive", "--times", "--checksum", "--delete", "--chmod=D755,F644", "--itemize-changes",
         "--8-bit-output"]
_FORBIDDEN = ("--remove-source-files", "--files-from", "--delete-excluded", "--dry-run", "-n")
_MARKER_TEXT = "This folder is published by `repost deploy` (rsync); files not in the site are deleted.\n"


def check(job: Job) -> None:
    raw = job.options["dest"]
    for option in job.options["options"]:
        if not option.startswith("-"):
            raise job.error(f"option {option!r} is not a flag; paths go in 'dest'")
        if option.split("=", 1)[0] in _FORBIDDEN:
            raise job.error(f"option {option!r} is not allowed here")
    if _REMOTE.match(raw):
        path = raw.split(":", 1)[1].lstrip(":") if not raw.startswith("rsync://") else raw[8:].partition("/")[2]
        if path.strip().rstrip("/") in ("", "~", "."):
            raise job.error(f"dest {raw!r} is a remote root or home folder; refusing to deploy")
        job.dest = raw
    else:
        job.dest = str(refuse_dangerous(job, raw, "dest"))
    if shutil.which("rsync") is None:
        raise job.error("rsync is not installed (e.g. apt-get install rsync)")


def run(job: Job) -> None:
    with tempfile.TemporaryDirectory(prefix="repost-rsync-") as tmp:
        (Path(tmp) / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        plan, first = _parse(job, _rsync(job, tmp, dry_run=True))
        if first and plan.delete and not job.force:
            for path in plan.delete:
                job.ui.detail(f"  would delete {path}")
            raise job.error(f"{job.dest} holds {len(plan.delete)} file(s) that are not in the site and it was "
                            "never deployed to by repost; rsync --delete would remove them. Use an empty "
                            "folder, or pass --force to mirror the site there anyway")
        if not job.proceed(plan):
            return
        if not _REMOTE.match(job.dest):
            Path(job.dest).parent.mkdir(parents=True, exist_ok=True)
        proc = _rsync(job, tmp, dry_run=False, check=False)
        done, _ = _parse(job, proc)
        job.done.uploaded, job.done.updated, job.done.deleted = len(done.upload), len(done.update), len(done.delete)
        if proc.returncode:
            raise job.error(_failure(proc))


def argv(job: Job, marker_dir: str, dry_run: bool) -> list[str]:
    """The command line: the site's contents (trailing '/') plus the marker, into dest."""
    args = ["rsync", *_BASE, *job.options["options"]]
    ssh = batch_ssh()
    if ssh and _uses_ssh(job.dest) and not _own_rsh(job.options["options"]):
        args.append(f"--rsh={ssh}")
    if dry_run:
        args.append("--dry-run")
    return [*args, "--", f"{job.site}/", f"{marker_dir}/", job.dest]


def _uses_ssh(dest: str) -> bool:
    """`host:path` goes through ssh; `host::module` and rsync:// talk to an rsync daemon."""
    return bool(_REMOTE.match(dest)) and not dest.startswith("rsync://") and "::" not in dest.split("/", 1)[0]


def _own_rsh(options: list[str]) -> bool:
    """The user chose the remote shell (an option or RSYNC_RSH): theirs is used as given."""
    return "RSYNC_RSH" in os.environ or any(o == "-e" or o.startswith(("--rsh", "-e")) for o in options)


def _rsync(job: Job, marker_dir: str, dry_run: bool, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(argv(job, marker_dir, dry_run), capture_output=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise job.error(f"cannot run rsync: {exc}") from None
    if check and proc.returncode:
        raise job.error(_failure(proc))
    return proc


def _parse(job: Job, proc: subprocess.CompletedProcess) -> tuple[Plan, bool]:
    """Itemized lines -> Plan, and whether the marker is new (the dest was never ours)."""
    upload, update, delete, first = [], [], [], False
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("*deleting"):
            name = line[len("*deleting"):].lstrip(" ")
            if not name.endswith("/"):
                delete.append(name)
            continue
        code, _, name = line.partition(" ")
        if len(code) < 9 or code[1] != "f" or code[0] not in "<>ch":
            continue  # folders, attribute-only changes, messages
        if name == MARKER:
            first = "+" in code[2:]
        elif code[2:].strip("+") == "":
            upload.append(name)
        else:
            update.append(name)
    unchanged = max(len(job.files) - len(upload) - len(update), 0)
    return Plan(tuple(upload), tuple(update), tuple(delete), unchanged), first


def _failure(proc: subprocess.CompletedProcess) -> str:
    lines = [l for l in proc.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    detail = lines[0] if lines else "no message"
    return f"rsync failed (exit {proc.returncode}): {detail}"
