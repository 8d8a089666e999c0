"""RELIABILITY B3 (rows 19-25): no path derived from content leaves its folder, through the build.

"Nothing outside": after each build, the only files under tmp_path are the site's own (sources and
output) and the sentinel, which is untouched.
"""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from urllib.parse import quote

import pytest
from lxml import etree, html

from conftest import build, files_outside, load, make_site, post, tree
from repost.cli import main
from repost.errors import ContentError
from repost.write import Writer

SENTINEL = "sentinel: must never be read or overwritten"


def _site(tmp_path: Path, files: dict, config: str | None = None) -> Path:
    (tmp_path / "outside").mkdir(exist_ok=True)
    (tmp_path / "outside" / "secret.txt").write_text(SENTINEL, encoding="utf-8")
    return make_site(tmp_path / "site", files, config=config)


def _cli_build(root: Path, capsys) -> tuple[int, str]:
    code = main(["--config", str(root / "config.yaml"), "build"])
    return code, capsys.readouterr().err


def _nothing_outside(tmp_path: Path, root: Path) -> None:
    assert files_outside(tmp_path, root) == {str((tmp_path / "outside" / "secret.txt").resolve())}
    assert (tmp_path / "outside" / "secret.txt").read_text(encoding="utf-8") == SENTINEL
    out = root / "site"
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve()), path
        assert len(path.name.encode("utf-8")) <= 255, path


# ---- 19: hostile slugs and permalinks ----------------------------------------------------------

@pytest.mark.parametrize("slug", ["../x", "..%2f..%2fx", "/etc/cron.d/x", "C:\\x", "x\x00y", ".", "..", "~",
                                  ".git/hooks/x", "../../outside/secret.txt", "a/../../x", "x\ty", "x\u202ey"])
def test_hostile_post_slugs_are_refused_with_file_and_line(tmp_path, capsys, slug):
    text = f"---\ntitle: T\ndate: 2026-01-02T10:00:00+08:00\nslug: {json.dumps(slug)}\n---\nbody\n"
    root = _site(tmp_path, {"content/posts/evil.md": text, "content/posts/ok.md": post("ok")})
    code, err = _cli_build(root, capsys)
    assert code == 1 and "content/posts/evil.md:4: slug" in err and "Traceback" not in err, err
    assert not (root / "site").exists()
    _nothing_outside(tmp_path, root)


@pytest.mark.parametrize("permalink", ["/../x/", "/a/../../x/", "//etc/x/", "/./x/", "/C:\\x/", "/x\\ty/", "/.git/x/", "x/"])
def test_hostile_page_permalinks_are_refused(tmp_path, capsys, permalink):
    text = f'---\ntitle: P\npermalink: "{permalink}"\n---\nbody\n'
    root = _site(tmp_path, {"content/pages/p.md": text})
    code, err = _cli_build(root, capsys)
    assert code == 1 and "content/pages/p.md:3:" in err, err
    _nothing_outside(tmp_path, root)


@pytest.mark.parametrize("permalink", ["/../../{slug}/", "/posts/./{slug}/", "/a\\b/{slug}/"])
def test_config_permalink_cannot_climb_out(tmp_path, capsys, permalink):
    root = _site(tmp_path, {"content/posts/a.md": post("a")}, config=f"title: T\npermalink: '{permalink}'\n")
    code, err = _cli_build(root, capsys)
    assert code == 1 and "config.yaml:2: permalink may not contain" in err, err
    _nothing_outside(tmp_path, root)


