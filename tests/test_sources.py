"""This build's posts and pages (`repost/sources.py`): one stat per input; each file parsed, found
in the cache by its digest, or a stub of an unchanged one; records stored in batches as they come.

Whole sites rebuilt over sequences of edits are in `test_incremental.py`; these call the module
directly, with the cache the build would open.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import load, make_site, post
from repost import cache, content, sources
from repost.cache import BuildCache
from repost.errors import ErrorList
from repost.records import STUBS
from repost.sources import _rels, parse_sources, stat_inputs


def _site(tmp_path, n=3):
    posts = {f"content/posts/p{i}.md": post(f"Post {i}", f"Body {i}.", date=f"2026-01-0{i + 1}T10:00:00+08:00")
             for i in range(n)}
    return make_site(tmp_path / "root", {**posts, "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n"})


def _inputs(config, drafts=False):
    posts, pages = content.collect(config)
    return stat_inputs(config, posts, pages, {}, drafts)


def _parse(config):
    store = BuildCache(config, config.root / "site")
    try:
        return parse_sources(config, store, _inputs(config))
    finally:
        store.close()


def test_the_stamp_moves_with_every_input_and_env_only_with_what_is_not_a_source(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "RACY_NS", 0)  # trust every stat at once
    root = _site(tmp_path)
    config = load(root)
    first = _inputs(config)
    assert first.stamp and first.env and len(first.sigs) == 4 and None not in first.sigs
    assert _inputs(config).stamp == first.stamp
    os.utime(root / "content/posts/p1.md", (1_700_000_000, 1_700_000_000))
    edited = _inputs(config)
    assert edited.stamp != first.stamp and edited.env == first.env
    assert edited.sigs[1] != first.sigs[1] and edited.sigs[0] == first.sigs[0]
    assert _inputs(config, drafts=True).env != edited.env
    (root / "layouts").mkdir(exist_ok=True)
    (root / "layouts/extra.html").write_text("extra", encoding="utf-8")
    assert _inputs(config).env != edited.env


def test_a_file_too_fresh_to_trust_has_no_signature_and_the_inputs_no_stamp(tmp_path):
    inputs = _inputs(load(_site(tmp_path)))  # written just now: within cache.RACY_NS
    assert inputs.sigs == [None] * 4 and inputs.stamp is None


def test_unchanged_files_are_stubs_and_only_a_changed_one_is_read_and_parsed(tmp_path, monkeypatch, parses):
    monkeypatch.setattr(cache, "RACY_NS", 0)
    root = _site(tmp_path)
    config = load(root)
    first = _parse(config)
    assert parses == [f"content/posts/p{i}.md" for i in range(3)] and len(first.pages) == 1
    parses.clear()
    cache._WARM.clear()  # as in a new process
    (root / "content/posts/p1.md").write_text(post("Post 1", "New body.", date="2026-01-02T10:00:00+08:00"), encoding="utf-8")
    read: list[str] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (self.suffix == ".md" and read.append(self.name), real(self))[1])
    again = _parse(config)
    assert parses == ["content/posts/p1.md"] and read == ["p1.md"]
    assert [type(p) in STUBS for p in again.posts] == [True, False, True]
    assert again.digests.keys() == first.digests.keys()
    assert [tok for tok in first.digests if first.digests[tok] != again.digests[tok]] == [("post", "content/posts/p1.md")]


def test_records_are_stored_in_batches_as_they_arrive(tmp_path, monkeypatch, parses):
    monkeypatch.setattr(sources, "STORE_BATCH", 2)
    batches: list[int] = []
    real = BuildCache.insert_records
    monkeypatch.setattr(BuildCache, "insert_records", lambda self, rows: (batches.append(len(rows)), real(self, rows))[1])
    found = _parse(load(_site(tmp_path, n=5)))
    assert batches == [2, 2, 2]  # five posts and a page
    assert None not in found.posts + found.pages and None not in found.digests.values()


def test_every_broken_file_is_reported_at_once(tmp_path):
    root = _site(tmp_path)
    (root / "content/posts/p0.md").write_text("---\ntitle: [\n---\nBroken.\n", encoding="utf-8")
    (root / "content/posts/p2.md").write_text("---\ntitle: [\n---\nBroken too.\n", encoding="utf-8")
    with pytest.raises(ErrorList) as err:
        _parse(load(root))
    assert [e.path for e in err.value.errors] == ["content/posts/p0.md", "content/posts/p2.md"]


def test_rels_are_config_rel_worked_out_once_per_folder(tmp_path):
    root = make_site(tmp_path / "root", {"content/posts/a.md": post("A"), "content/posts/2026/b.md": post("B")})
    config = load(root)
    files = content.collect(config)[0]
    assert _rels(config, config.paths.posts, files) == [config.rel(f) for f in files]
    assert sorted(_rels(config, config.paths.posts, files)) == ["content/posts/2026/b.md", "content/posts/a.md"]
    assert _rels(config, root, [root / "x.md"]) == ["x.md"]
    elsewhere = tmp_path / "elsewhere"
    assert _rels(config, elsewhere, [elsewhere / "c.md"]) == [config.rel(elsewhere / "c.md")] == [str(elsewhere / "c.md")]
    assert _rels(config, config.paths.posts, []) == []
