"""build_site: the pipeline end to end on inline mini-sites."""
from __future__ import annotations

import pytest

from conftest import build, make_site, post, tree, tree_hashes
from repost.errors import ContentError, ErrorList


def test_minimal_site_builds_expected_tree(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("Alpha", tags=["x"])})
    result = build(root)
    assert tree(root / "site") == {
        "index.html", "404.html", "robots.txt", "sitemap.xml", "atom.xml", "rss.xml", "favicon.svg",
        "assets/style.css", "archive/index.html", "archive/2026/index.html", "tags/index.html", "tags/x/index.html",
        "posts/alpha/index.html",
    }
    assert sorted(result.changed) == sorted(tree(root / "site"))
    assert result.removed == []


def test_unchanged_rebuild_reports_nothing_and_is_identical(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("Alpha")})
    build(root)
    before = tree_hashes(root / "site")
    again = build(root)
    assert again.changed == [] and again.removed == []
    assert tree_hashes(root / "site") == before


def test_duplicate_urls_fail_naming_both_files(tmp_path):
    root = make_site(tmp_path, {
        "content/posts/a.md": post("Same Title"),
        "content/posts/b.md": post("same title"),
    })
    with pytest.raises((ContentError, ErrorList)) as info:
        build(root)
    text = info.value.format()
    assert "content/posts/a.md" in text and "content/posts/b.md" in text
    assert not (root / "site").exists()


# ---- the command line ----------------------------------------------------------------------

import os
import subprocess
import sys
import types

from conftest import REPO, load
from repost.build import build_site, command


def _cli(root, *args, env=None):
    return subprocess.run([sys.executable, "-m", "repost", *args], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def test_broken_front_matter_is_one_line_with_path_and_line(tmp_path):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok"),
                                "content/posts/bad.md": "---\ntitle: ok\ntags: [a, b\n---\nbody\n"})
    proc = _cli(root, "build")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "content/posts/bad.md:" in lines[0] and "Traceback" not in proc.stderr
    assert not (root / "site").exists()
    debug = _cli(root, "build", "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_broken_config_is_reported_with_its_line(tmp_path):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok")}, config="title: T\npaginat: 3\n")
    proc = _cli(root, "build")
    assert proc.returncode == 1 and "config.yaml:2" in proc.stderr and "did you mean 'paginate'" in proc.stderr


def test_verbose_logs_each_stage_and_drafts_flag(tmp_path):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok"), "content/posts/d.md": post("Draft", draft=True)})
    proc = _cli(root, "build", "-v")
    assert proc.returncode == 0, proc.stderr
    for stage in ("collect:", "parse:", "model:", "plan:", "render:", "write+prune:"):
        assert stage in proc.stdout
    assert "draft, skipped" in proc.stdout and not (root / "site/posts/draft").exists()
    assert _cli(root, "build", "--drafts", "--output", "preview").returncode == 0
    assert (root / "preview/posts/draft/index.html").is_file()


