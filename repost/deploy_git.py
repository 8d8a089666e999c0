"""Deploy as a commit on a branch (gh-pages style), through a throwaway `GIT_DIR`.

The site's files are hashed into a temporary bare repository, written as a tree and committed on
top of the branch's current head, then pushed. The user's own work tree and index are never
touched; an unchanged site makes no commit; history is never rewritten: a push that is not a
fast-forward fails unless `--force`.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from repost.deploy import REQUIRED, Job, Plan, batch_ssh

KEYS = {"repo": (str, REQUIRED), "branch": (str, "gh-pages"), "cname": (str, None), "message": (str, None)}
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/]+:)", re.I)  # URL or scp-like user@host:path
_SCRUB = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
          "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_PREFIX")


def check(job: Job) -> None:
    """Refuse a bad branch, a missing git, and deploying onto a branch that is checked out."""
    repo, branch = job.options["repo"].strip(), job.options["branch"]
    if not repo:
        raise job.error("repo is empty")
    if shutil.which("git") is None:
        raise job.error("git is not installed")
    if _git(job, ["check-ref-format", f"refs/heads/{branch}"], check=False).returncode:
        raise job.error(f"branch {branch!r} is not a valid branch name")
    cname = job.options["cname"]
    if cname is not None and not re.fullmatch(r"[A-Za-z0-9.-]+", cname):
        raise job.error(f"cname {cname!r} is not a host name")
    job.dest = repo if _REMOTE.match(repo) else str(job.local_path(repo))
    _refuse_checked_out(job, branch)


def run(job: Job) -> None:
    branch = job.options["branch"]
    with tempfile.TemporaryDirectory(prefix="repost-git-") as tmp:
        env = _env({"GIT_DIR": tmp, "GIT_INDEX_FILE": os.path.join(tmp, "deploy-index")})
        _git(job, ["init", "-q", "--bare", tmp], env=env)
        parent = _fetch(job, branch, env)
        tree = _write_tree(job, env)
        plan = _plan(job, parent, tree, env)
        if not job.proceed(plan):
            return
        commit = _commit(job, tree, parent, env)
        refspec = f"{'+' if job.force else ''}{commit}:refs/heads/{branch}"
        proc = _git(job, ["push", "-q", "--no-verify", job.dest, refspec], env=env, check=False)
        if proc.returncode:
            hint = "; --force overwrites it" if "[rejected]" in proc.stderr else ""
            raise job.error(f"push to {job.dest} {branch} failed: {_last(proc)}{hint}")
        job.done.uploaded, job.done.updated, job.done.deleted = len(plan.upload), len(plan.update), len(plan.delete)
        job.ui.detail(f"pushed {commit[:12]} to {job.dest} {branch}")


def _fetch(job: Job, branch: str, env: dict) -> str | None:
    """The branch's current head (fetched into the temporary repo), or None if it has none yet."""
    proc = _git(job, ["ls-remote", "--heads", job.dest, f"refs/heads/{branch}"], env=env, check=False)
    if proc.returncode:
        raise job.error(f"cannot read {job.dest}: {_last(proc)}")
    if not proc.stdout.strip():
        return None
    _git(job, ["fetch", "-q", "--no-tags", job.dest, f"+refs/heads/{branch}:refs/deploy/base"], env=env)
    return _git(job, ["rev-parse", "refs/deploy/base"], env=env).stdout.strip()


def _write_tree(job: Job, env: dict) -> str:
    """Hash the site into the temporary repo and build a tree: site files, .nojekyll, CNAME."""
    rels = list(job.files)
    out = _git(job, ["hash-object", "-w", "--no-filters", "--stdin-paths"], env=env,
               input="".join(f"{job.files[rel]}\n" for rel in rels)).stdout.split()
    entries = dict(zip(rels, out))
    extras = {".nojekyll": ""}
    if job.options["cname"]:
        extras["CNAME"] = job.options["cname"] + "\n"
    for name, text in extras.items():
        entries[name] = _git(job, ["hash-object", "-w", "--stdin"], env=env, input=text).stdout.strip()
    index = "".join(f"100644 {sha}\t{rel}\0" for rel, sha in sorted(entries.items()))
    _git(job, ["update-index", "--add", "-z", "--index-info"], env=env, input=index)
    return _git(job, ["write-tree"], env=env).stdout.strip()


def _plan(job: Job, parent: str | None, tree: str, env: dict) -> Plan:
    files = _git(job, ["ls-tree", "-r", "-z", "--name-only", tree], env=env).stdout.split("\0")
    total = len([f for f in files if f])
    if parent is None:
        return Plan(upload=tuple(sorted(f for f in files if f)))
    diff = _git(job, ["diff-tree", "-r", "-z", "--no-renames", "--name-status", parent, tree], env=env).stdout
    fields = [f for f in diff.split("\0") if f]
    changes: dict[str, list[str]] = {"A": [], "M": [], "D": []}
    for status, path in zip(fields[::2], fields[1::2]):
        changes.get(status[0], changes["M"]).append(path)
    unchanged = total - len(changes["A"]) - len(changes["M"])
    return Plan(tuple(changes["A"]), tuple(changes["M"]), tuple(changes["D"]), unchanged)


