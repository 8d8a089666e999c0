"""What a file event means for the site: which paths are sources, of which kind, and which never are.

The watcher (`watch`) and the build it starts share one small vocabulary, a `Change` (kind +
path), and what a path means is decided here, with no thread and no observer: the config file,
then the raw, layout, static and content folders (most specific first). Editor temp, swap and
backup files, dot-folders, the output folder and `.repost-cache/` never count, so a build cannot
trigger itself. `Targets.plan` says which folders to observe to see all of it.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Editor temp, swap and backup files, and partial downloads: never a reason to build.
IGNORED_NAMES = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", "*.tmp", "*.part", "*.crdownload")


@dataclass(frozen=True)
class Change:
    """One relevant path and what kind of source it is: config, raw, layout, static or content."""

    kind: str
    path: Path


@dataclass(frozen=True)
class Targets:
    """What to watch: folders by kind (most specific first), the config file, and what to ignore."""

    folders: tuple[tuple[str, Path], ...]
    config: Path | None = None
    ignore: tuple[Path, ...] = ()

    @classmethod
    def from_config(cls, config: Any) -> "Targets":
        p = config.paths
        folders = (("raw", p.raw), ("layout", p.layouts), ("static", p.static), ("content", p.content))
        ignore = (p.output, config.root / ".repost-cache")
        return cls(tuple((k, Path(os.path.abspath(f))) for k, f in folders),
                   Path(config.path).resolve() if config.path else None,
                   tuple(Path(os.path.abspath(i)) for i in ignore))

    def classify(self, path: str | Path) -> Change | None:
        """The Change a path stands for, or None when it must never trigger a build."""
        p = Path(os.path.abspath(path))
        if self.config is not None and p == self.config:
            return Change("config", p)
        if any(_within(p, i) for i in self.ignore):
            return None
        for kind, folder in self.folders:
            if _within(p, folder):
                parts = p.relative_to(folder).parts
                if any(part.startswith(".") for part in parts) or ignored_name(p.name):
                    return None
                return Change(kind, p)
        return None

    def plan(self) -> dict[Path, bool]:
        """Folders to observe -> recursive. Each folder's parent is watched flat, so a folder that
        appears, or is deleted and re-created, is noticed (then `watch.Watcher.refresh` re-arms it)."""
        roots = [f for _, f in self.folders if not any(_within(f, o) and f != o for _, o in self.folders)]
        plan = {f: True for f in roots}
        parents = [f.parent for f in roots] + ([self.config.parent] if self.config else [])
        for parent in parents:
            if not any(_within(parent, r) for r in roots):
                plan.setdefault(parent, False)
        return plan


def ignored_name(name: str) -> bool:
    """An editor's temp, swap or backup file, or a partial download: known by its name alone."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED_NAMES)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def stylesheets_only(batch: list[Change]) -> bool:
    """Only .css files in static/ changed (folders created for them do not count)."""
    css = [c for c in batch if c.kind == "static" and c.path.suffix == ".css"]
    return bool(css) and all(c in css or (c.kind == "static" and c.path.is_dir()) for c in batch)