def test_python_build_py_means_repost_build(tmp_path):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok")})
    proc = subprocess.run([sys.executable, str(REPO / "build.py")], cwd=root, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert (root / "site/posts/ok/index.html").is_file()
    # options without a command still mean build; a command is passed through
    drafts = subprocess.run([sys.executable, str(REPO / "build.py"), "--drafts", "--output", "with-drafts", "-v"], cwd=root,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert drafts.returncode == 0, drafts.stderr
    assert "render:" in drafts.stdout and (root / "with-drafts/posts/ok/index.html").is_file()
    usage = subprocess.run([sys.executable, str(REPO / "build.py"), "nonsense-command"], cwd=root,
                           capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert usage.returncode == 2


def test_same_published_posts_whatever_the_machine_timezone(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A", date="2026-01-02T07:00:00+08:00"),
                                "content/posts/b.md": post("B", date="2017-11-22")})
    trees = []
    for tz in ("UTC", "Asia/Shanghai", "America/Los_Angeles"):
        assert _cli(root, "build", "--output", f"out-{tz.replace('/', '-')}", env={"TZ": tz}).returncode == 0
        trees.append(tree_hashes(root / f"out-{tz.replace('/', '-')}"))
    assert trees[0] == trees[1] == trees[2]


def test_two_builds_of_the_same_input_are_byte_identical(tmp_path):
    root = make_site(tmp_path, {f"content/posts/{i}.md": post(f"Post {i}", tags=["a", "b"]) for i in range(5)})
    build_site(load(root), output=tmp_path / "one")
    build_site(load(root), output=tmp_path / "two")
    assert tree_hashes(tmp_path / "one") == tree_hashes(tmp_path / "two")


def test_command_imports_raw_dumps_first_when_the_importer_exists(tmp_path, monkeypatch):
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok"), "content/raw/dump.txt": "A dump"})
    calls = []

    def import_paths(config, paths, ui=None):
        calls.append(paths)
        (config.paths.posts / "imported.md").write_text(post("Imported"), encoding="utf-8")

    monkeypatch.setitem(sys.modules, "repost.importer", types.SimpleNamespace(import_paths=import_paths))
    args = types.SimpleNamespace(drafts=False, output=None, clean=False)
    from repost.ui import quiet_ui

    assert command(load(root), args, quiet_ui()) == 0
    assert calls == [None] and (root / "site/posts/imported/index.html").is_file()


@pytest.mark.parametrize("raw", ["missing", "empty"])
def test_command_does_not_load_the_importer_without_dumps(tmp_path, monkeypatch, raw):
    """The importer is slow to import; a build with nothing in the raw folder goes without it."""
    root = make_site(tmp_path, {"content/posts/ok.md": post("ok")})
    if raw == "empty":
        (root / "content/raw").mkdir()
    calls = []
    monkeypatch.setitem(sys.modules, "repost.importer", types.SimpleNamespace(import_paths=lambda *a, **k: calls.append(a)))
    from repost.ui import quiet_ui

    assert command(load(root), types.SimpleNamespace(drafts=False, output=None, clean=False), quiet_ui()) == 0
    assert calls == [] and (root / "site/posts/ok/index.html").is_file()


def test_build_site_is_reentrant_and_reports_only_real_changes(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A"), "content/posts/b.md": post("B", date="2026-01-03T10:00:00+08:00")})
    config = load(root)
    build_site(config)
    (root / "content/posts/a.md").write_text(post("A", body="Edited body."), encoding="utf-8")
    result = build_site(config)
    assert result.changed == ["atom.xml", "index.html", "posts/a/index.html", "rss.xml"]  # the summary is on the index
    assert build_site(config).changed == []


@pytest.mark.parametrize("known", [False, True], ids=["new-file", "changed-file"])
@pytest.mark.parametrize("forked", [False, True], ids=["in-process", "workers"])
def test_an_unreadable_post_is_one_error_naming_it(tmp_path, monkeypatch, known, forked):
    """Read by the parse job (a file the cache does not know) or up front (a known file whose stat
    changed): the same error either way, in a worker or not."""
    from pathlib import Path

    from repost import parallel

    posts = {f"content/posts/p{i}.md": post(f"Post {i}", "Body.", date=f"2026-01-0{i + 1}T10:00:00+08:00") for i in range(3)}
    root = make_site(tmp_path / "root", posts)
    if known:
        build(root)
        (root / "content/posts/p1.md").write_text(post("Post 1", "New body.", date="2026-01-02T10:00:00+08:00"))
    monkeypatch.setattr(parallel, "MIN_PARSE", 1 if forked else 10**9)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "p1.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ContentError) as err:
        build(root)
    assert str(err.value) == "content/posts/p1.md: cannot read: Permission denied"


def test_a_build_that_ends_the_process_leaves_the_collector_off(tmp_path):
    """`repost build` run as a command (cli.run, which exits at once) does not turn the collector
    back on after the build, which would walk everything the build made; called in-process it
    leaves the collector as it found it. Both build the same site."""
    import gc

    from repost.cli import main

    root = make_site(tmp_path, {"content/posts/a.md": post("A"), "content/posts/b.md": post("B")})
    args = ["--config", str(root / "config.yaml"), "-q", "build"]
    gc.enable()  # as a process starts, whatever an earlier test left
    try:
        assert main(args) == 0 and gc.isenabled()
        first = tree_hashes(root / "site")
        assert main([*args, "--clean"], exiting=True) == 0 and not gc.isenabled()
        assert tree_hashes(root / "site") == first
    finally:
        gc.enable()
