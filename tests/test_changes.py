"""Which paths are sources, of which kind, and which never trigger a build: the rules behind
RELIABILITY B8 #43 (editor temp files) and #45 (a build never triggers itself)."""
from __future__ import annotations

from pathlib import Path

import pytest

from repost.changes import Targets, ignored_name
from repost.config import parse_config
from watch_support import source_tree, targets_of


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return source_tree(tmp_path)


def test_classify_kinds_and_ignores(root):
    t = targets_of(root)
    kind = lambda rel: (c.kind if (c := t.classify(root / rel)) else None)  # noqa: E731
    assert kind("config.yaml") == "config"
    assert kind("content/posts/x.md") == "content"
    assert kind("content/raw/dump.txt") == "raw"
    assert kind("layouts/post.html") == "layout"
    assert kind("static/assets/style.css") == "static"
    assert kind("content") == "content"  # the folder itself, deleted or re-created
    for rel in ("site/index.html", ".repost-cache/x", ".repost-build-site-1/index.html", "site.bak",
                "content/posts/x.md.swp", "content/posts/.x.md.swx", "content/posts/x.md~", "content/posts/.#x.md",
                "content/posts/4913", "content/posts/x.md.tmp", "content/.git/index", "content/raw/a.html.part",
                "README.md", "config.yaml~", "../elsewhere.md"):
        assert kind(rel) is None, rel


def test_output_inside_a_watched_folder_is_still_ignored(tmp_path):
    config = parse_config("paths: {output: static/out}\n", tmp_path, tmp_path / "config.yaml")
    t = Targets.from_config(config)
    assert t.classify(tmp_path / "static/out/index.html") is None
    assert t.classify(tmp_path / "static/x.css").kind == "static"


def test_plan_watches_folders_recursively_and_their_parents_flat(root):
    plan = targets_of(root).plan()
    assert plan[root / "content"] is True and plan[root / "layouts"] is True and plan[root / "static"] is True
    assert root / "content/raw" not in plan  # inside content, already covered
    assert plan[root] is False  # notices content/ layouts/ static/ config.yaml appearing or replaced


def test_ignored_names():
    for name in ("a.swp", "a.swx", "a~", ".#a", "4913", "a.tmp"):
        assert ignored_name(name)
    for name in ("a.md", "4913.md", "swp.md"):
        assert not ignored_name(name)
