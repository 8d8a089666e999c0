"""RELIABILITY B7 (row 42), the key oracle: a rebuild in place after a change gives the very tree a
clean build gives. Today every build renders everything and writes only changed bytes; when the
build cache lands (`repost/cache.py`) this test is what keeps "incremental may only skip work".

Also B10 row 60's "the summary is truncated before escaping".
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from conftest import build, make_site, post, tree_hashes
from repost.render import theme_dir

BASE_FILES = {
    "content/posts/a.md": post("Alpha", "First post.", tags=["x"]),
    "content/posts/b.md": post("Beta", "Second post, links to [alpha](/posts/alpha/).", date="2026-01-03T10:00:00+08:00", tags=["x", "y"]),
    "content/posts/c.md": post("Gamma", "Third.", date="2026-01-04T10:00:00+08:00"),
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
    "static/images/p.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
}


def _touch(path: Path, text: str) -> None:
    """Write and move the mtime forward explicitly (no sleeping for mtime granularity)."""
    old = path.stat().st_mtime if path.exists() else 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (old + 10, old + 10))


def _edit(root: Path, change: str) -> None:
    layouts = root / "layouts"
    if change == "base template":
        base = (theme_dir() / "templates/base.html").read_text(encoding="utf-8")
        _touch(layouts / "base.html", base.replace("</body>", "<!-- edited base --></body>"))
    elif change == "partial":
        _touch(layouts / "partials/footer.html", "<footer>new footer</footer>\n")
    elif change == "title":
        _touch(root / "content/posts/a.md", post("Alpha Renamed", "First post.", tags=["x"]))
    elif change == "body":
        _touch(root / "content/posts/c.md", post("Gamma", "Third, edited.", date="2026-01-04T10:00:00+08:00"))
    elif change == "tags":
        _touch(root / "content/posts/c.md", post("Gamma", "Third.", date="2026-01-04T10:00:00+08:00", tags=["z"]))
    elif change == "config":
        text = (root / "config.yaml").read_text(encoding="utf-8")
        _touch(root / "config.yaml", text.replace("title: Test Site", "title: Renamed Site").replace("paginate: 2", "paginate: 1"))
    elif change == "delete":
        (root / "content/posts/b.md").unlink()
    elif change == "slug":
        _touch(root / "content/posts/c.md", post("Gamma", "Third.", date="2026-01-04T10:00:00+08:00", slug="gamma-2"))
    elif change == "static":
        (root / "static/images/p.svg").unlink()
        _touch(root / "static/new.txt", "new")
    elif change == "draft":
        _touch(root / "content/posts/a.md", post("Alpha", "First post.", tags=["x"], draft=True))


CHANGES = ["base template", "partial", "title", "body", "tags", "config", "delete", "slug", "static", "draft"]


@pytest.mark.parametrize("change", CHANGES)
def test_rebuild_after_a_change_equals_a_clean_build(tmp_path, change):
    root = make_site(tmp_path / "site-root", BASE_FILES)
    build(root)
    before = tree_hashes(root / "site")
    _edit(root, change)
    build(root)
    clean = tmp_path / "clean"
    build(root, output=clean)
    assert tree_hashes(root / "site") == tree_hashes(clean)
    assert tree_hashes(root / "site") != before  # the change is visible


def test_a_chain_of_changes_still_equals_a_clean_build(tmp_path):
    root = make_site(tmp_path / "site-root", BASE_FILES)
    build(root)
    for change in CHANGES:
        _edit(root, change)
        build(root)
    build(root, output=tmp_path / "clean")
    assert tree_hashes(root / "site") == tree_hashes(tmp_path / "clean")
    shutil.rmtree(root / "site")
    build(root)
    assert tree_hashes(root / "site") == tree_hashes(tmp_path / "clean")


def test_feed_summaries_are_truncated_before_escaping(tmp_path):
    text = "Fish & chips a < b “quoted” " * 30
    root = make_site(tmp_path, {"content/posts/a.md": post("A", text, slug="a")},
                     config="title: T\nbase_url: https://e.example/\nsummary_length: 41\n")
    build(root)
    atom = (root / "site/atom.xml").read_bytes()
    etree.fromstring(atom)  # a cut inside "&amp;" or "&lt;" would not parse
    summary = feedparser.parse(atom).entries[0].summary
    assert summary.endswith("…") and len(summary) <= 42
    assert summary.startswith("Fish & chips a < b “quoted” Fish & chips")
