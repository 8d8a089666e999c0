"""The file-system moves of an atomic build: the atomic exchange, the output never missing while
a new tree is swapped in, and the clean-up of what a killed build left (RELIABILITY B6)."""
from __future__ import annotations

import pytest

from conftest import build, dated_site, no_temp_dirs, post
from repost import swap
from repost.swap import TEMP_PREFIX, exchange


def test_stale_temp_dirs_of_dead_builds_are_cleaned(tmp_path):
    root = dated_site(tmp_path, 1)
    stale = root / f"{TEMP_PREFIX}site-999999999"
    stale.mkdir()
    (stale / "junk.html").write_text("x")
    build(root)
    assert not stale.exists()


def test_swap_is_an_atomic_exchange_on_linux(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("new")
    (b / "x").write_text("old")
    if not exchange(a, b):
        pytest.skip("renameat2 not available here")
    assert (b / "x").read_text() == "new" and (a / "x").read_text() == "old"


def test_output_is_never_missing_during_a_swap(tmp_path, monkeypatch):
    root = dated_site(tmp_path, 1)
    build(root)
    seen = []
    real = swap.exchange

    def watching(a, b):
        ok = real(a, b)
        seen.append((root / "site" / "index.html").is_file())
        return ok

    monkeypatch.setattr(swap, "exchange", watching)
    (root / "content/posts/p0.md").write_text(post("Edited"), encoding="utf-8")
    build(root)
    assert seen == [True] and (root / "site/posts/edited/index.html").is_file() and no_temp_dirs(root)
