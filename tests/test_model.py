"""The site model: what is published (drafts, future and pending posts left out), how tags group (RELIABILITY B10 row 62)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import post
from repost.config import parse_config
from repost.content import parse_post
from repost.model import build_model

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _config(tmp_path, extra=""):
    return parse_config("timezone: Asia/Shanghai\nbase_url: https://example.com/\n" + extra, tmp_path)


def _model_posts(tmp_path, specs):
    cfg = _config(tmp_path)
    return cfg, [parse_post(cfg, tmp_path / f"{i}.md", f"{i}.md", text) for i, text in enumerate(specs)]


def test_drafts_and_future_posts_are_skipped_with_a_reason(tmp_path):
    cfg, posts = _model_posts(tmp_path, [
        post("Now", date="2026-01-01T00:00:00+08:00"),
        post("Draft", date="2026-01-01T00:00:00+08:00", draft=True),
        post("Future", date="2026-01-03T00:00:00+08:00"),
    ])
    now = datetime(2026, 1, 2, tzinfo=SHANGHAI)
    site = build_model(cfg, posts, [], now=now)
    assert [p.title for p in site.posts] == ["Now"]
    assert any("draft" in s for s in site.skipped) and any("future" in s for s in site.skipped)
    with_drafts = build_model(cfg, posts, [], drafts=True, now=now)
    assert [p.title for p in with_drafts.posts] == ["Now", "Draft"]  # same date: by slug, descending


def test_future_rule_is_the_same_whatever_the_machine_timezone(tmp_path):
    cfg, posts = _model_posts(tmp_path, [post("Today", date="2026-01-02T07:00:00+08:00")])
    instant = datetime(2026, 1, 1, 23, 30, tzinfo=ZoneInfo("UTC"))  # 07:30 on Jan 2nd in Shanghai
    for tz in ("UTC", "Asia/Shanghai", "America/Los_Angeles"):
        site = build_model(cfg, posts, [], now=instant.astimezone(ZoneInfo(tz)))
        assert [p.title for p in site.posts] == ["Today"]


def test_pending_posts_follow_the_policy(tmp_path):
    cfg = _config(tmp_path, "policy:\n  publish_pending: false\n")
    p = parse_post(cfg, tmp_path / "a.md", "a.md", post("x", permission="pending"))
    assert build_model(cfg, [p], []).posts == ()


def test_tags_merge_case_insensitively_and_sort(tmp_path):
    cfg, posts = _model_posts(tmp_path, [post("A", tags=["Python", "写作"]), post("B", tags=["python"])])
    site = build_model(cfg, posts, [])
    assert [(t.name, t.slug, len(t.posts)) for t in site.tags] == [("Python", "python", 2), ("写作", "xie-zuo", 1)]
    assert site.tag_of["python"] is site.tag_of["Python"]
