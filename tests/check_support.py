"""Helpers shared by the `repost check` tests: a repost's front matter with full attribution, and a
body long enough to be compared as a duplicate."""
from __future__ import annotations

from conftest import post

REPOST = {"platform": "jianshu", "site_name": "简书", "author": "A", "url": "https://www.jianshu.com/p/1"}
LONG = "这是一段足够长的正文，用来比较两篇文章是否相同。" * 3


def repost_post(title="R", body=LONG, **meta):
    meta.setdefault("source", dict(REPOST))
    meta.setdefault("copyright", "©著作权归作者所有")
    meta.setdefault("permission", "granted")
    return post(title, body, **meta)
