"""What one rebuild of the served site does with a batch: config reloads (RELIABILITY B8 #47), new raw
dumps imported first, stylesheet-only batches, the drafts flag. A fake build stands in for build_site.
"""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from repost.changes import Change
from repost.errors import ConfigError, ContentError
from repost.serve_build import SiteBuild, css_only
from watch_support import source_tree

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return source_tree(tmp_path)


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
