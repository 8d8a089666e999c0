"""The watcher and rebuild loop against real file operations (RELIABILITY B8 #43-45, #50; what a
rebuild then does, config reloads included (#47), is tested in test_serve_build.py).

mkdocs-style: drive the loop with a recording fake build and poll with short timeouts. "Exactly one
build" is checked by waiting for the first and then confirming no second one follows for a while.
"""
from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from watchdog.observers.inotify import InotifyObserver
from watchdog.observers.polling import PollingObserver

from repost import watch
from repost.changes import Change, Targets
from repost.watch import Rebuilder, watch_and_rebuild
from watch_support import source_tree, targets_of

pytestmark = pytest.mark.timeout(60)
SETTLE = 1.0  # how long "no further build" is watched for


def wait_for(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return source_tree(tmp_path)


class Recorder:
    """A fake build: records each batch and the maximum number of builds running at once."""

    def __init__(self, delay: float = 0.0, gate: threading.Event | None = None):
        self.batches: list[frozenset[Change]] = []
        self.delay, self.gate = delay, gate
        self.running = self.max_running = 0
        self.started = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, batch: frozenset[Change]) -> None:
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        self.started.set()
        try:
            if self.gate is not None:
                self.gate.wait(10)
            time.sleep(self.delay)
        finally:
            with self._lock:
                self.batches.append(batch)
                self.running -= 1

    def paths(self, i: int = -1) -> set[str]:
        return {c.path.name for c in self.batches[i]}


@contextmanager
def watching(root: Path, build, *, poll: bool = False, targets: Targets | None = None):
    watcher, rebuilder = watch_and_rebuild(targets or targets_of(root), build, poll=poll)
    try:
        yield watcher
    finally:
        watcher.stop()
        rebuilder.stop()


def settle() -> None:
    time.sleep(SETTLE)


# --- editor saves (B8 #43) ------------------------------------------------------------------------
@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_atomic_save_builds_exactly_once(root, poll):
    rec = Recorder()
    post = root / "content/posts/x.md"
    with watching(root, rec, poll=poll):
        tmp = post.with_name("x.md.tmp")
        tmp.write_text("---\ntitle: X\n---\nnew\n")
        os.replace(tmp, post)
        assert wait_for(lambda: rec.batches)
        settle()
    assert len(rec.batches) == 1
    assert rec.batches[0] == {Change("content", post)}


def test_vim_style_save_builds_exactly_once(root):
    rec = Recorder()
    post = root / "content/posts/x.md"
    with watching(root, rec):
        probe = post.with_name("4913")
        probe.write_text("")
        probe.unlink()
        os.rename(post, post.with_name("x.md~"))
        swap = post.with_name(".x.md.swp")
        swap.write_text("swap")
        post.write_text("---\ntitle: X\n---\nvim\n")
        post.with_name("x.md~").unlink()
        swap.unlink()
        assert wait_for(lambda: rec.batches)
        settle()
    assert len(rec.batches) == 1
    assert rec.paths() == {"x.md"}


def test_temp_and_swap_files_never_build(root):
    rec = Recorder()
    posts = root / "content/posts"
    with watching(root, rec):
        for name in ("a.swp", ".a.swx", "a~", ".#a.md", "4913", "a.md.tmp", ".hidden.md"):
            (posts / name).write_text("x")
        (root / "content/.git").mkdir()
        (root / "content/.git/index").write_text("x")
        settle()
        assert rec.batches == []
        (posts / "real.md").write_text("---\ntitle: R\n---\n")  # the control: the watcher is alive
        assert wait_for(lambda: rec.batches)
        settle()
    assert len(rec.batches) == 1 and rec.paths() == {"real.md"}


# --- bursts and self-loops (B8 #44, #45) ------------------------------------------------------------
@pytest.mark.parametrize("poll", [False, True], ids=["inotify", "poll"])
def test_five_hundred_files_and_a_replaced_folder(root, poll):
    rec = Recorder(delay=0.3)
    with watching(root, rec, poll=poll):
        start = time.monotonic()
        shutil.rmtree(root / "content")  # the watched folder itself, as a checkout may do
        (root / "content/posts").mkdir(parents=True)
        for i in range(500):
            (root / f"content/posts/p{i:03}.md").write_text(f"---\ntitle: P{i}\n---\n")
        assert time.monotonic() - start < 1.0 or poll  # the burst really is a burst
        assert wait_for(lambda: rec.batches)
        settle()
        assert 1 <= len(rec.batches) <= 2
        assert rec.max_running == 1
        before = len(rec.batches)
        (root / "content/posts/p000.md").write_text("---\ntitle: again\n---\n")  # still watching
        assert wait_for(lambda: len(rec.batches) > before)
    assert rec.max_running == 1
    assert any("p000.md" in rec.paths(i) for i in range(before, len(rec.batches)))


