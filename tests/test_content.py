"""Posts and pages parsed from their files: slugs, dates, front matter, summaries (RELIABILITY B2, B3)."""
from __future__ import annotations

import os
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from conftest import load, make_site, post
from repost.config import parse_config
from repost.content import load_site, parse_page, parse_post
from repost.errors import ContentError, ErrorList
from repost.slug import safe_join

SEED_TITLE = "12306接入微信支付了,背后更大的故事是什么?"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _config(tmp_path, extra=""):
    return parse_config("timezone: Asia/Shanghai\nbase_url: https://example.com/\n" + extra, tmp_path)


def _post(tmp_path, text, extra=""):
    return parse_post(_config(tmp_path, extra), tmp_path / "p.md", "p.md", text)


def test_seed_title_gives_the_pinyin_slug(tmp_path):
    p = _post(tmp_path, post(SEED_TITLE))
    assert p.slug == "12306-jie-ru-wei-xin-zhi-fu-le-bei-hou-geng-da-de-gu-shi-shi-shen-me"
    assert p.url == f"/posts/{p.slug}/" and p.output == f"posts/{p.slug}/index.html"


def test_unicode_and_ascii_slug_styles(tmp_path):
    assert _post(tmp_path, post("Café 中文"), "slug: unicode\n").slug == "café-中文"
    assert _post(tmp_path, post("Café 中文"), "slug: ascii\n").slug == "cafe"


def test_unicode_slug_url_is_percent_encoded_and_file_is_not(tmp_path):
    p = _post(tmp_path, post("x", slug="中文"))
    assert p.url == "/posts/%E4%B8%AD%E6%96%87/" and p.output == "posts/中文/index.html"


def test_permalink_fields_use_the_site_timezone(tmp_path):
    p = _post(tmp_path, post("x", date="2026-12-31T20:00:00-08:00"), "permalink: /{year}/{month}/{day}/{slug}/\n")
    assert p.url == "/2027/01/01/x/"  # it is already Jan 1st in Shanghai


@pytest.mark.parametrize("slug", ["../x", "..%2f..%2fx", "/etc/cron.d/x", "C:\\x", "x\x00y", ".", "..", "~",
                                  ".git/hooks/x", "con", "a/b", "trailing.", "x?y", "x#y"])
def test_unsafe_slugs_are_rejected_with_the_line(tmp_path, slug):
    with pytest.raises(ContentError) as info:
        _post(tmp_path, f"---\ntitle: t\ndate: 2026-01-01T00:00:00+08:00\nslug: {_yaml_str(slug)}\n---\n")
    assert info.value.path == "p.md" and info.value.line == 4


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_property_any_title_gives_a_path_inside_the_root(tmp_path_factory, title):
    root = tmp_path_factory.getbasetemp() / "prop-root"
    root.mkdir(exist_ok=True)
    text = post("x", date="2026-01-01T00:00:00+08:00").replace("title: x", f"title: {_yaml_str(title)}")
    try:
        p = parse_post(_config(root), root / "p.md", "p.md", text)
    except ContentError:
        return  # e.g. an empty title after cleaning: an error, never an escape
    target = safe_join(root, p.output)
    assert target.is_relative_to(root.resolve()) and target.name == "index.html" and p.output != "index.html"
    assert len(p.slug.encode("utf-8")) <= 120 and p.slug == unicodedata.normalize("NFC", p.slug)


def _yaml_str(text: str) -> str:
    import json

    return json.dumps(text)


@pytest.mark.parametrize("title", ["？？？", "!!!", "•••"])
def test_titles_without_letters_get_a_fallback_slug_and_a_warning(tmp_path, title):
    text = f"---\ntitle: {_yaml_str(title)}\ndate: 2026-01-01T00:00:00+08:00\n---\n"
    p = _post(tmp_path, text)
    assert p.slug.startswith("post-") and any("gives no slug" in w for w in p.warnings)
    assert _post(tmp_path, text).slug == p.slug  # deterministic
    assert p.output != "index.html"