def test_the_writer_refuses_paths_that_leave_the_output(tmp_path):
    writer = Writer(tmp_path / "site")
    for rel in ("../x", "a/../../x", "/etc/x", "a//b", "./x", "a\\..\\x", "x\x00"):
        with pytest.raises(ContentError):
            writer.put(rel, b"data")
    writer.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_hostile_tag_names_become_safe_slugs(tmp_path):
    tags = ["../../outside", "/etc/cron.d/x", "..", ".", "~", "C:\\x", "con", ".git", "a/b", "%2e%2e"]
    root = _site(tmp_path, {"content/posts/a.md": post("a", tags=tags)})
    build(root)
    names = {rel.split("/")[1] for rel in tree(root / "site") if rel.startswith("tags/") and rel != "tags/index.html"}
    assert len(names) == len(tags)
    assert all(n not in (".", "..", "~", "con", ".git") and "\\" not in n and not n.startswith(".") for n in names), names
    _nothing_outside(tmp_path, root)


def test_image_references_are_never_read_or_copied(tmp_path):
    body = "![a](../../../outside/secret.txt) ![b](file:///etc/passwd) ![c](/../../outside/secret.txt)"
    root = _site(tmp_path, {"content/posts/a.md": post("a", body)})
    build(root)
    for rel in tree(root / "site"):
        assert SENTINEL.encode() not in (root / "site" / rel).read_bytes() and b"root:x:0" not in (root / "site" / rel).read_bytes()
    srcs = html.fromstring((root / "site/posts/a/index.html").read_bytes()).xpath('//div[@class="post-body"]//img/@src')
    assert all(not s.startswith("file:") for s in srcs) and len(srcs) <= 3
    _nothing_outside(tmp_path, root)


# ---- 20, 21: empty and long slugs ---------------------------------------------------------------

def test_titles_without_a_slug_get_distinct_deterministic_fallbacks(tmp_path, capsys):
    root = _site(tmp_path, {"content/posts/bullets.md": post("•••"), "content/posts/q.md": post("？？？"),
                            "content/posts/dots.md": post("…"), "content/posts/end.md": post("•END•")})
    code, err = _cli_build(root, capsys)
    assert code == 0, err
    assert err.count("title gives no slug") == 3
    posts = sorted(rel for rel in tree(root / "site") if rel.startswith("posts/"))
    assert "posts/end/index.html" in posts and "index.html" in tree(root / "site")
    fallbacks = [rel for rel in posts if rel != "posts/end/index.html"]
    assert len(fallbacks) == 3 and all(rel.startswith("posts/post-") and rel.endswith("/index.html") for rel in fallbacks)
    first = tree(root / "site")
    (root / "site").rename(root / "old")
    assert _cli_build(root, capsys)[0] == 0 and tree(root / "site") == first


@pytest.mark.parametrize("style", ["pinyin", "unicode", "ascii"])
def test_very_long_cjk_titles_and_tags_fit_the_file_name_limit(tmp_path, capsys, style):
    title = "转载文章的标题非常非常长" * 25  # 300 characters, 900 UTF-8 bytes
    root = _site(tmp_path, {"content/posts/long.md": post(title, tags=[title, "x" * 400])},
                 config=f"title: T\nslug: {style}\n")
    code, err = _cli_build(root, capsys)
    assert code == 0, err
    post_dirs = [rel for rel in tree(root / "site") if rel.startswith("posts/")]
    assert len(post_dirs) == 1
    for part in post_dirs[0].split("/"):
        assert len(part.encode("utf-8")) <= 200
        assert unicodedata.normalize("NFC", part) == part
    _nothing_outside(tmp_path, root)


# ---- 22: NFC -------------------------------------------------------------------------------------

def test_nfd_titles_give_nfc_files_and_the_same_bytes_in_links_and_sitemap(tmp_path):
    nfd = unicodedata.normalize("NFD", "Café 가나")
    assert nfd != unicodedata.normalize("NFC", nfd)
    root = _site(tmp_path, {"content/posts/a.md": post(nfd)}, config="title: T\nbase_url: https://e.example/\nslug: unicode\n")
    build(root)
    slug = unicodedata.normalize("NFC", "café-가나")
    assert f"posts/{slug}/index.html" in tree(root / "site")
    url = "/posts/" + quote(slug) + "/"
    locs = etree.parse(str(root / "site/sitemap.xml")).xpath("//*[local-name()='loc']/text()")
    assert "https://e.example" + url in locs
    assert url in html.fromstring((root / "site/index.html").read_bytes()).xpath("//a/@href")