def _commit(job: Job, tree: str, parent: str | None, env: dict) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    message = job.options["message"] or f"repost deploy: {stamp}"
    if _git(job, ["var", "GIT_COMMITTER_IDENT"], env=env, check=False).returncode:
        env = {**env, "GIT_AUTHOR_NAME": "repost", "GIT_AUTHOR_EMAIL": "repost@localhost",
               "GIT_COMMITTER_NAME": "repost", "GIT_COMMITTER_EMAIL": "repost@localhost"}
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    return _git(job, args, env=env).stdout.strip()


def _refuse_checked_out(job: Job, branch: str) -> None:
    """Refuse when the branch is the one the source repo (or a local target work tree) is on."""
    root = str(job.config.root)
    source = _git(job, ["-C", root, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"],
                  check=False)
    if source.returncode == 0 and len(source.stdout.splitlines()) == 2:
        top, common = (str(Path(p).resolve()) for p in source.stdout.splitlines())
        current = _git(job, ["-C", root, "symbolic-ref", "-q", "--short", "HEAD"], check=False).stdout.strip()
        remotes = _git(job, ["-C", root, "config", "--get-regexp", r"^remote\..*\.url$"], check=False).stdout
        urls = {line.split(" ", 1)[1] for line in remotes.splitlines() if " " in line}
        same = {top, common} | urls | {str(job.local_path(u)) for u in urls if not _REMOTE.match(u)}
        if current == branch and (job.dest in same or job.options["repo"] in same):
            raise job.error(f"refusing to deploy onto '{branch}', the branch the source in {top} is on")
        output = job.config.paths.output
        dirty = _git(job, ["-C", root, "status", "--porcelain", "--untracked-files=no", "--", str(output)], check=False)
        if dirty.returncode == 0 and dirty.stdout.strip():
            raise job.error(f"{job.config.rel(output)}/ is tracked by git in {top} and has uncommitted changes; "
                            "commit them or stop tracking the output folder")
    if not _REMOTE.match(job.dest) and os.path.isdir(job.dest):
        bare = _git(job, ["-C", job.dest, "rev-parse", "--is-bare-repository"], check=False).stdout.strip()
        head = _git(job, ["-C", job.dest, "symbolic-ref", "-q", "--short", "HEAD"], check=False).stdout.strip()
        if bare == "false" and head == branch:
            raise job.error(f"'{branch}' is checked out in the work tree {job.dest}; refusing to push onto it")


def _git(job: Job, args: list[str], env: dict | None = None, input: str | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, encoding="utf-8",
                              errors="surrogateescape", input=input, env=env or _env({}),
                              stdin=None if input is not None else subprocess.DEVNULL)
    except OSError as exc:
        raise job.error(f"cannot run git: {exc}") from None
    if check and proc.returncode:
        raise job.error(f"git {args[0]} failed: {_last(proc)}")
    return proc


def _env(extra: dict) -> dict:
    """No prompts where nobody can answer: GIT_TERMINAL_PROMPT for https, batch ssh unless the
    user chose an ssh command (GIT_SSH_COMMAND, GIT_SSH or core.sshCommand)."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    ssh = batch_ssh()
    if ssh and not ({"GIT_SSH_COMMAND", "GIT_SSH"} & env.keys()) and not _configured_ssh():
        env["GIT_SSH_COMMAND"] = ssh
    return {**env, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **extra}


@functools.cache
def _configured_ssh() -> bool:
    """core.sshCommand in the user's config: GIT_SSH_COMMAND would override it, so leave it alone."""
    try:
        proc = subprocess.run(["git", "config", "--global", "--get", "core.sshCommand"], capture_output=True,
                              stdin=subprocess.DEVNULL)
    except OSError:
        return False
    return proc.returncode == 0


def _last(proc: subprocess.CompletedProcess) -> str:
    """The most telling line of git's stderr: a ref status ('! [rejected] ...'), else the first fatal."""
    lines = [" ".join(l.split()) for l in (proc.stderr or "").splitlines() if l.strip()]
    for prefix in ("!", "fatal:", "error:"):
        found = [l for l in lines if l.startswith(prefix)]
        if found:
            remote = [l for l in lines if l.startswith("remote:") and len(l) > 8]
            before = lines[:lines.index(found[0])]  # ssh's own reason comes before git's fatal
            why = remote[-1] if prefix == "!" and remote else before[-1] if prefix == "fatal:" and before else ""
            return found[0] + (f" ({why})" if why else "")
    return lines[-1] if lines else "no message"