def test_blank_title_is_an_error(tmp_path):
    with pytest.raises(ContentError) as info:
        _post(tmp_path, "---\ntitle: '   '\ndate: 2026-01-01T00:00:00+08:00\n---\n")
    assert "missing 'title'" in info.value.message and info.value.line == 2


def test_long_cjk_title_is_capped_in_utf8_bytes(tmp_path):
    p = _post(tmp_path, post("长" * 150), "slug: unicode\n")
    assert len(p.slug.encode("utf-8")) <= 120 and set(p.slug) == {"长"}
    out = tmp_path / "out" / p.output
    out.parent.mkdir(parents=True)
    out.write_text("ok")  # no ENAMETOOLONG


def test_nfd_and_nfc_titles_give_one_slug(tmp_path):
    nfc, nfd = "Café 가", unicodedata.normalize("NFD", "Café 가")
    assert _post(tmp_path, post(nfc), "slug: unicode\n").slug == _post(tmp_path, post(nfd), "slug: unicode\n").slug
    assert _post(tmp_path, post(nfd), "slug: unicode\n").title == nfc


def test_dates_without_zone_take_the_site_timezone_with_a_warning(tmp_path):
    p = _post(tmp_path, post("x", date="2017-11-22"))
    assert p.date == datetime(2017, 11, 22, tzinfo=SHANGHAI) and p.date.tzinfo is not None
    assert any("no time zone" in w and "p.md:3" in w for w in p.warnings)
    q = _post(tmp_path, post("x", date="2017-11-22 10:30"))
    assert q.date.utcoffset().total_seconds() == 8 * 3600


def test_aware_dates_are_shown_in_the_site_timezone(tmp_path):
    p = _post(tmp_path, post("x", date="2026-01-01T00:00:00Z"))
    assert p.date.isoformat() == "2026-01-01T08:00:00+08:00" and not p.warnings


@pytest.mark.parametrize("text,line,message", [
    ("---\ndate: 2026-01-01T00:00:00+08:00\n---\n", None, "missing 'title'"),
    ("---\ntitle: x\n---\n", None, "missing 'date'"),
    ("---\ntitle: x\ndate: yesterday\n---\n", 3, "not a date"),
    ("---\ntitle: x\ndate: 2026-01-01\ntags: {a: 1}\n---\n", 4, "list"),
    ("---\ntitle: x\ndate: 2026-01-01\ndraft: yes\n---\n", 4, "true or false"),
    ("---\ntitle: [a]\ndate: 2026-01-01\n---\n", 2, "must be text"),
    ("---\ntitle: x\ndate: 2026-01-01\npermission: maybe\n---\n", 4, "permission"),
    ("---\ntitle: x\ndate: 2026-01-01\nsource:\n  url: javascript:alert(1)\n---\n", 5, "absolute http"),
    ("---\ntitle: x\ndate: 2026-01-01\nsource: jianshu\n---\n", 4, "mapping"),
])
def test_bad_front_matter_values_name_the_line(tmp_path, text, line, message):
    with pytest.raises(ContentError) as info:
        _post(tmp_path, text)
    assert message in info.value.message
    if line:
        assert info.value.line == line


def test_yaml_11_values_stay_strings_in_the_model(tmp_path):
    p = _post(tmp_path, "---\ntitle: 0123\ndate: 2026-01-01T00:00:00+08:00\ntags: [no, on, 2017]\n---\n")
    assert p.title == "0123" and p.tags == ("no", "on", "2017")


def test_unknown_keys_warn_but_build(tmp_path):
    p = _post(tmp_path, post("x", colour="blue"))
    assert any("unknown front matter key 'colour'" in w for w in p.warnings)


