"""build_site: the pipeline end to end on inline mini-sites."""
from __future__ import annotations

import pytest

from conftest import build, make_site, post, tree, tree_hashes
from repost.errors import ContentError, ErrorList


def test_minimal_site_builds_expected_tree(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("Alpha", tags=["x"])})
    result = build(root)
    assert tree(root / "site") == {
        "index.html", "404.html", "robots.txt", "sitemap.xml", "atom.xml", "rss.xml", "favicon.svg",
        "assets/style.css", "archive/index.html", "tags/index.html", "tags/x/index.html",
        "posts/alpha/index.html",
    }
    assert sorted(result.changed) == sorted(tree(root / "site"))
    assert result.removed == []


def test_unchanged_rebuild_reports_nothing_and_is_identical(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("Alpha")})
    build(root)
    before = tree_hashes(root / "site")
    again = build(root)
    assert again.changed == [] and again.removed == []
    assert tree_hashes(root / "site") == before


def test_duplicate_urls_fail_naming_both_files(tmp_path):
    root = make_site(tmp_path, {
        "content/posts/a.md": post("Same Title"),
        "content/posts/b.md": post("same title"),
    })
    with pytest.raises((ContentError, ErrorList)) as info:
        build(root)
    text = info.value.format()
    assert "content/posts/a.md" in text and "content/posts/b.md" in text
    assert not (root / "site").exists()