def test_a_build_writing_output_and_cache_does_not_trigger_itself(root):
    def build(batch):
        site = root / "site"
        temp = root / ".repost-build-site-1"  # what write.Writer does: a sibling tree, then a swap
        temp.mkdir()
        (temp / "index.html").write_text(f"build {len(rec.batches)}")
        os.rename(site, root / ".repost-old-site-1")
        os.rename(temp, site)
        shutil.rmtree(root / ".repost-old-site-1")
        (root / ".repost-cache/state.json").write_text("{}")
        (site / ".cache").mkdir(exist_ok=True)
        (site / ".cache/x").write_text("x")
        rec(batch)

    rec = Recorder()
    with watching(root, build):
        (root / "content/posts/x.md").write_text("---\ntitle: X\n---\nedit\n")
        assert wait_for(lambda: rec.batches)
        time.sleep(2)
    assert len(rec.batches) == 1


def test_changes_during_a_build_queue_exactly_one_more(root):
    gate = threading.Event()
    rec = Recorder(gate=gate)
    posts = root / "content/posts"
    with watching(root, rec):
        (posts / "x.md").write_text("first")
        assert rec.started.wait(10)
        for name in ("a.md", "b.md", "c.md"):
            (posts / name).write_text(name)
        time.sleep(0.5)  # let the watcher deliver them while the build is still blocked
        gate.set()
        assert wait_for(lambda: len(rec.batches) >= 2)
        settle()
    assert len(rec.batches) == 2 and rec.max_running == 1
    assert rec.paths(0) == {"x.md"} and rec.paths(1) == {"a.md", "b.md", "c.md"}


def test_rebuilder_debounces_and_survives_a_failing_build():
    calls = []

    def build(batch):
        calls.append(batch)
        if len(calls) == 1:
            raise RuntimeError("boom")

    rb = Rebuilder(build, quiet=0.1)
    rb.start()
    try:
        for i in range(20):
            rb.notify(Change("content", Path(f"/p{i}")))
            time.sleep(0.01)
        assert wait_for(lambda: len(calls) == 1)
        rb.notify(Change("content", Path("/again")))
        assert wait_for(lambda: len(calls) == 2)
    finally:
        rb.stop()
    assert len(calls[0]) == 20


def test_a_folder_created_after_start_is_watched(tmp_path):
    (tmp_path / "content/posts").mkdir(parents=True)
    (tmp_path / "config.yaml").write_text("")
    rec = Recorder()
    with watching(tmp_path, rec):
        (tmp_path / "layouts").mkdir()
        assert wait_for(lambda: rec.batches)
        settle()
        (tmp_path / "layouts/post.html").write_text("{{ post.title }}")
        assert wait_for(lambda: any("post.html" in rec.paths(i) for i in range(len(rec.batches))))


def test_config_changes_are_seen(root):
    rec = Recorder()
    with watching(root, rec):
        tmp = root / "config.yaml.tmp"
        tmp.write_text("title: New\n")
        os.replace(tmp, root / "config.yaml")
        assert wait_for(lambda: rec.batches)
        settle()
    assert rec.batches == [{Change("config", root / "config.yaml")}]


# --- inotify limits (B8 #50) ------------------------------------------------------------------
def test_inotify_limit_falls_back_to_polling_with_a_hint(root, monkeypatch):
    class Exhausted(InotifyObserver):
        def schedule(self, *args, **kwargs):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(watch, "Observer", Exhausted)
    warnings = []
    rec = Recorder()
    ui = SimpleNamespace(warn=warnings.append, error=warnings.append, info=lambda m: None, detail=lambda m: None)
    watcher, rebuilder = watch_and_rebuild(targets_of(root), rec, ui=ui)
    try:
        assert isinstance(watcher.observer, PollingObserver) and watcher.poll
        assert any("fs.inotify.max_user_watches" in w for w in warnings)
        (root / "content/posts/x.md").write_text("polled")
        assert wait_for(lambda: rec.batches)
    finally:
        watcher.stop()
        rebuilder.stop()


def test_poll_flag_uses_the_polling_observer(root):
    with watching(root, Recorder(), poll=True) as watcher:
        assert isinstance(watcher.observer, PollingObserver)