def test_repost_fields_are_modelled(tmp_path):
    p = _post(tmp_path, post("x", source={"platform": "jianshu", "site_name": "简书", "author": None, "url": None,
                                          "published": "2017-11-21T09:00:00+08:00"},
                             copyright="©著作权归作者所有", permission="pending", imported={"from": "raw/a.txt"}))
    assert p.is_repost and p.source.site_name == "简书" and p.source.author is None
    assert p.source.published.isoformat() == "2017-11-21T09:00:00+08:00"
    assert p.copyright == "©著作权归作者所有" and p.permission == "pending" and p.imported == {"from": "raw/a.txt"}


def test_summary_from_front_matter_then_marker_then_truncation(tmp_path):
    given = _post(tmp_path, post("x", body="Long body.", summary="Short *summary*."))
    assert given.summary_html == "<p>Short <em>summary</em>.</p>\n" and given.description == "Short summary."
    marked = _post(tmp_path, post("x", body="Intro para.\n\n<!--more-->\n\nRest of it."))
    assert "Intro para." in marked.summary_html and "Rest" not in marked.summary_html
    assert "Rest of it." in marked.body_html and "more" not in marked.body_html
    long_cjk = _post(tmp_path, post("x", body="中" * 500), "summary_length: 100\n")
    assert long_cjk.description == "中" * 100 + "…"


def test_pages_get_their_own_permalink(tmp_path):
    cfg = _config(tmp_path)
    page = parse_page(cfg, tmp_path / "about.md", "about.md", "---\ntitle: About\n---\nHi\n")
    assert page.url == "/about/" and page.output == "about/index.html"
    other = parse_page(cfg, tmp_path / "x.md", "x.md", "---\ntitle: X\npermalink: /info/contact/\n---\n")
    assert other.output == "info/contact/index.html"
    with pytest.raises(ContentError):
        parse_page(cfg, tmp_path / "x.md", "x.md", "---\ntitle: X\npermalink: /../etc/\n---\n")


def test_load_site_reports_every_bad_file_at_once(tmp_path):
    root = make_site(tmp_path, {
        "content/posts/a.md": "---\ntitle: a\n---\n",
        "content/posts/b.md": "---\ntitle: [b\n---\n",
        "content/posts/ok.md": post("ok"),
    })
    with pytest.raises(ErrorList) as info:
        load_site(load(root))
    text = info.value.format()
    assert "content/posts/a.md" in text and "content/posts/b.md:2" in text


def test_non_utf8_file_is_a_clear_error(tmp_path):
    root = make_site(tmp_path, {"content/posts/gbk.md": post("中文").encode("gbk")})
    with pytest.raises(ContentError) as info:
        load_site(load(root))
    assert "content/posts/gbk.md" in info.value.format() and "UTF-8" in info.value.message


def test_symlinks_in_content_are_not_followed(tmp_path):
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_text(post("Secret", body="TOP SECRET"), encoding="utf-8")
    root = make_site(tmp_path / "site", {"content/posts/ok.md": post("ok")})
    os.symlink(secret, root / "content/posts/link.md")
    os.symlink(secret.parent, root / "content/posts/linked-dir")
    site = load_site(load(root))
    assert [p.title for p in site.posts] == ["ok"]


def test_editor_and_hidden_files_are_ignored(tmp_path):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok"), "content/posts/.#ok.md": "junk",
                                "content/posts/ok.md~": "junk", "content/posts/_notes.md": "junk"})
    assert [p.title for p in load_site(load(root)).posts] == ["ok"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_property_any_explicit_slug_is_refused_or_stays_inside(tmp_path_factory, slug):
    root = tmp_path_factory.getbasetemp() / "prop-slug"
    root.mkdir(exist_ok=True)
    text = f"---\ntitle: t\ndate: 2026-01-01T00:00:00+08:00\nslug: {_yaml_str(slug)}\n---\n"
    try:
        p = parse_post(_config(root), root / "p.md", "p.md", text)
    except ContentError:
        return
    target = safe_join(root, p.output)
    assert target.is_relative_to(root.resolve()) and target.parent.parent == (root / "posts").resolve()
