"""RELIABILITY B2 (rows 12-18) through the whole pipeline: hostile front matter in a post, built
by the real command line, and every output file parsed (HTML with lxml, XML strictly, JSON-LD)."""
from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from conftest import make_site, post, tree
from repost.cli import main

BASE_TREE = {"index.html", "404.html", "robots.txt", "sitemap.xml", "atom.xml", "rss.xml", "favicon.svg",
             "assets/style.css", "archive/index.html", "tags/index.html"}


def cli_build(root: Path, capsys) -> tuple[int, str, str]:
    code = main(["--config", str(root / "config.yaml"), "build"])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(root: Path, capsys, where: str, words: str) -> None:
    """Exit 1, one line naming file:line, no traceback, and no site written."""
    code, _, err = cli_build(root, capsys)
    assert code == 1
    assert where in err and words in err and "Traceback" not in err, err
    assert not (root / "site").exists()


# ---- 12, 13, 14: code, alias bombs and duplicate keys --------------------------------------------

def test_python_object_tag_runs_nothing(tmp_path, capsys):
    sentinel = tmp_path / "pwned"
    evil = f"---\ntitle: x\ndate: 2026-01-02T10:00:00+08:00\nslug: !!python/object/apply:os.system ['touch {sentinel}']\n---\nbody\n"
    root = make_site(tmp_path / "site", {"content/posts/evil.md": evil, "content/posts/ok.md": post("ok")})
    assert_refused(root, capsys, "content/posts/evil.md:4:", "YAML tags are not allowed")
    assert not sentinel.exists()


@pytest.mark.timeout(10)
def test_billion_laughs_in_a_post_is_refused_before_expansion(tmp_path, capsys):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{'abcdefghi'[i]}"] * 9) + "]")
    bomb = "---\ntitle: x\ndate: 2026-01-02T10:00:00+08:00\n" + "\n".join(lines) + "\n---\n"
    root = make_site(tmp_path, {"content/posts/bomb.md": bomb})
    assert_refused(root, capsys, "content/posts/bomb.md:4:", "anchors and aliases are not allowed")


def test_duplicate_keys_are_never_last_wins(tmp_path, capsys):
    text = "---\ntitle: first\ndate: 2026-01-02T10:00:00+08:00\ntitle: second\n---\nbody\n"
    root = make_site(tmp_path, {"content/posts/dup.md": text})
    assert_refused(root, capsys, "content/posts/dup.md:4:", "duplicate key 'title'")


def test_a_huge_flat_front_matter_is_capped(tmp_path, capsys):
    text = "---\ntitle: x\ndate: 2026-01-02T10:00:00+08:00\ntags: [" + ",".join(["t"] * 120000) + "]\n---\n"
    root = make_site(tmp_path, {"content/posts/big.md": text})
    assert_refused(root, capsys, "content/posts/big.md:", "YAML document too large")


# ---- 15: YAML 1.1 surprises --------------------------------------------------------------------

def test_yaml_11_values_stay_strings_and_naive_dates_get_the_site_zone(tmp_path, capsys):
    text = "---\ntitle: Norway\ndate: 2017-11-22\ntags: [no, on, 0123]\nid: 0123\n---\nbody\n"
    root = make_site(tmp_path, {"content/posts/no.md": text})
    code, _, err = cli_build(root, capsys)
    assert code == 0, err
    assert "content/posts/no.md:3: 'date' has no time zone; using Asia/Shanghai" in err
    assert "content/posts/no.md:5: unknown front matter key 'id'" in err
    assert tree(root / "site") == BASE_TREE | {"archive/2017/index.html", "posts/norway/index.html",
                                                "tags/no/index.html", "tags/on/index.html", "tags/0123/index.html"}
    feed = feedparser.parse((root / "site/atom.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries[0].published == "2017-11-22T00:00:00+08:00"
    assert sorted(t.term for t in feed.entries[0].tags) == ["0123", "no", "on"]


# ---- 16: fences --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "\ufeff---\ntitle: Fenced\ndate: 2026-01-02T10:00:00+08:00\n---\nThe body.\n",
    "---   \ntitle: Fenced\ndate: 2026-01-02T10:00:00+08:00\n---\t\nThe body.\n",
    "---\r\ntitle: Fenced\r\ndate: 2026-01-02T10:00:00+08:00\r\n---\r\nThe body.\r\n",
])
def test_front_matter_variants_parse_and_never_leak_into_the_body(tmp_path, capsys, text):
    root = make_site(tmp_path, {"content/posts/f.md": text.encode("utf-8")})
    code, _, err = cli_build(root, capsys)
    assert code == 0, err
    doc = html.fromstring((root / "site/posts/fenced/index.html").read_bytes())
    assert doc.xpath("//h1")[0].text_content() == "Fenced"
    body = doc.xpath('//div[@class="post-body"]')[0].text_content()
    assert body.strip() == "The body." and "title:" not in body


