"""The watcher and rebuild loop against real file operations (RELIABILITY B8 #43-45, #47, #50).

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
from repost.errors import ConfigError, ContentError
from repost.watch import Rebuilder, SiteBuild, css_only, watch_and_rebuild
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


# --- SiteBuild: config reloads, raw dumps, css-only (B8 #47) -----------------------------------------
class FakeBuild:
    def __init__(self, changed=("index.html",)):
        self.configs, self.changed, self.log, self.drafts = [], list(changed), None, []

    def __call__(self, config, *, drafts=False, ui=None):
        self.configs.append(config)
        self.drafts.append(drafts)
        if self.log is not None:
            self.log.append("build")
        return SimpleNamespace(changed=list(self.changed), removed=[])


def site_build(root: Path, fake: FakeBuild, importer=None) -> SiteBuild:
    from repost.config import load_config

    return SiteBuild(load_config(root / "config.yaml"), build=fake, importer=importer or (lambda *a, **k: None))


def test_broken_config_keeps_the_last_good_one_until_fixed(root):
    fake = FakeBuild()
    site = site_build(root, fake)
    good = site.config
    cfg = Change("config", root / "config.yaml")
    (root / "config.yaml").write_text("title: [unclosed\n")
    with pytest.raises(ContentError) as err:
        site([cfg])
    assert "config.yaml" in err.value.format()
    assert site.config is good and site.config_broken
    with pytest.raises(ContentError):  # a content edit does not hide the broken config
        site([Change("content", root / "content/posts/x.md")])
    assert fake.configs == []
    (root / "config.yaml").write_text("title: Fixed\n")
    site([cfg])
    assert site.config.title == "Fixed" and fake.configs[-1].title == "Fixed" and not site.config_broken


def test_config_briefly_missing_is_retried(root):
    site = site_build(root, FakeBuild())
    cfg = root / "config.yaml"
    cfg.rename(root / "config.yaml~")  # vim: move away, write the new file
    threading.Timer(0.2, lambda: cfg.write_text("title: Back\n")).start()
    site([Change("config", cfg)])
    assert site.config.title == "Back"


def test_config_caught_empty_mid_write_is_retried(root):
    """An editor that truncates then writes: the watcher may read the file empty in between."""
    site = site_build(root, FakeBuild())
    cfg = root / "config.yaml"
    cfg.write_text("")
    threading.Timer(0.2, lambda: cfg.write_text("title: Back\n")).start()
    site([Change("config", cfg)])
    assert site.config.title == "Back"


def test_config_gone_for_good_is_an_error_not_a_crash(root):
    site = site_build(root, FakeBuild())
    (root / "config.yaml").unlink()
    with pytest.raises(ConfigError):
        site([Change("config", root / "config.yaml")])


def test_new_raw_dump_is_imported_before_the_build(root):
    log = []
    fake = FakeBuild()
    fake.log = log

    def importer(config, paths, *, ui=None):
        log.append(("import", paths))
        return SimpleNamespace(written=[], errors=[])

    dump = root / "content/raw/new.txt"
    dump.write_text("dump")
    site = site_build(root, fake, importer)
    site([Change("raw", dump), Change("raw", root / "content/raw/deleted.txt")])
    assert log == [("import", [dump]), "build"]
    log.clear()
    site(None)  # the first build imports every new dump, like `repost build`
    assert log == [("import", None), "build"]
    log.clear()
    site([Change("content", root / "content/posts/x.md")])
    assert log == ["build"]


def test_failed_import_is_reported_after_building(root):
    fake = FakeBuild()
    bad = ContentError("content/raw/bad.txt", None, "cannot decode")
    site = site_build(root, fake, lambda config, paths, ui=None: SimpleNamespace(errors=[bad]))
    (root / "content/raw/bad.txt").write_bytes(b"\xff")
    with pytest.raises(ContentError, match="cannot decode"):
        site([Change("raw", root / "content/raw/bad.txt")])
    assert len(fake.configs) == 1  # the rest of the site was still built


def test_stylesheet_only_batch_reports_only_css():
    full = SimpleNamespace(changed=["assets/style.css", "index.html", "posts/a/index.html"], removed=[])
    assert css_only(full).changed == ["assets/style.css"] and full.changed[1] == "index.html"
    gone = SimpleNamespace(changed=["index.html"], removed=["assets/old.css"])
    assert css_only(gone) is gone


def test_site_build_marks_css_batches(root):
    fake = FakeBuild(changed=["assets/style.css", "index.html"])
    site = site_build(root, fake)
    css = Change("static", root / "static/assets/style.css")
    assert site([css]).changed == ["assets/style.css"]
    assert site([css, Change("content", root / "content/posts/x.md")]).changed == ["assets/style.css", "index.html"]


def test_drafts_flag_reaches_the_build(root):
    from repost.config import load_config

    fake = FakeBuild()
    SiteBuild(load_config(root / "config.yaml"), drafts=True, build=fake, importer=lambda *a, **k: None)(None)
    assert fake.drafts == [True]
