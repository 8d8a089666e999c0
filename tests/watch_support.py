"""Helpers shared by the watcher, change and serve-build tests: a site's sources in tmp_path."""
from __future__ import annotations

from pathlib import Path

from repost.changes import Targets
from repost.config import parse_config


def source_tree(tmp_path: Path) -> Path:
    """The folders a site watches (and the output and cache it must not), a config and one post."""
    for folder in ("content/posts", "content/raw", "layouts", "static", "site", ".repost-cache"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "config.yaml").write_text("title: T\n")
    (tmp_path / "content/posts/x.md").write_text("---\ntitle: X\n---\nold\n")
    return tmp_path


def targets_of(root: Path) -> Targets:
    return Targets.from_config(parse_config("title: T\n", root, root / "config.yaml"))