@pytest.mark.parametrize("text,where,words", [
    ("---\ntitle: Open\ndate: 2026-01-02T10:00:00+08:00\nThe body.\n", "p.md:1:", "never closed"),
    ("---\n- a\n- b\n---\nbody\n", "p.md:2:", "must be a mapping"),
    ("---\njust a string\n---\nbody\n", "p.md:2:", "must be a mapping"),
])
def test_broken_fences_fail_with_a_specific_message(tmp_path, capsys, text, where, words):
    root = make_site(tmp_path, {"content/posts/p.md": text})
    assert_refused(root, capsys, f"content/posts/{where}", words)


# ---- 17, 18: template syntax and hostile metadata in every output ------------------------------

HOSTILE = '"><script>alert(1)</script></script><!-- & {{ 7*7 }} {% include \'/etc/passwd\' %} {{ \'\'.__class__ }}'


def _hostile_site(tmp_path: Path) -> Path:
    meta = dict(
        description=f'desc "{HOSTILE}" & more',
        tags=[HOSTILE, "{{ 7*7 }}"],
        source={"platform": "jianshu", "site_name": HOSTILE, "author": HOSTILE, "url": "https://e.example/p?a=1&b=<2>",
                "title": HOSTILE},
        copyright=HOSTILE, license=HOSTILE, permission="granted",
    )
    return make_site(tmp_path, {"content/posts/h.md": post(HOSTILE, f"Body {{{{ 7*7 }}}} and {HOSTILE}", slug="h", **meta)})


def test_template_syntax_in_content_stays_literal_and_metadata_is_escaped_everywhere(tmp_path, capsys):
    root = _hostile_site(tmp_path)
    code, _, err = cli_build(root, capsys)
    assert code == 0, err
    out = root / "site"
    for rel in sorted(tree(out)):
        data = (out / rel).read_bytes()
        if rel.endswith(".xml"):
            etree.fromstring(data)  # strict XML: raises if anything is unescaped
        if rel.endswith(".html"):
            doc = html.fromstring(data)
            scripts = doc.xpath("//script")
            assert all(s.get("type") == "application/ld+json" for s in scripts), rel
            for s in scripts:
                json.loads(s.text)
            assert not doc.xpath("//*[@*[starts-with(name(), 'on')]]"), rel
        assert b"49" not in data.replace(b"2049", b""), rel  # {{ 7*7 }} never evaluated
        assert b"<class" not in data and b"root:x:0" not in data, rel
    page = html.fromstring((out / "posts/h/index.html").read_bytes())
    assert page.xpath("//h1")[0].text_content() == HOSTILE
    assert page.xpath("//title")[0].text_content().startswith(HOSTILE)
    assert page.xpath('//meta[@name="description"]/@content') == [f'desc "{HOSTILE}" & more']
    assert page.xpath('//meta[@property="og:title"]/@content') == [HOSTILE]
    ld = json.loads(page.xpath('//script[@type="application/ld+json"]')[0].text)
    assert ld["headline"] == HOSTILE and ld["isBasedOn"]["author"]["name"] == HOSTILE
    assert ld["copyrightNotice"] == HOSTILE and ld["license"] == HOSTILE
    assert HOSTILE in page.text_content() and "{{ 7*7 }}" in page.text_content()
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert feed.bozo == 0, name
        assert feed.entries[0].title == HOSTILE
    sitemap = etree.parse(str(out / "sitemap.xml"))
    assert all(loc.startswith("https://example.com/") for loc in sitemap.xpath("//*[local-name()='loc']/text()"))
