"""`repost deploy`: publish the built site to a named target; show the plan, then apply it.

Each target type lives in `deploy_<type>.py` and exposes `KEYS` (its config keys), `check(job)`
(refusals, run before anything is built or touched) and `run(job)` (compute a `Plan`, hand it to
`job.proceed(plan)`, apply it only if that says so, counting into `job.done`). This module owns
what they share: choosing and validating the target, refusing dangerous folders, building,
scanning the site, printing the plan and reporting a partially applied one.
"""
from __future__ import annotations

import difflib
import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from repost.config import Config, DeployTarget
from repost.errors import ConfigError, ErrorList, RepostError, TargetError, raise_all
from repost.ui import UI

REQUIRED = object()  # KEYS default meaning "this key must be set"
MARKER = ".repost-deploy"  # rsync, s3: "repost deployed here", so deleting foreign files needs --force
MANIFEST = ".repost-deploy.json"  # dir: the files the previous deploy wrote
_SECRET_WORDS = ("key", "secret", "token", "password", "credential")
# Without a terminal to answer a password or host-key prompt, ssh must fail at once, not hang.
BATCH_SSH = "ssh -o BatchMode=yes -o ConnectTimeout=20"
_TYPE_NAMES = {str: "a string", list: "a list", bool: "true or false", int: "an integer"}


@dataclass(frozen=True)
class Plan:
    """What a deploy would change; paths are POSIX, relative to the target's root."""

    upload: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return len(self.upload) + len(self.update) + len(self.delete)

    def summary(self) -> str:
        return (f"{len(self.upload)} to upload, {len(self.update)} to update, "
                f"{len(self.delete)} to delete, {self.unchanged} unchanged")


@dataclass
class Done:
    """What has been applied so far, so that a failure can say how far it got."""

    uploaded: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def any(self) -> bool:
        return bool(self.uploaded or self.updated or self.deleted)

    def summary(self) -> str:
        return f"{self.uploaded} uploaded, {self.updated} updated, {self.deleted} deleted"


@dataclass
class Job:
    """One deploy: the target, its validated options, the site files and the command's switches."""

    config: Config
    target: DeployTarget
    options: dict[str, Any]
    ui: UI
    dry_run: bool = False
    force: bool = False
    site: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)  # POSIX relative path -> file in site/
    dest: Any = None  # set by the target's check(): where it deploys to
    plan: Plan | None = None
    done: Done = field(default_factory=Done)

    def error(self, message: str) -> TargetError:
        return TargetError(f"deploy target '{self.target.name}' ({self.target.type}): {message}")

    def local_path(self, raw: str) -> Path:
        """A path from config.yaml: `~` expanded, relative to the site root."""
        return (self.config.root / Path(raw).expanduser()).resolve()

    def proceed(self, plan: Plan) -> bool:
        """Print the plan; True when it should be applied (not a dry run, something to do)."""
        self.plan = plan
        where = f"'{self.target.name}' ({self.target.type} {self.dest})"
        self.ui.info(f"deploy {where}: {plan.summary()}")
        for mark, paths in (("+", plan.upload), ("~", plan.update), ("-", plan.delete)):
            for path in paths:
                self.ui.detail(f"  {mark} {path}")
        if self.dry_run:
            self.ui.info("dry run: nothing was changed")
            return False
        if not plan.changes:
            self.ui.info("up to date: nothing to do")
            return False
        return True