def test_nfd_and_nfc_copies_of_one_title_collide(tmp_path):
    root = _site(tmp_path, {"content/posts/a.md": post(unicodedata.normalize("NFD", "Café")),
                            "content/posts/b.md": post(unicodedata.normalize("NFC", "Café"))})
    with pytest.raises(ContentError) as info:
        build(root)
    assert "content/posts/a.md" in info.value.format() and "content/posts/b.md" in info.value.format()


# ---- 24: Windows names ---------------------------------------------------------------------------

@pytest.mark.parametrize("title,slug", [("CON", "con-post"), ("nul.", "nul-post"), ("com1 ", "com1-post"),
                                        ("LPT9", "lpt9-post"), ("Tags", "tags-post"), ("Index", "index-post")])
def test_reserved_names_from_titles_are_rewritten_with_a_warning(tmp_path, capsys, title, slug):
    root = _site(tmp_path, {"content/posts/a.md": post(title)})
    code, err = _cli_build(root, capsys)
    assert code == 0 and f"content/posts/a.md:2: slug '{slug[:-5]}' is reserved; using '{slug}'" in err, err
    assert f"posts/{slug}/index.html" in tree(root / "site")


def test_a_title_that_really_ends_in_post_is_not_warned(tmp_path, capsys):
    root = _site(tmp_path, {"content/posts/a.md": post("Tags post")})
    code, err = _cli_build(root, capsys)
    assert code == 0 and "reserved" not in err and "posts/tags-post/index.html" in tree(root / "site")


@pytest.mark.parametrize("slug", ["con", "NUL", "com1", "a.", "a. "])
def test_reserved_or_unportable_explicit_slugs_are_refused(tmp_path, capsys, slug):
    root = _site(tmp_path, {"content/posts/a.md": post("a", slug=slug)})
    code, err = _cli_build(root, capsys)
    assert code == 1 and "content/posts/a.md:4:" in err and "not a portable file name" in err, err


# ---- 25: symlinks --------------------------------------------------------------------------------

def test_symlinks_in_content_and_static_are_not_followed(tmp_path, capsys):
    root = _site(tmp_path, {"content/posts/ok.md": post("ok"), "static/real.txt": "real"})
    outside = tmp_path / "outside"
    (outside / "evil.md").write_text(post("Evil", SENTINEL), encoding="utf-8")
    (root / "content/posts/link.md").symlink_to(outside / "evil.md")
    (root / "content/posts/linkdir").symlink_to(outside)
    (root / "content/pages/passwd.md").symlink_to("/etc/passwd")
    (root / "static/secret.txt").symlink_to(outside / "secret.txt")
    (root / "static/dir").symlink_to(outside)
    code, err = _cli_build(root, capsys)
    assert code == 0, err
    for name in ("content/posts/link.md", "content/posts/linkdir", "content/pages/passwd.md", "static/secret.txt", "static/dir"):
        assert f"{name}: symlink not followed" in err or f"{root / name}: symlink not followed" in err, (name, err)
    out = tree(root / "site")
    assert "real.txt" in out and "secret.txt" not in out and not any(rel.startswith("dir/") for rel in out)
    assert not any("evil" in rel for rel in out)
    for rel in out:
        data = (root / "site" / rel).read_bytes()
        assert SENTINEL.encode() not in data and b"root:x:0" not in data, rel
    assert (outside / "secret.txt").read_text(encoding="utf-8") == SENTINEL
    assert all(p.resolve().is_relative_to((root / "site").resolve()) for p in (root / "site").rglob("*"))


def test_config_rel_names_paths_inside_the_site(tmp_path):
    root = _site(tmp_path, {"content/posts/ok.md": post("ok")})
    assert load(root).rel(root / "content/posts/ok.md") == "content/posts/ok.md"
