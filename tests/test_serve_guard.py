"""Unit tests of what a preview request may reach; the HTTP-level probes are in test_serve_http.py."""
from __future__ import annotations

from repost.serve_guard import split_host, url_segments


def test_split_host():
    assert split_host("Example.org:8000") == "example.org"
    assert split_host("[::1]:80") == "[::1]"
    assert split_host("a:b") is None and split_host("") is None


def test_url_segments_rejects_what_it_must():
    assert url_segments("/posts/hello/") == ["posts", "hello"]
    assert url_segments("/%E4%B8%AD%E6%96%87/") == ["中文"]
    for bad in ("/../x", "/a/%2e%2e/x", "/.env", "/a\\b", "/%c0%ae%c0%ae/", "relative", "/a%00b"):
        assert url_segments(bad) is None, bad