def command(config: Config, args: Any, ui: UI) -> int:
    """Validate, refuse what is dangerous, build, plan, print, apply."""
    validate_targets(config)
    target = select_target(config, getattr(args, "name", None))
    job = Job(config, target, target_options(config, target), ui,
              dry_run=bool(getattr(args, "dry_run", False)), force=bool(getattr(args, "force", False)))
    module = _module(target.type)
    module.check(job)
    if not getattr(args, "no_build", False):
        _build(config, ui)
    job.site = config.paths.output
    job.files = scan_site(job)
    try:
        module.run(job)
    except TargetError as exc:
        raise _partial(job, str(exc)) from None
    except OSError as exc:
        raise _partial(job, str(job.error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")))) from None
    if job.plan and job.plan.changes and not job.dry_run:
        ui.info(f"deployed '{target.name}': {job.done.summary()}")
    return 0


def select_target(config: Config, name: str | None) -> DeployTarget:
    if not config.deploy:
        raise TargetError(f"{config.path or 'config.yaml'}: no deploy targets; add a list under 'deploy:'")
    if name is None:
        return config.deploy[0]
    for target in config.deploy:
        if target.name == name:
            return target
    known = ", ".join(t.name for t in config.deploy)
    raise TargetError(f"no deploy target named '{name}' in {config.path or 'config.yaml'} (known: {known})")


def validate_targets(config: Config) -> None:
    """Check every target's own keys; all errors at once (also usable by `repost check`)."""
    errors: list[RepostError] = []
    for target in config.deploy:
        try:
            target_options(config, target)
        except ConfigError as exc:
            errors.append(exc)
    raise_all(errors)


def target_options(config: Config, target: DeployTarget) -> dict[str, Any]:
    """The target's options checked against its type's KEYS, with defaults filled in."""
    keys = _module(target.type).KEYS
    shown = config.path or config.root / "config.yaml"

    def err(msg: str) -> ConfigError:
        return ConfigError(shown, target.line, f"deploy target '{target.name}' ({target.type}): {msg}")

    for key in target.options:
        if key not in keys:
            if any(word in str(key).lower() for word in _SECRET_WORDS):
                raise err(f"'{key}': credentials never go in config.yaml; use the environment "
                          "or the tool's own config (e.g. ~/.aws, ~/.ssh)")
            hint = difflib.get_close_matches(str(key), list(keys), n=1)
            raise err(f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
                      + f"; {target.type} targets take {', '.join(keys)}")
    options: dict[str, Any] = {}
    for key, (kind, default) in keys.items():
        if key not in target.options:
            if default is REQUIRED:
                raise err(f"missing required key '{key}'")
            options[key] = default
            continue
        value = target.options[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise err(f"'{key}' must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {value!r}")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise err(f"'{key}' must be a list of strings")
        options[key] = list(value) if kind is list else value
    return options


def refuse_dangerous(job: Job, raw: str, what: str) -> Path:
    """The resolved local folder, unless it is empty, `/`, home, or the site's own folders."""
    if not raw.strip():
        raise job.error(f"{what} is empty; refusing to deploy")
    path = job.local_path(raw)
    if path == Path(path.anchor):
        raise job.error(f"{what} {path} is the filesystem root; refusing to deploy")
    home = Path.home().resolve()
    if path == home or path in home.parents:
        raise job.error(f"{what} {path} is (or contains) the home folder; refusing to deploy")
    paths = job.config.paths
    folders = (("site root", job.config.root), ("content", paths.content), ("raw", paths.raw),
               ("layouts", paths.layouts), ("static", paths.static), ("output", paths.output))
    for label, folder in folders:
        folder = folder.resolve()
        if path == folder or path in folder.parents:
            raise job.error(f"{what} {path} is (or contains) the {label} folder; refusing to deploy")
        if label != "site root" and folder in path.parents:
            raise job.error(f"{what} {path} is inside the {label} folder; refusing to deploy")
    return path


def scan_site(job: Job) -> dict[str, Path]:
    """Every regular file of the built site by POSIX relative path; symlinks are skipped."""
    site = job.site
    assert site is not None
    shown = job.config.rel(site)
    if not site.is_dir():
        raise job.error(f"nothing to deploy: {shown}/ does not exist (run `repost build`)")
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(site):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(filenames) + [d for d in dirnames if (here / d).is_symlink()]:
            path = here / name
            rel = path.relative_to(site).as_posix()
            if path.is_symlink() or not path.is_file():
                job.ui.warn(f"{shown}/{rel}: not a regular file (symlink?); not deployed")
                continue
            if rel in (MARKER, MANIFEST):
                raise job.error(f"{shown}/{rel}: this name is reserved for the deploy bookkeeping")
            _check_name(job, shown, rel)
            files[rel] = path
    if not files:
        raise job.error(f"nothing to deploy: {shown}/ is empty (run `repost build`)")
    return files


def _check_name(job: Job, shown: str, rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise job.error(f"{shown}/{rel!r}: file name is not valid UTF-8") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in rel):
        raise job.error(f"{shown}/{rel!r}: file name contains a control character")


def _build(config: Config, ui: UI) -> None:
    """Build first; a failed build raises, so nothing is ever deployed from it."""
    from repost.build import build_site  # lazy: `--no-build` must work without the build stack

    result = build_site(config, ui=ui)
    errors = list(getattr(result, "errors", None) or [])
    if errors:
        raise ErrorList(errors + [TargetError("the build reported errors; nothing was deployed")])


def _partial(job: Job, message: str) -> TargetError:
    if job.done.any:
        total = job.plan.changes if job.plan else "?"
        return TargetError(f"{message} (partially applied: {job.done.summary()} of {total} changes)")
    return TargetError(f"{message} (nothing was changed)")


def _module(kind: str) -> ModuleType:
    return importlib.import_module(f"repost.deploy_{kind}")


def batch_ssh(interactive: bool | None = None) -> str | None:
    """The ssh command for rsync/git when nobody can answer a prompt (stdin is not a terminal:
    cron, CI, an editor's task runner); None when a person is there to type a passphrase."""
    if interactive is None:
        try:
            interactive = sys.stdin is not None and sys.stdin.isatty()
        except (OSError, ValueError):  # closed or replaced stdin
            interactive = False
    return None if interactive else BATCH_SSH
