"""What one rebuild of the served site does with a batch of changes: the same build as `repost build`.

Why it is apart from the watcher: `watch` knows files and threads, this knows the site. A changed
config is loaded again (a broken one keeps the last good config until it is fixed; a briefly
missing or empty one, an editor's save half done, is waited for), new raw dumps are imported
first, then `build.build_site` runs; a batch of stylesheet edits reports only the .css outputs,
so open tabs swap stylesheets instead of reloading.
"""
from __future__ import annotations

import copy
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from repost.changes import Change, stylesheets_only
from repost.errors import RepostError, raise_all
from repost.ui import UI


class SiteBuild:
    """What one rebuild does for a batch: reload the config if it changed (keeping the last good
    one when the new one is broken), import new raw dumps, then run the same build as `repost build`."""

    def __init__(self, config: Any, *, drafts: bool = False, ui: UI | None = None,
                 build: Callable | None = None, importer: Callable | None = None,
                 load: Callable | None = None):
        self.config, self.drafts, self.ui = config, drafts, ui or UI(quiet=True)
        self._build, self._import, self._load = build, importer, load
        self.config_broken = False
        self.options: dict[str, Any] = {}  # more keyword arguments for repost's own build_site

    def __call__(self, changes: Iterable[Change] | None = None) -> Any:
        """Build for a batch of changes; `None` means the first build, which (like `repost build`)
        imports every new dump in the raw folder first and only warns about failed ones."""
        batch = list(changes or ())
        if self.config_broken or any(c.kind == "config" for c in batch):
            self.reload_config()
        errors = []
        dumps = sorted({c.path for c in batch if c.kind == "raw" and c.path.is_file()})
        importer = self._importer()
        if importer is not None and (changes is None or dumps):
            summary = importer(self.config, dumps or None, ui=self.ui)
            errors = list(getattr(summary, "errors", None) or [])
        result = self._builder()(self.config, drafts=self.drafts, ui=self.ui, **self.options)
        if changes is None:
            for error in errors:
                self.ui.warn(error.format())
        else:
            raise_all(errors)  # a failed import shows in the overlay, after the rest is built
        if stylesheets_only(batch):
            result = css_only(result)
        return result

    def reload_config(self) -> None:
        """Load the config again; a briefly missing file (an editor's atomic save) is retried, and
        so is an empty one (an editor that truncates, then writes: caught in between, it would
        load as all defaults)."""
        load = self._load or _load_config
        if self.config.path is None:
            return
        for attempt in range(6):
            if attempt < 5 and _pending(self.config.path):
                time.sleep(0.1)
                continue
            try:
                self.config = load(self.config.path)
            except RepostError:
                self.config_broken = True
                if attempt == 5 or not _pending(self.config.path):  # gone since the check: wait again
                    raise
                time.sleep(0.1)
            else:
                self.config_broken = False
                return

    def _builder(self) -> Callable:
        if self._build is None:
            from repost.build import build_site

            self._build = build_site
            self.options["later"] = in_background
        return self._build

    def _importer(self) -> Callable | None:
        if self._import is None:
            try:
                from repost.importer import import_paths
            except ImportError:
                return None
            self._import = import_paths
        return self._import


def css_only(result: Any) -> Any:
    """A batch of stylesheet edits changes the HTML only through the stylesheets' `?v=` digests, so
    open tabs may swap stylesheets instead of reloading: report only the .css outputs."""
    if getattr(result, "removed", None):
        return result
    slim = copy.copy(result)
    slim.changed = [p for p in result.changed if p.endswith(".css")]
    return slim


def in_background(job: Callable[[], Any]) -> None:
    """Run cleanup nobody waits for (replaced output files) on a daemon thread."""
    threading.Thread(target=job, name="repost-cleanup", daemon=True).start()


def _load_config(path: Any) -> Any:
    from repost.config import load_config

    return load_config(path)


def _pending(path: str | Path) -> bool:
    """The config is missing or empty: an editor is (most likely) halfway through saving it."""
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return True
