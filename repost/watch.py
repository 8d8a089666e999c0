"""Watch the site's sources and rebuild: ignore editor noise, debounce bursts, never overlap builds.

Why it is shaped like this: one save in an editor is a burst of events (a temp file, a rename, a
backup deleted) and a `git checkout` is hundreds, so a background loop waits for a quiet period
(~100 ms), builds the whole batch once, and queues exactly one more build for whatever arrives
during a build (the mkdocs / Eleventy model). Builds run on that one thread, so they never overlap.
The output and cache folders are never watched for changes, so a build cannot trigger itself:
which paths count, and as what kind of change, is decided in `changes`; what a batch then does
to the site, in `serve_build`.
"""
from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from repost.changes import Change, Targets
from repost.ui import UI

REAL_EVENTS = ("created", "modified", "moved", "deleted")
INOTIFY_HINT = (
    "the inotify watch limit is reached, so repost falls back to polling (slower); raise it with "
    "`sudo sysctl fs.inotify.max_user_watches=524288` (persist it in /etc/sysctl.conf)"
)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in REAL_EVENTS or (event.is_directory and event.event_type == "modified"):
            return
        if event.event_type in ("deleted", "moved"):
            self.watcher.gone(Path(os.fsdecode(event.src_path)))
        for path in (event.src_path, getattr(event, "dest_path", "")):
            change = self.watcher.targets.classify(os.fsdecode(path)) if path else None
            if change is not None:
                self.watcher.notify(change)


class Watcher:
    """A watchdog observer over `Targets`; `poll=True` (or an inotify limit) uses polling."""

    def __init__(self, targets: Targets, notify: Callable[[Change], None], *, poll: bool = False,
                 ui: UI | None = None, poll_interval: float = 0.5):
        self.targets, self.notify, self.poll, self.ui = targets, notify, poll, ui or UI(quiet=True)
        self.poll_interval = poll_interval
        self.observer: Any = None
        self._watches: dict[Path, tuple[Any, tuple[int, int]]] = {}
        self._stale: set[Path] = set()  # watched folders seen deleted or moved away
        self._lock = threading.Lock()
        self._handler = _Handler(self)

    def start(self) -> None:
        self._new_observer()
        self.refresh()

    def _new_observer(self) -> None:
        self.observer = PollingObserver(timeout=self.poll_interval) if self.poll else Observer()
        self.observer.daemon = True
        self.observer.start()
        self._watches = {}

    def refresh(self, targets: Targets | None = None) -> None:
        """(Re-)arm watches: new targets after a config reload, or a folder that appeared or was
        replaced (deleted and re-created), which inotify stops following."""
        with self._lock:
            if targets is not None:
                self.targets = targets
            try:
                self._arm(self.targets.plan())
            except OSError as exc:
                if self.poll or exc.errno not in (errno.ENOSPC, errno.EMFILE):
                    raise
                self.ui.warn(INOTIFY_HINT)
                self._stop_observer()
                self.poll = True
                self._new_observer()
                self._arm(self.targets.plan())

    def gone(self, path: Path) -> None:
        """A watched folder was deleted or moved: its emitter has stopped (a new folder at the same
        path may even reuse the inode number), so the next `refresh` re-arms it."""
        if path in self._watches:
            self._stale.add(path)

    def _arm(self, plan: dict[Path, bool]) -> None:
        for path in list(self._watches):
            if path not in plan:
                self._unschedule(path)
        for path, recursive in plan.items():
            ident = _identity(path)
            if path in self._watches and self._watches[path][1] == ident and path not in self._stale:
                continue
            self._stale.discard(path)
            self._unschedule(path)
            if ident is not None:
                watch = self.observer.schedule(self._handler, str(path), recursive=recursive)
                self._watches[path] = (watch, ident)

    def _unschedule(self, path: Path) -> None:
        entry = self._watches.pop(path, None)
        if entry is not None:
            try:
                self.observer.unschedule(entry[0])
            except (KeyError, OSError):
                pass

    def _stop_observer(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            if self.observer.is_alive() and self.observer is not threading.current_thread():
                self.observer.join(timeout=5)

    def stop(self) -> None:
        with self._lock:
            self._stop_observer()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(path) else None


class Rebuilder:
    """One background thread: wait for a change, wait for a quiet period, build the batch, repeat.

    Changes that arrive during a build are collected and become exactly one more build.
    """

    def __init__(self, build: Callable[[frozenset[Change]], Any], *, quiet: float = 0.1,
                 max_wait: float = 3.0, ui: UI | None = None):
        self.build, self.quiet, self.max_wait, self.ui = build, quiet, max_wait, ui or UI(quiet=True)
        self._cond = threading.Condition()
        self._pending: set[Change] = set()
        self._last = 0.0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="repost-rebuild", daemon=True)

    def notify(self, change: Change) -> None:
        with self._cond:
            self._pending.add(change)
            self._last = time.monotonic()
            self._cond.notify_all()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _next_batch(self) -> frozenset[Change] | None:
        with self._cond:
            self._cond.wait_for(lambda: self._pending or self._stopping)
            first = time.monotonic()
            while not self._stopping:
                now = time.monotonic()
                left = min(self._last + self.quiet - now, first + self.max_wait - now)
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._stopping:
                return None
            batch = frozenset(self._pending)
            self._pending.clear()
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self.build(batch)
            except Exception as exc:  # the loop outlives any build failure
                self.ui.error(f"rebuild failed: {type(exc).__name__}: {exc}")


def watch_and_rebuild(targets: Targets, build: Callable[[frozenset[Change]], Any], *, poll: bool = False,
                      ui: UI | None = None, quiet: float = 0.1) -> tuple[Watcher, Rebuilder]:
    """Start a Watcher feeding a Rebuilder; each batch re-arms replaced folders, then builds."""

    def run(batch: frozenset[Change]) -> None:
        watcher.refresh()
        build(batch)

    rebuilder = Rebuilder(run, quiet=quiet, ui=ui)
    watcher = Watcher(targets, rebuilder.notify, poll=poll, ui=ui)
    rebuilder.start()
    watcher.start()
    return watcher, rebuilder
