"""The build cache (`.repost-cache/`): what it skips, what invalidates it, and that losing or
damaging it, or the output, only costs time. Plus the writer's in-place commit and its undo."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from conftest import build, in_workers, load, make_site, post, tree_hashes
from repost import cache, parallel, records, render, swap, write
from repost.cli import main
from repost.errors import ContentError


def _site(tmp_path: Path, n: int = 4, **files) -> Path:
    posts = {f"content/posts/p{i}.md": post(f"Post {i}", f"Body {i}.", date=f"2026-01-0{i + 1}T10:00:00+08:00", tags=["t"])
             for i in range(n)}
    return make_site(tmp_path / "root", {**posts, **files})


def test_an_unchanged_rebuild_parses_and_renders_nothing_and_reports_nothing(tmp_path, parses):
    root = _site(tmp_path)
    first = build(root)
    assert sorted(parses) == [f"content/posts/p{i}.md" for i in range(4)] and first.rendered == first.pages
    parses.clear()
    again = build(root)
    assert parses == [] and again.rendered == 0
    assert again.changed == [] and again.removed == [] and again.pages == first.pages  # the server's contract


def test_only_the_edited_file_is_parsed_again(tmp_path, parses):
    root = _site(tmp_path)
    build(root)
    parses.clear()
    (root / "content/posts/p2.md").write_text(post("Post 2", "New body.", date="2026-01-03T10:00:00+08:00", tags=["t"]))
    result = build(root)
    assert parses == ["content/posts/p2.md"]
    assert "posts/post-2/index.html" in result.changed  # and the lists that show its summary
    assert not {"posts/post-1/index.html", "posts/post-3/index.html", "tags/index.html"} & set(result.changed)


def test_records_come_back_without_their_html_until_a_page_reads_it(tmp_path):
    root = _site(tmp_path)
    build(root)
    from conftest import load

    config = load(root)
    store = cache.BuildCache(config, root / "site")
    try:
        digest = store.source_digests()["content/posts/p1.md"][1]
        record = store.load_records({digest: root / "content/posts/p1.md"})[digest]
        assert isinstance(record, records.CachedPost) and "body_html" not in record.__dict__
        assert record.body_html == "<p>Body 1.</p>\n" and record.title == "Post 1"
        assert record.path == root / "content/posts/p1.md" and record.rel == "content/posts/p1.md"
    finally:
        store.close()


@pytest.mark.parametrize("change", ["config", "code"])
def test_a_new_salt_drops_everything(tmp_path, parses, monkeypatch, change):
    root = _site(tmp_path)
    build(root)
    parses.clear()
    if change == "config":
        text = (root / "config.yaml").read_text()
        (root / "config.yaml").write_text(text.replace("title: Test Site", "title: Other"))
    else:
        monkeypatch.setattr(cache, "__version__", "999")
    result = build(root)
    assert len(parses) == 4 and result.rendered == result.pages


def test_clean_flag_starts_the_cache_over(tmp_path, parses, capsys):
    root = _site(tmp_path)
    build(root)
    parses.clear()
    assert main(["--config", str(root / "config.yaml"), "build", "--clean"]) == 0
    assert len(parses) == 4
    assert "0 changed" in capsys.readouterr().out  # same bytes: nothing written
    parses.clear()
    assert build(root).rendered == 0 and parses == []  # and the cache is warm again


def test_a_damaged_cache_is_rebuilt(tmp_path):
    root = _site(tmp_path)
    build(root)
    before = tree_hashes(root / "site")
    db = root / ".repost-cache/build.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    assert build(root).rendered > 0
    assert tree_hashes(root / "site") == before


def test_losing_the_cache_folder_only_costs_time(tmp_path):
    import shutil

    root = _site(tmp_path)
    build(root)
    before = tree_hashes(root / "site")
    shutil.rmtree(root / ".repost-cache")
    assert build(root).changed == []
    assert tree_hashes(root / "site") == before


@pytest.mark.parametrize("damage", ["delete-file", "edit-file", "delete-output"])
def test_output_changed_by_hand_is_repaired(tmp_path, damage):
    import shutil

    root = _site(tmp_path)
    build(root)
    before = tree_hashes(root / "site")
    page = root / "site/posts/post-1/index.html"
    if damage == "delete-file":
        page.unlink()
    elif damage == "edit-file":
        page.write_text("defaced")
    else:
        shutil.rmtree(root / "site")
    result = build(root)
    assert tree_hashes(root / "site") == before
    assert "posts/post-1/index.html" in result.changed


def test_two_output_folders_keep_separate_records(tmp_path):
    root = _site(tmp_path)
    build(root)
    other = tmp_path / "preview"
    build(root, output=other, drafts=True)
    assert tree_hashes(other) == tree_hashes(root / "site")
    assert build(root).rendered == 0 and build(root, output=other, drafts=True).rendered == 0


def test_a_custom_template_reading_every_post_is_tracked(tmp_path):
    sidebar = ('{% extends "base.html" %}{% block content %}{{ super() }}'
               '<aside>{% for p in site.posts %}<i>{{ p.title }}</i>{% endfor %}</aside>{% endblock %}')
    root = _site(tmp_path, **{"layouts/page.html": sidebar, "content/pages/about.md": "---\ntitle: About\n---\nHi.\n"})
    build(root)
    (root / "content/posts/p0.md").write_text(post("Renamed zero", "Body 0.", date="2026-01-01T10:00:00+08:00", tags=["t"]))
    result = build(root)
    assert "about/index.html" in result.changed
    assert "<i>Renamed zero</i>" in (root / "site/about/index.html").read_text(encoding="utf-8")


def test_a_stylesheet_edit_rerenders_the_pages_that_link_it(tmp_path):
    root = _site(tmp_path, **{"static/assets/style.css": "body { color: red; }\n"})
    build(root)
    (root / "static/assets/style.css").write_text("body { color: blue; }\n")
    result = build(root)
    assert "assets/style.css" in result.changed and "index.html" in result.changed
    assert "robots.txt" not in result.changed


def test_a_future_post_makes_the_shortcut_stop_when_it_is_due(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "RACY_NS", 0)
    root = _site(tmp_path, **{"content/posts/later.md": post("Later", date="2099-01-01T00:00:00+08:00")})
    build(root)
    from conftest import load

    store = cache.BuildCache(load(root), root / "site")
    try:
        saved = store.stamp()
        assert saved["next"] is not None and saved["next"] > 4e9
        from repost import incremental

        assert incremental.up_to_date(store, root / "site", saved["stamp"]) is not None
        monkeypatch.setattr(incremental.time, "time", lambda: saved["next"] + 1)
        assert incremental.up_to_date(store, root / "site", saved["stamp"]) is None
    finally:
        store.close()


def test_warnings_are_repeated_by_a_build_that_has_nothing_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cache, "RACY_NS", 0)
    root = _site(tmp_path, **{"content/posts/odd.md": post("Odd", date="2026-01-09T10:00:00+08:00", colour="red")})
    args = ["--config", str(root / "config.yaml"), "build"]
    assert main(args) == 0
    first = capsys.readouterr().err
    assert main(args) == 0
    assert "unknown front matter key 'colour'" in first and capsys.readouterr().err == first


def test_parallel_and_serial_builds_are_identical(tmp_path, monkeypatch):
    root = _site(tmp_path, 9)
    build(root)
    serial = tree_hashes(root / "site")
    in_workers(monkeypatch)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    build(root, output=tmp_path / "forked", clean=True)
    assert tree_hashes(tmp_path / "forked") == serial


def test_a_template_error_in_a_worker_is_one_line_with_the_template(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_RENDER", 1)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    root = _site(tmp_path, **{"layouts/post.html": "{% extends 'base.html' %}{% block content %}{{ post.nope.deeper }}{% endblock %}"})
    with pytest.raises(ContentError) as info:
        build(root)
    assert info.value.path.endswith("layouts/post.html") and not (root / "site").exists()


# ---- the writer's in-place commit -----------------------------------------------------------

def test_small_change_to_a_big_output_is_renamed_in_place(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    root = _site(tmp_path)
    build(root)
    out = root / "site"
    inode = os.stat(out).st_ino
    keep = os.stat(out / "posts/post-0/index.html").st_ino
    (root / "content/posts/p3.md").unlink()
    result = build(root)
    assert os.stat(out).st_ino == inode  # not swapped: patched
    assert os.stat(out / "posts/post-0/index.html").st_ino == keep
    assert "posts/post-3/index.html" in result.removed and not (out / "posts/post-3").exists()
    assert tree_hashes(out) == tree_hashes(_clean(root, tmp_path))


@pytest.mark.parametrize("title,patched", [("Post 3", True), ("Post 3 retitled", False)], ids=["body", "title"])
def test_a_change_to_under_a_quarter_of_the_files_is_patched_in_place(tmp_path, monkeypatch, title, patched):
    """Past PATCH_MAX_CHANGES a change is still renamed into place while it is under a quarter of
    the output (a new post moves every index page of a big site): a new tree costs a link per file."""
    monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    monkeypatch.setattr(write, "PATCH_MAX_CHANGES", 3)
    root = _site(tmp_path, n=8)
    build(root)
    out = root / "site"
    inode = os.stat(out).st_ino
    (root / "content/posts/p3.md").write_text(post(title, "Body 3, edited.", date="2026-01-04T10:00:00+08:00", tags=["t"]))
    result = build(root)
    quarter = len(tree_hashes(out)) // 4
    assert 3 < len(result.changed) <= quarter if patched else len(result.changed) > quarter
    assert (os.stat(out).st_ino == inode) == patched  # renamed into place, or a new tree swapped in
    assert tree_hashes(out) == tree_hashes(_clean(root, tmp_path))


def _clean(root: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "clean"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".repost-cache"))
    build(copy)
    return copy / "site"


@pytest.mark.parametrize("fail_at", [1, 3])
def test_a_failing_in_place_commit_puts_everything_back(tmp_path, monkeypatch, fail_at):
    monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    root = _site(tmp_path)
    build(root)
    (root / "site/CNAME").write_text("blog.example\n")
    before = tree_hashes(root / "site")
    (root / "content/posts/p1.md").write_text(post("Changed", "Body 1.", date="2026-01-02T10:00:00+08:00", tags=["t"]))
    (root / "content/posts/p2.md").unlink()
    real, real_exchange, calls = os.replace, swap.exchange, []

    def failing(step):  # each file is put in place by an exchange, or (new files) a rename
        def run(src, dst):
            calls.append(dst)
            if len(calls) == fail_at:
                raise OSError(errno.EACCES, "Permission denied")
            return step(src, dst)
        return run

    monkeypatch.setattr(swap.os, "replace", failing(real))
    monkeypatch.setattr(swap, "exchange", failing(real_exchange))
    with pytest.raises(ContentError) as info:
        build(root)
    assert len(calls) >= fail_at and "cannot update the output folder" in info.value.message
    monkeypatch.setattr(swap.os, "replace", real)
    monkeypatch.setattr(swap, "exchange", real_exchange)
    assert tree_hashes(root / "site") == before
    assert not [p for p in root.iterdir() if p.name.startswith((swap.TEMP_PREFIX, swap.OLD_PREFIX))]
    build(root)
    assert (root / "site/posts/changed/index.html").is_file() and (root / "site/CNAME").is_file()


def test_an_interrupted_render_leaves_output_and_cache_consistent(tmp_path, monkeypatch):
    root = _site(tmp_path)
    build(root)
    before = tree_hashes(root / "site")
    (root / "content/posts/p1.md").write_text(post("Changed", "Body 1.", date="2026-01-02T10:00:00+08:00", tags=["t"]))
    real = render.render_output

    def boom(env, out, shared):
        raise KeyboardInterrupt

    monkeypatch.setattr(render, "render_output", boom)
    with pytest.raises(KeyboardInterrupt):
        build(root)
    assert tree_hashes(root / "site") == before
    monkeypatch.setattr(render, "render_output", real)
    build(root)
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))


def _rows(root: Path) -> dict[str, list]:
    import sqlite3

    con = sqlite3.connect(root / cache.FOLDER / "build.sqlite")
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}")) for t in ("deps", "touches", "outs", "sources")}
    finally:
        con.close()


def test_an_interrupted_cache_save_keeps_the_last_record_whole(tmp_path, monkeypatch):
    """The record of a build is written in one transaction: a failure midway leaves the last one."""
    root = _site(tmp_path)
    build(root)
    before = _rows(root)
    (root / "content/posts/p1.md").write_text(post("Changed", "Body 1.", date="2026-01-02T10:00:00+08:00", tags=["u"]))

    def boom(state):  # called after the rows of the rendered pages were written
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "pack", boom)
    with pytest.raises(KeyboardInterrupt):
        build(root)
    after = _rows(root)
    assert after["deps"] == before["deps"] and after["touches"] == before["touches"] and after["outs"] == before["outs"]
    monkeypatch.undo()
    build(root)
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))


def test_a_site_where_the_cache_cannot_live_still_builds(tmp_path):
    root = _site(tmp_path)
    (root / ".repost-cache").write_text("a file where the cache folder would go")
    first = build(root)
    assert first.rendered == first.pages and (root / "site/index.html").is_file()
    assert build(root).changed == []  # no cache: everything rendered, same bytes, nothing written
    assert (root / ".repost-cache").read_text() == "a file where the cache folder would go"


def test_library_versions_read_from_dist_info_names_agree_with_importlib_metadata():
    from importlib import metadata

    found = cache.versions([*cache.LIBRARIES, "surely-not-installed-here"])
    assert found["surely-not-installed-here"] == "-"
    for name in cache.LIBRARIES:
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = "-"
        assert found[name] == expected, name


def test_in_place_commit_without_an_atomic_exchange_keeps_old_versions_aside(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    monkeypatch.setattr(swap, "exchange", lambda a, b: False)  # not Linux: link aside, then rename
    root = _site(tmp_path)
    build(root)
    (root / "content/posts/p1.md").write_text(post("Changed", "Body 1.", date="2026-01-02T10:00:00+08:00", tags=["t"]))
    assert "posts/changed/index.html" in build(root).changed
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))
    assert not [p for p in root.iterdir() if p.name.startswith((swap.TEMP_PREFIX, swap.OLD_PREFIX))]


@pytest.mark.parametrize("patch", [True, False])
def test_replaced_files_can_be_deleted_later_by_the_caller(tmp_path, monkeypatch, patch):
    """A server hands the deleting of old versions to a thread: the output is complete before."""
    if patch:
        monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    root = _site(tmp_path)
    build(root)
    (root / "content/posts/p1.md").write_text(post("Changed", "Body 1.", date="2026-01-02T10:00:00+08:00", tags=["t"]))
    jobs = []
    result = build(root, later=jobs.append)
    assert "posts/changed/index.html" in result.changed and len(jobs) == 1
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))
    leftovers = [p for p in root.iterdir() if p.name.startswith((swap.TEMP_PREFIX, swap.OLD_PREFIX))]
    assert leftovers and all("-trash" in p.name for p in leftovers)
    (root / "content/posts/p2.md").write_text(post("Again", "Body 2.", date="2026-01-03T10:00:00+08:00", tags=["t"]))
    build(root, later=jobs.append)  # the next build leaves our pending trash alone
    assert all(p.exists() for p in leftovers)
    for job in jobs:
        job()
    assert not [p for p in root.iterdir() if p.name.startswith((swap.TEMP_PREFIX, swap.OLD_PREFIX))]


@pytest.mark.parametrize("column", ["state", "stamp", "shape", "plans", "lost plans"])
def test_an_unreadable_record_of_the_last_build_only_costs_time(tmp_path, monkeypatch, column):
    import sqlite3

    monkeypatch.setattr(cache, "RACY_NS", 0)
    root = _site(tmp_path)
    build(root)
    (root / "content/posts/p1.md").write_text(post("Post 1", "Body 1, edited.", date="2026-01-02T10:00:00+08:00", tags=["t"]))
    db = sqlite3.connect(root / ".repost-cache/build.sqlite")
    with db:
        if column == "plans":
            db.execute("UPDATE plans SET chunk = ?", (b"{not a pickle" * 3,))
        elif column == "lost plans":
            db.execute("DELETE FROM plans")
        else:
            db.execute(f"UPDATE outs SET {column} = ?", (b"{not a pickle" * 3,))
    db.close()
    build(root)
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))
    assert build(root).rendered == 0  # and the record is whole again


def test_a_long_body_is_stored_compressed_and_comes_back_whole(tmp_path):
    long_body = "\n\n".join(f"Paragraph {i}: " + "word " * 40 for i in range(400))  # ~90 KB of HTML
    root = _site(tmp_path, **{"content/posts/long.md": post("Long", long_body, date="2026-02-01T10:00:00+08:00")})
    build(root)
    rows = _rows_of_records(root)
    assert any(isinstance(body, bytes) for body in rows) and any(isinstance(body, str) for body in rows)
    (root / "content/posts/p0.md").write_text(post("Post 0", "Edited.", date="2026-01-01T10:00:00+08:00", tags=["t"]))
    build(root)  # the long post's page is kept; its body read back for the feeds
    assert tree_hashes(root / "site") == tree_hashes(_clean(root, tmp_path))
    assert "Paragraph 399" in (root / "site/posts/long/index.html").read_text()


def _rows_of_records(root: Path) -> list:
    import sqlite3

    con = sqlite3.connect(root / cache.FOLDER / "build.sqlite")
    try:
        return [body for (body,) in con.execute("SELECT body FROM records")]
    finally:
        con.close()


@pytest.mark.parametrize("forked", [False, True], ids=["in-process", "workers"])
def test_html_is_stored_as_text_or_compressed_and_every_page_shows_it_again(tmp_path, monkeypatch, forked):
    """Parsed HTML goes to the cache as UTF-8 bytes (compressed when long); plain HTML must land
    as text, and pages rendered again from the cache must show the same bodies and summaries."""
    if forked:
        in_workers(monkeypatch)
        monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(records, "ZIP_OVER", 600)
    long_body = "长文第一段,说明转载的来历。" * 20 + "\n\n<!--more-->\n\n" + "第二段 “引号” & <b>粗</b>。" * 40
    root = make_site(tmp_path / "root", {"content/posts/short.md": post("Short", "A short body, “quoted”."),
                                         "content/posts/long.md": post("Long", long_body, date="2026-01-03T10:00:00+08:00")})
    build(root)
    import sqlite3
    con = sqlite3.connect(root / cache.FOLDER / "build.sqlite")
    kinds = sorted(con.execute("SELECT typeof(body), typeof(summary) FROM records").fetchall())
    con.close()
    assert kinds == [("blob", "blob"), ("text", "text")]  # the long post (and its long summary); the short one
    before = tree_hashes(root / "site")
    (root / "layouts/partials").mkdir(parents=True)
    (root / "layouts/partials/footer.html").write_text("<footer>v2</footer>\n", encoding="utf-8")
    again = build(root)  # every HTML page again, each body and summary read back from the cache
    assert {"posts/long/index.html", "posts/short/index.html", "index.html"} <= set(again.changed)
    long_page = (root / "site/posts/long/index.html").read_text(encoding="utf-8")
    assert "第二段 “引号” &amp; <b>粗</b>。" in long_page and "A short body, “quoted”." in (root / "site/posts/short/index.html").read_text(encoding="utf-8")
    home = (root / "site/index.html").read_text(encoding="utf-8")
    assert "长文第一段" in home and "<p>A short body, “quoted”.</p>" in home
    after = tree_hashes(root / "site")
    changed = {p for p in before if before[p] != after.get(p)}
    assert changed and all(p.endswith(".html") for p in changed)
    (root / "layouts/partials/footer.html").unlink()
    build(root)
    assert tree_hashes(root / "site") == before


@pytest.mark.parametrize("forked,patch", [(False, False), (False, True), (True, False), (True, True)],
                         ids=["in-process", "in-process-patch", "workers", "workers-patch"])
def test_the_recorded_stat_of_each_output_is_its_own(tmp_path, monkeypatch, forked, patch):
    """The writer notes each file's stat as it writes it (renaming keeps size, time and inode);
    the cache must hold what a stat of the output gives, or later builds render pages again."""
    if forked:
        in_workers(monkeypatch)
        monkeypatch.setattr(parallel, "cores", lambda: 2)
    if patch:
        monkeypatch.setattr(write, "PATCH_MIN_FILES", 0)
    root = _site(tmp_path, 6)
    for step in range(2):
        if step:
            (root / "content/posts/p1.md").write_text(post("Post 1", "A new body.", date="2026-01-02T10:00:00+08:00", tags=["t"]),
                                                      encoding="utf-8")
        assert build(root).changed
        store = cache.BuildCache(load(root), root / "site")
        try:
            outputs = store.state()["outputs"]
        finally:
            store.close()
        pages = {path: stat for path, (key, stat) in outputs.items() if key != b"static"}
        assert len(pages) > 10 and all(stat == cache.out_stat(root / "site" / path) for path, stat in pages.items())
    assert build(root).rendered == 0
