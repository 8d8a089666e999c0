"""`repost check`: each check on an inline mini-site, through the real CLI (exit codes, text, JSON)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from check_support import LONG, REPOST, repost_post
from conftest import FIXTURES, REPO, build, load, make_site, post, tree
from repost.check import run_checks
from repost.cli import main
from repost.content import front_matter_errors
from repost.links import crawl, markdown_links, scheme_of, target

def run(root: Path, capsys, *args: str) -> tuple[int, list[str], str]:
    """(exit code, finding lines, stderr) of `repost check` on the site at root."""
    code = main(["--config", str(root / "config.yaml"), "check", *args])
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if not line.startswith("checked ")]
    return code, lines, err


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of `text` that starts with `needle`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(needle))


def findings(root: Path, **kw) -> list[tuple[str, int | None, str, str]]:
    return [(f.path, f.line, f.level, f.message) for f in run_checks(load(root), **kw).findings]


# ---- schema ----------------------------------------------------------------------------------

def test_every_front_matter_error_of_a_file_is_reported_at_once(tmp_path, capsys):
    text = ("---\n"            # 1
            "date: yesterday\n"  # 2
            "tags: {a: 1}\n"     # 3
            "permission: maybe\n"  # 4
            "source: [x]\n"      # 5
            "colour: blue\n"     # 6
            "draft: perhaps\n"   # 7
            "---\nbody\n")
    root = make_site(tmp_path, {"content/posts/bad.md": text, "content/posts/ok.md": post("ok")})
    code, lines, err = run(root, capsys)
    assert code == 1 and err == ""
    bad = [line for line in lines if line.startswith("content/posts/bad.md")]
    assert "content/posts/bad.md:2: error: missing 'title'" in bad
    for where in (":2: error: 'date' is not a date", ":3: error: 'tags' must be a list", ":4: error: 'permission' must be one of",
                  ":5: error: 'source' must be a mapping", ":7: error: 'draft' must be true or false",
                  ":6: warning: unknown front matter key 'colour'"):
        assert any(where in line for line in bad), (where, bad)
    assert not any("ok.md" in line for line in lines)


@pytest.mark.parametrize("front,line,message", [
    ("title: a\ntitle: b\ndate: 2026-01-02", 3, "duplicate key 'title'"),
    ("title: &t a\nslug: *t\ndate: 2026-01-02", 2, "anchors and aliases are not allowed"),
    ("title: !!python/object/apply:os.system ['touch pwned']\ndate: 2026-01-02", 2, "tags are not allowed"),
    ("title: [unclosed\ndate: 2026-01-02", 3, "invalid YAML"),
])
def test_yaml_that_lies_is_an_error_with_its_line(tmp_path, capsys, front, line, message):
    root = make_site(tmp_path, {"content/posts/y.md": f"---\n{front}\n---\nbody\n"})
    code, lines, _ = run(root, capsys)
    assert code == 1
    assert any(line_.startswith(f"content/posts/y.md:{line}: error: ") and message in line_ for line_ in lines), lines
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_front_matter_errors_hook_checks_pages_too(tmp_path):
    cfg = load(make_site(tmp_path))
    errors, warnings = front_matter_errors(cfg, "p.md", "---\ntitle: ''\npermalink: /../x/\nweight: heavy\nfoo: 1\n---\n", page=True)
    messages = [(e.line, e.message) for e in errors]
    assert (2, "missing 'title'") in messages
    assert any(line == 3 and "not a safe URL segment" in m for line, m in messages)
    assert any(line == 4 and "'weight' must be an integer" in m for line, m in messages)
    assert warnings == ["p.md:5: unknown front matter key 'foo' (ignored)"]
    assert front_matter_errors(cfg, "ok.md", post("fine")) == ([], [])


def test_a_body_that_cannot_render_is_reported(tmp_path, capsys, monkeypatch):
    import repost.markup as markup

    def boom(text, timeout=None):
        raise markup.MarkupTimeout("Markdown rendering took longer than 5 s (pathological input?)")

    root = make_site(tmp_path, {"content/posts/slow.md": post("slow", "[[[[")})
    monkeypatch.setattr(markup, "render_parts", boom)
    code, lines, _ = run(root, capsys)
    assert code == 1 and lines == ["content/posts/slow.md:5: error: Markdown rendering took longer than 5 s (pathological input?)"]


def test_non_utf8_and_symlinked_files_are_findings(tmp_path, capsys):
    outside = tmp_path / "outside.md"
    outside.write_text(post("secret"), encoding="utf-8")
    root = make_site(tmp_path / "site", {"content/posts/gbk.md": post("中文").encode("gbk")})
    (root / "content/posts/link.md").symlink_to(outside)
    code, lines, _ = run(root, capsys)
    assert code == 1
    assert any(line.startswith("content/posts/gbk.md: error: not UTF-8") for line in lines), lines
    assert "content/posts/link.md: warning: symlink not followed" in lines


# ---- attribution -----------------------------------------------------------------------------

def test_a_repost_must_name_its_platform_or_site(tmp_path, capsys):
    root = make_site(tmp_path, {
        "content/posts/nameless.md": repost_post("N", source={"author": "A", "url": "https://x.example/1"}),
        "content/posts/imported-only.md": post("I", LONG + "1", imported={"from": "raw/i.txt"}, copyright="©"),
        "content/posts/unknown.md": repost_post("U", LONG + "2", source={"platform": "unknown", "author": "B"}),
        "content/posts/site-only.md": repost_post("S", LONG + "3", source={"site_name": "Blog", "author": "C"}),
    })
    code, lines, _ = run(root, capsys)
    assert code == 1
    errors = sorted(line.split(":")[0] for line in lines if "neither source.platform nor source.site_name" in line)
    assert errors == ["content/posts/imported-only.md", "content/posts/nameless.md", "content/posts/unknown.md"]
    assert all(": error: " in line for line in lines if "source.platform" in line)
    assert "content/posts/nameless.md:4: error:" in "\n".join(lines)  # the line of `source:`


def test_attribution_is_a_warning_when_the_policy_allows(tmp_path, capsys):
    config = "title: T\nbase_url: https://example.com/\npolicy:\n  require_attribution: false\n"
    root = make_site(tmp_path, {"content/posts/n.md": repost_post("N", source={"author": "A"})}, config=config)
    code, lines, _ = run(root, capsys)
    assert code == 0 and any(": warning: repost names neither source.platform" in line for line in lines)


def _example_site(dest: Path) -> Path:
    """A copy of the example site with its raw dumps imported, as `repost build` would."""
    from repost.importer import import_paths

    shutil.copytree(REPO / "content", dest / "content", ignore=shutil.ignore_patterns("12306-*.md"))
    shutil.copy(REPO / "config.yaml", dest / "config.yaml")
    if (REPO / "static").is_dir():
        shutil.copytree(REPO / "static", dest / "static")
    summary = import_paths(load(dest), None)
    assert summary.imported == 1 and not summary.failed
    return dest


def test_the_seed_without_author_or_url_warns_but_does_not_block(tmp_path, capsys):
    root = _example_site(tmp_path)
    code, lines, _ = run(root, capsys)
    assert code == 0
    assert any("neither the original author (source.author) nor the original URL" in line and ": warning: " in line
               and line.startswith("content/posts/12306-") for line in lines), lines
    assert run(root, capsys, "--strict")[0] == 1


def test_a_repost_without_copyright_or_license_warns(tmp_path, capsys):
    root = make_site(tmp_path, {
        "content/posts/bare.md": repost_post("B", copyright=None),
        "content/posts/licensed.md": repost_post("L", LONG + "2", copyright=None, license="CC BY-SA 4.0",
                                                  source={**REPOST, "url": "https://other.example/"}),
        "content/posts/own.md": post("Mine"),
    })
    code, lines, _ = run(root, capsys)
    assert code == 0
    assert [line.split(":")[0] for line in lines if "no copyright notice and no license" in line] == ["content/posts/bare.md"]


# ---- permission ------------------------------------------------------------------------------

def test_pending_posts_are_listed_and_left_out_when_the_policy_says_so(tmp_path, capsys):
    files = {"content/posts/pending.md": repost_post("Pending", permission="pending"),
             "content/posts/granted.md": repost_post("Granted", LONG + "2", source={**REPOST, "url": "https://x.example/2"})}
    published = make_site(tmp_path / "a", files)
    code, lines, _ = run(published, capsys)
    assert code == 0
    assert lines == ["content/posts/pending.md:4: warning: permission pending, published anyway (policy.publish_pending is true)"]

    config = "title: T\nbase_url: https://example.com/\npolicy:\n  publish_pending: false\n"
    held = make_site(tmp_path / "b", files, config=config)
    code, lines, _ = run(held, capsys)
    assert code == 0 and run(held, capsys, "--strict")[0] == 0  # a note, not a warning
    assert lines == ["content/posts/pending.md:4: note: permission pending: left out of the build (policy.publish_pending is false)"]
    build(held)
    assert "posts/pending/index.html" not in tree(held / "site") and "posts/granted/index.html" in tree(held / "site")
    assert "Pending" not in (held / "site/atom.xml").read_text("utf-8")
    assert "/posts/pending/" not in (held / "site/sitemap.xml").read_text("utf-8")


# ---- duplicates ------------------------------------------------------------------------------

def test_two_posts_at_one_url_are_both_named(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("Same", "one"), "content/posts/b.md": post("Same", "two"),
                                "content/posts/c.md": post("other", "three", slug="SAME")})
    code, lines, _ = run(root, capsys)
    assert code == 1
    dup = [line for line in lines if "same URL" in line]
    assert len(dup) == 2 and "content/posts/a.md" in dup[0] and dup[0].startswith("content/posts/b.md")
    assert dup[1].startswith("content/posts/c.md:4: error: same URL /posts/SAME/ as content/posts/a.md, content/posts/b.md")


@pytest.mark.parametrize("slug,permalink", [("tags", "/{slug}/"), ("archive", "/{slug}/")])
def test_a_slug_that_takes_a_generated_page_is_a_duplicate(tmp_path, capsys, slug, permalink):
    root = make_site(tmp_path, {"content/posts/p.md": post("P", slug=slug)},
                     config=f"title: T\nbase_url: https://example.com/\npermalink: '{permalink}'\n")
    code, lines, _ = run(root, capsys)
    assert code == 1 and any("URL collision" in line and "content/posts/p.md" in line for line in lines), lines


def test_same_original_url_after_normalising_is_a_duplicate(tmp_path, capsys):
    root = make_site(tmp_path, {
        "content/posts/a.md": repost_post("A", "first body " * 10, source={**REPOST, "url": "https://www.jianshu.com/p/abc"}),
        "content/posts/b.md": repost_post("B", "second body " * 10,
                                          source={**REPOST, "url": "http://jianshu.com/p/abc/?utm_source=wx&from=timeline#top"}),
        "content/posts/c.md": repost_post("C", "third body " * 10, source={**REPOST, "url": "https://www.jianshu.com/p/abd"}),
    })
    code, lines, _ = run(root, capsys)
    assert code == 1
    assert [line for line in lines if "same original article" in line] == [
        "content/posts/b.md:8: error: same original article (source.url) as content/posts/a.md"]


def test_same_text_under_another_title_is_a_duplicate(tmp_path, capsys):
    root = make_site(tmp_path, {
        "content/posts/a.md": repost_post("A", LONG),
        "content/posts/b.md": repost_post("B", "**" + LONG.replace("，", ", ") + "**\n\n", source={**REPOST, "url": "https://x.example/b"}),
        "content/posts/short1.md": post("S1", "TBD"), "content/posts/short2.md": post("S2", "TBD"),
    })
    code, lines, _ = run(root, capsys)
    assert code == 1
    assert [line for line in lines if "same text" in line] == [
        f"content/posts/b.md:{line_of((root / 'content/posts/b.md').read_text('utf-8'), '**')}: error: same text as content/posts/a.md"]


# ---- links -----------------------------------------------------------------------------------

def test_internal_links_and_images_that_point_nowhere(tmp_path, capsys):
    body = ("[ok](/posts/b/) [rel](../b/) [tag](/tags/t/) [feed](/atom.xml) [frag](#x) [ext](https://e.example/)\n"
            "![img](/images/ok.png)\n"
            "[gone](/posts/missing/)\n"
            "![noimg](/images/missing.png)\n"
            "[relative](missing.html)\n")
    root = make_site(tmp_path, {"content/posts/a.md": post("a", body, tags=["t"]), "content/posts/b.md": post("b"),
                                "static/images/ok.png": b"\x89PNG"})
    code, lines, _ = run(root, capsys)
    assert code == 1
    text = (root / "content/posts/a.md").read_text("utf-8")
    assert lines == [
        f"content/posts/a.md:{line_of(text, '[gone]')}: error: link to /posts/missing/ points nowhere in the built site",
        f"content/posts/a.md:{line_of(text, '![noimg]')}: error: link to /images/missing.png points nowhere in the built site",
        f"content/posts/a.md:{line_of(text, '[relative]')}: error: link to missing.html points nowhere in the built site",
    ]


def test_links_to_drafts_are_broken_unless_drafts_are_checked(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a", "[d](/posts/d/)"), "content/posts/d.md": post("d", draft=True)})
    assert run(root, capsys)[0] == 1
    assert run(root, capsys, "--drafts")[0] == 0


def test_root_links_outside_the_base_path_are_broken(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a", "[b](/posts/b/) [b2](../b/)"), "content/posts/b.md": post("b")},
                     config="title: T\nbase_url: https://example.com/blog/\n")
    code, lines, _ = run(root, capsys)
    assert code == 1
    assert lines == ["content/posts/a.md:5: error: link to /posts/b/ points nowhere in the built site "
                     "(outside the site's base path /blog/)"]


@pytest.mark.parametrize("markdown,level,scheme", [
    ("[x](javascript:alert(1))", "error", "javascript"),
    ("[x](JaVaScRiPt:alert(1))", "error", "javascript"),
    ("[x](javascript&#58;alert(1))", "error", "javascript"),
    ("[x](\n javascript:alert(1))", "error", "javascript"),
    ("![x](data:text/html;base64,PHNjcmlwdD4=)", "error", "data"),
    ("[x](vbscript:msgbox(1))", "error", "vbscript"),
    ('<a href=" JAVASCRIPT:alert(1)">x</a>', "error", "javascript"),
    ('<p>\n<img src="file:///etc/passwd">\n</p>', "error", "file"),
    ("<ftp://files.example/x>", "warning", "ftp"),
    ("[call](tel:+123)", "warning", "tel"),
])
def test_disallowed_schemes_in_the_markdown(tmp_path, capsys, markdown, level, scheme):
    root = make_site(tmp_path, {"content/posts/a.md": post("a", "intro\n\n" + markdown)})
    code, lines, _ = run(root, capsys)
    assert code == (1 if level == "error" else 0)
    assert len(lines) == 1 and lines[0].startswith("content/posts/a.md:") and f": {level}: " in lines[0]
    assert f"disallowed scheme '{scheme}:'" in lines[0]
    line = int(lines[0].split(":")[1])
    assert 7 <= line <= 8  # the body starts on line 5; the link is on the third or fourth body line


def test_java_tab_script_is_not_a_link_and_safe_links_are_not_findings(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a", "[x](java\tscript:alert(1)) [m](mailto:a@b.c) "
                                                                "[h](https://x.example/) note: fine\n")})
    assert run(root, capsys) == (0, [], "")


def test_link_helpers():
    assert [(l.line, l.url, l.kind) for l in markdown_links("a\n[x](y)\n\n<a href='z'>q</a>\n\n![i](j)")] == [
        (1, "y", "link"), (3, "z", "html"), (5, "j", "image")]
    assert scheme_of("\x01 java\tscript:x") == "javascript" and scheme_of("/a:b") is None and scheme_of("a/b:c") is None
    assert target("../x/", "/posts/a/") == "posts/x/" and target("https://e.example/") is None
    assert target("/x/", "/posts/a/", "/blog/") == "" and target("#f", "/") is None and target("/", "/a/") == "/"


# ---- provenance ------------------------------------------------------------------------------

def test_provenance_raw_dump_exists_and_matches(tmp_path, capsys):
    raw = "原文 raw dump".encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    imported = lambda origin, sha=digest: {"from": origin, "sha256": sha, "at": "2026-01-01T00:00:00+00:00"}
    root = make_site(tmp_path / "site", {
        "content/raw/a.txt": raw,
        "content/posts/good.md": repost_post("G", LONG + "1", imported=imported("raw/a.txt"), source={**REPOST, "url": "https://x.example/1"}),
        "content/posts/changed.md": repost_post("C", LONG + "2", imported=imported("raw/a.txt", "0" * 64), source={**REPOST, "url": "https://x.example/2"}),
        "content/posts/missing.md": repost_post("M", LONG + "3", imported=imported("raw/gone.txt"), source={**REPOST, "url": "https://x.example/3"}),
        "content/posts/escape.md": repost_post("E", LONG + "4", imported=imported("../../../etc/passwd"), source={**REPOST, "url": "https://x.example/4"}),
        "content/posts/nofrom.md": repost_post("N", LONG + "5", imported={"sha256": digest}, source={**REPOST, "url": "https://x.example/5"}),
    })
    code, lines, _ = run(root, capsys)
    assert code == 1
    prov = {line.split(":")[0]: line for line in lines}
    assert "content/posts/good.md" not in prov
    changed = (root / "content/posts/changed.md").read_text("utf-8")
    assert f":{line_of(changed, '  sha256:')}: error: raw dump raw/a.txt no longer matches imported.sha256" in prov["content/posts/changed.md"]
    assert ": warning: raw dump raw/gone.txt (imported.from) is missing" in prov["content/posts/missing.md"]
    assert ": error: imported.from '../../../etc/passwd' leaves the site folder" in prov["content/posts/escape.md"]
    assert ": error: imported.from does not name the raw dump" in prov["content/posts/nofrom.md"]


def test_provenance_does_not_follow_a_symlinked_raw_dump(tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"x")
    root = make_site(tmp_path / "site", {"content/posts/a.md": repost_post(
        "A", imported={"from": "raw/a.txt", "sha256": hashlib.sha256(b"x").hexdigest()})})
    (root / "content/raw").mkdir()
    (root / "content/raw/a.txt").symlink_to(outside)
    code, lines, _ = run(root, capsys)
    assert any("leaves the site folder" in line or "is missing" in line for line in lines), lines


# ---- output ----------------------------------------------------------------------------------

def test_json_output_is_a_list_of_findings(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a", "[x](/nowhere/)", colour="red")})
    code = main(["--config", str(root / "config.yaml"), "check", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data == [
        {"path": "content/posts/a.md", "line": 4, "level": "warning", "message": "unknown front matter key 'colour' (ignored)", "check": "schema"},
        {"path": "content/posts/a.md", "line": 6, "level": "error", "message": "link to /nowhere/ points nowhere in the built site", "check": "links"},
    ]


def test_clean_site_exits_0_strict_turns_warnings_into_errors_quiet_prints_errors_only(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a"), "content/pages/about.md": "---\ntitle: About\n---\nHi\n"})
    code = main(["--config", str(root / "config.yaml"), "check"])
    out = capsys.readouterr().out
    assert code == 0 and out == "checked 1 posts and 1 pages: 0 error(s), 0 warning(s)\n"
    (root / "content/posts/b.md").write_text(post("b", date="2026-01-03 10:00"), encoding="utf-8")
    assert run(root, capsys)[0] == 0
    code, lines, _ = run(root, capsys, "--strict")
    assert code == 1 and lines == ["content/posts/b.md:3: warning: 'date' has no time zone; using Asia/Shanghai"]
    assert main(["--config", str(root / "config.yaml"), "-q", "check"]) == 0 and capsys.readouterr().out == ""


def test_drafts_are_only_checked_with_drafts(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/d.md": post("d", "[x](/nowhere/)", draft=True)})
    assert run(root, capsys)[0] == 0
    assert run(root, capsys, "--drafts")[0] == 1


def test_the_example_site_passes_with_only_the_seed_warnings(tmp_path, capsys):
    code, lines, _ = run(_example_site(tmp_path), capsys)
    assert code == 0
    assert all(": warning: " in line for line in lines) and all(line.startswith("content/posts/12306-") for line in lines)


def test_crawl_finds_broken_links_in_a_built_tree(tmp_path):
    root = shutil.copytree(FIXTURES / "site", tmp_path / "site")
    build(root)
    out = root / "site"
    assert crawl(out, "/blog/") == []
    page = out / "posts" / "hostile-title" / "index.html"
    page.write_text(page.read_text("utf-8").replace("</main>", '<a href="/blog/nope/">x</a></main>'), encoding="utf-8")
    assert crawl(out, "/blog/") == [("posts/hostile-title/index.html", "/blog/nope/")]


# ---- caches: the findings never depend on them ---------------------------------------------------

CHECK_SITE = FIXTURES / "check"


def _check_json(root: Path, capsys, *args: str, config: str = "config.yaml") -> tuple[int, list[dict]]:
    code = main(["--config", str(root / config), "check", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def _uncached(root: Path, config: str = "config.yaml", **kw) -> list[dict]:
    """The findings of a run that neither reads nor writes any cache."""
    from dataclasses import asdict
    from repost.config import load_config

    return [asdict(f) for f in run_checks(load_config(root / config), cache=False, **kw).findings]


def _fixture(tmp_path: Path, *, age: float = 60) -> Path:
    """A copy of the check fixture whose files are `age` seconds old (stat signatures older than
    two seconds are trusted, as the build trusts them)."""
    root = shutil.copytree(CHECK_SITE, tmp_path / "site")
    if age:
        when = time.time() - age
        for path in root.rglob("*"):
            os.utime(path, (when, when))
    return root


@pytest.fixture
def work(monkeypatch):
    """Which files `check` parses and which texts it tokenises."""
    import repost.content as content
    import repost.links as links

    seen = {"parsed": [], "tokenised": 0}
    real = {"parse_post": content.parse_post, "parse_page": content.parse_page, "_links": links._links}

    def parser(name):
        def parse(config, path, rel, text):
            seen["parsed"].append(rel)
            return real[name](config, path, rel, text)
        return parse

    def tokenise(md, text):
        seen["tokenised"] += 1
        return real["_links"](md, text)

    monkeypatch.setattr(content, "parse_post", parser("parse_post"))
    monkeypatch.setattr(content, "parse_page", parser("parse_page"))
    monkeypatch.setattr(links, "_links", tokenise)
    return seen


def _facts_rows(root: Path) -> int:
    con = sqlite3.connect(root / ".repost-cache" / "check.sqlite")
    try:
        return con.execute("SELECT count(*) FROM facts").fetchone()[0]
    finally:
        con.close()


def test_findings_are_identical_without_a_cache_cold_warm_and_after_an_edit(tmp_path, capsys, work):
    root = _fixture(tmp_path)
    expected, with_drafts = _uncached(root), _uncached(root, drafts=True)
    assert not (root / ".repost-cache").exists()  # cache=False writes nothing
    kinds = {(f["check"], f["level"]) for f in expected}
    assert {("links", "error"), ("links", "warning"), ("duplicate", "error"), ("permission", "warning"),
            ("provenance", "warning"), ("schema", "warning"), ("attribution", "warning")} <= kinds
    work["parsed"].clear()

    assert _check_json(root, capsys) == (1, expected)  # cold: no build cache, every file parsed
    assert len(work["parsed"]) == 6 and _facts_rows(root) == 6
    build(root)
    work["parsed"].clear()
    work["tokenised"] = 0
    assert _check_json(root, capsys) == (1, expected)  # warm: nothing parsed, nothing tokenised
    assert _check_json(root, capsys, "--drafts") == (1, with_drafts)
    assert work["parsed"] == [] and work["tokenised"] == 0

    post = root / "content/posts/links.md"
    post.write_text(post.read_text("utf-8").replace("(/posts/missing/)", "(/posts/gone/)")
                    + "\nA [newsgroup](news:comp.lang.python).\n", encoding="utf-8")
    (root / "content/posts/broken.md").write_text("---\ntitle: Broken\ndate: someday\n---\nx\n", encoding="utf-8")
    edited = _uncached(root)
    added = [f for f in edited if f not in expected]
    removed = [f for f in expected if f not in edited]
    assert [(f["path"], f["message"]) for f in removed] == [
        ("content/posts/links.md", "link to /posts/missing/ points nowhere in the built site")]
    assert sorted((f["path"], f["level"], f["message"][:24]) for f in added if f["path"].endswith("broken.md")) == [
        ("content/posts/broken.md", "error", "'date' is not a date: 's")]
    assert sorted((f["path"], f["level"], f["message"]) for f in added if f["path"].endswith("links.md")) == [
        ("content/posts/links.md", "error", "link to /posts/gone/ points nowhere in the built site"),
        ("content/posts/links.md", "warning",
         "link with disallowed scheme 'news:' (news:comp.lang.python); the sanitiser drops it")]
    work["parsed"].clear()
    assert _check_json(root, capsys) == (1, edited)
    assert sorted(work["parsed"]) == ["content/posts/broken.md", "content/posts/links.md"]
    assert _facts_rows(root) == 6  # the edited file's old facts are gone; a file that fails has none


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted-stat", "fresh-stat"])
@pytest.mark.parametrize("target,old,new,finding", [
    ("content/posts/naive.md", "(https://example.com/)", "(hxxps://example.com/)",
     "link with disallowed scheme 'hxxps:'"),
    ("content/raw/original.txt", "raw dump", "RAW DUMP", "raw dump raw/original.txt no longer matches imported.sha256"),
])
def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path, capsys, monkeypatch, work, trusted, target, old,
                                                         new, finding):
    """Stat signatures are trusted as the build trusts them: size, mtime, ctime and inode, and
    only once the file is two seconds old (`cache.RACY_NS`; 0 here trusts every file at once)."""
    import repost.cache

    if trusted:
        monkeypatch.setattr(repost.cache, "RACY_NS", 0)
    root = _fixture(tmp_path)
    build(root)
    expected = _uncached(root)
    assert _check_json(root, capsys)[1] == expected
    work["parsed"].clear()
    assert _check_json(root, capsys)[1] == expected
    if trusted:
        assert work["parsed"] == []  # every file known by its stat alone
    path = root / target
    st = path.stat()
    text = path.read_text("utf-8")
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only ctime tells
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    code, found = _check_json(root, capsys)
    assert found == _uncached(root)
    assert any(f["path"] in (target, "content/posts/same-words.md") and f["message"].startswith(finding) for f in found), found


def test_a_build_cache_of_another_config_is_used_for_nothing_and_left_as_it_was(tmp_path, capsys, work):
    root = _fixture(tmp_path)
    build(root)
    db = root / ".repost-cache" / "build.sqlite"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    (root / "other.yaml").write_text((root / "config.yaml").read_text("utf-8").replace(
        "title: Check fixture", "title: Another title"), encoding="utf-8")
    other, first = _uncached(root, "other.yaml"), _uncached(root)
    work["parsed"].clear()
    assert _check_json(root, capsys, config="other.yaml") == (1, other)
    assert len(work["parsed"]) == 6  # a foreign salt: parsed, not read from the cache
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    work["parsed"].clear()
    assert _check_json(root, capsys) == (1, first)
    assert work["parsed"] == []  # the build's own cache still serves the first config


def test_a_damaged_check_cache_is_made_over(tmp_path, capsys):
    root = _fixture(tmp_path)
    expected = _uncached(root)
    (root / ".repost-cache").mkdir()
    (root / ".repost-cache" / "check.sqlite").write_bytes(b"not a database" * 100)
    assert _check_json(root, capsys) == (1, expected)
    assert _facts_rows(root) == 6
    assert _check_json(root, capsys) == (1, expected)


def test_a_forked_parse_pool_gives_the_same_findings(tmp_path, capsys, monkeypatch):
    """Big sites parse in the build's forked pool (and derive facts there, reading cached HTML)."""
    import repost.parallel as parallel

    root = _fixture(tmp_path)
    (root / "content/posts/broken.md").write_text("---\ntitle: [x\ndate: 2026-01-02\n---\nx\n", encoding="utf-8")
    (root / "content/posts/gbk.md").write_bytes(post("中文").encode("gbk"))
    expected = _uncached(root)
    assert any(f["path"] == "content/posts/gbk.md" and "not UTF-8" in f["message"] for f in expected)
    monkeypatch.setattr(parallel, "MIN_PARSE", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    pools, run = [], parallel.run
    monkeypatch.setattr(parallel, "run", lambda job, items, *, parallel, **options: pools.append((len(items), parallel)) or run(
        job, items, parallel=parallel, **options))
    assert _check_json(root, capsys) == (1, expected)  # parsed in workers
    assert pools == [(8, True)]
    for name in ("broken.md", "gbk.md"):
        (root / "content/posts" / name).rename(tmp_path / name)
    build(root)
    for name in ("broken.md", "gbk.md"):
        (tmp_path / name).rename(root / "content/posts" / name)
    (root / ".repost-cache" / "check.sqlite").unlink()
    pools.clear()  # (the build's own pools)
    assert _check_json(root, capsys) == (1, expected)  # cached records, facts derived in workers
    assert _check_json(root, capsys) == (1, expected)
    assert pools == [(8, True), (2, True)]  # then only the two files that fail to parse have no facts
