"""Atomic output (RELIABILITY B6): old output byte-identical on any failure; refusals; .git/CNAME kept."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, build, dated_site, in_workers, load, no_temp_dirs, post, tree, tree_hashes
from repost import parallel, render, swap, write
from repost.build import build_site
from repost.errors import ConfigError, ContentError
from repost.swap import TEMP_PREFIX
from repost.write import Writer, check_output_dir


def test_writer_reports_changed_and_removed(tmp_path):
    out = tmp_path / "out"
    w = Writer(out)
    w.put("a.html", b"a")
    w.put("d/b.html", b"b")
    assert w.commit() == (["a.html", "d/b.html"], [])
    w = Writer(out)
    w.put("a.html", b"a")
    w.put("c.html", b"c")
    assert w.commit() == (["c.html"], ["d/b.html"])
    assert tree(out) == {"a.html", "c.html"}


def test_unchanged_build_does_not_touch_the_output(tmp_path):
    out = tmp_path / "out"
    w = Writer(out)
    w.put("a.html", b"a")
    w.commit()
    inode = (out / "a.html").stat().st_ino
    w = Writer(out)
    w.put("a.html", b"a")
    assert w.commit() == ([], [])
    assert (out / "a.html").stat().st_ino == inode and no_temp_dirs(tmp_path)


def test_git_and_cname_survive_builds_and_stale_files_go(tmp_path):
    root = dated_site(tmp_path)
    build(root)
    out = root / "site"
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "CNAME").write_text("blog.example\n")
    (root / "content/posts/p0.md").unlink()
    result = build(root)
    assert "posts/post-0/index.html" in result.removed
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (out / "CNAME").read_text() == "blog.example\n"
    assert "post-0" not in (out / "sitemap.xml").read_text() and "post-0" not in (out / "atom.xml").read_text()
    assert not (out / "posts/post-0").exists()


def test_renamed_slug_removes_the_old_page(tmp_path):
    root = dated_site(tmp_path, 1)
    build(root)
    (root / "content/posts/p0.md").write_text(post("Post 0", slug="renamed"), encoding="utf-8")
    result = build(root)
    assert result.removed == ["posts/post-0/index.html"]
    assert (root / "site/posts/renamed/index.html").is_file()


def test_exception_halfway_through_rendering_leaves_old_output(tmp_path, monkeypatch):
    root = dated_site(tmp_path)
    build(root)
    (root / "content/posts/p1.md").write_text(post("Changed", date="2026-01-02T10:00:00+08:00"), encoding="utf-8")
    before = tree_hashes(root / "site")
    real, calls = render.render_output, []

    def flaky(env, out, shared):
        calls.append(out.path)
        if len(calls) == 4:
            raise RuntimeError("injected")
        return real(env, out, shared)

    monkeypatch.setattr(render, "render_output", flaky)
    with pytest.raises(RuntimeError):
        build(root)
    assert tree_hashes(root / "site") == before and no_temp_dirs(root)
    monkeypatch.setattr(render, "render_output", real)
    assert "posts/changed/index.html" in build(root).changed


def test_workers_compare_with_the_output_only_when_there_is_one(tmp_path, monkeypatch):
    """A cold build stages every page without looking for an old one; a build over an existing
    output still writes only the pages whose bytes changed."""
    in_workers(monkeypatch)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    root = dated_site(tmp_path, 4)
    real_is_file = Path.is_file

    def looked(path):
        if path.name == "index.html" and "site" in path.parts:  # as `stage` asks, in a worker
            raise AssertionError(f"a cold build looked for {path}")
        return real_is_file(path)

    with monkeypatch.context() as m:
        m.setattr(Path, "is_file", looked)
        first = build(root)
    assert (root / "site/posts/post-3/index.html").is_file() and len(first.changed) > first.pages
    before = tree_hashes(root / "site")
    again = build(root, clean=True)  # renders every page again, in the workers
    assert again.rendered == again.pages and again.changed == [] and tree_hashes(root / "site") == before
    (root / "content/posts/p1.md").write_text(post("Post 1", "A new body.", date="2026-01-02T10:00:00+08:00"), encoding="utf-8")
    third = build(root, clean=True)
    assert "posts/post-1/index.html" in third.changed and "posts/post-2/index.html" not in third.changed


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(errno.ENOSPC, "No space left on device")])
def test_failure_while_writing_leaves_old_output(tmp_path, monkeypatch, exc):
    root = dated_site(tmp_path)
    build(root)
    (root / "content/posts/p2.md").write_text(post("Changed", date="2026-01-03T10:00:00+08:00"), encoding="utf-8")
    before = tree_hashes(root / "site")
    real, calls = write._write_new, []

    def failing(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise exc
        return real(path, data)

    monkeypatch.setattr(write, "_write_new", failing)
    expected = KeyboardInterrupt if exc is KeyboardInterrupt else ContentError
    with pytest.raises(expected) as info:
        build(root)
    if expected is ContentError:
        assert "disk full" in info.value.message and str(root / "site") in info.value.format()
    monkeypatch.setattr(write, "_write_new", real)
    assert len(calls) == 2 and tree_hashes(root / "site") == before and no_temp_dirs(root)
    build(root)
    assert (root / "site/posts/changed/index.html").is_file()


@pytest.mark.parametrize("use_exchange", [True, False])
def test_cross_device_swap_is_a_clear_error_and_keeps_the_old_output(tmp_path, monkeypatch, use_exchange):
    root = dated_site(tmp_path)
    build(root)
    (root / "site" / "CNAME").write_text("x.example\n")
    (root / "content/posts/p0.md").unlink()
    before = tree_hashes(root / "site")
    real = os.rename

    def exdev(src, dst):
        if Path(src).name.startswith(TEMP_PREFIX):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst)

    def no_exchange(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(swap.os, "rename", exdev)
    monkeypatch.setattr(swap, "exchange", no_exchange if use_exchange else (lambda a, b: False))
    with pytest.raises(ContentError) as info:
        build(root)
    assert "cannot replace the output folder" in info.value.message
    assert tree_hashes(root / "site") == before and no_temp_dirs(root)


def test_sigkill_mid_build_then_the_next_build_recovers(tmp_path):
    root = dated_site(tmp_path, 6)
    build(root)
    for i in range(6):
        (root / f"content/posts/p{i}.md").write_text(post(f"New {i}", date=f"2026-01-0{i + 1}T10:00:00+08:00"), encoding="utf-8")
    before = tree_hashes(root / "site")
    script = (
        "import sys, time\n"
        "import repost.write as w\n"
        "real = w._write_new\n"
        "def slow(path, data):\n"
        "    real(path, data); print('writing', flush=True); time.sleep(30)\n"
        "w._write_new = slow\n"
        "from repost.cli import main\n"
        "sys.exit(main(['build']))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert tree_hashes(root / "site") == before
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert leftovers == [f"{TEMP_PREFIX}site-{proc.pid}"]  # clearly named
    build(root)
    assert no_temp_dirs(root) and (root / "site/posts/new-0/index.html").is_file()


@pytest.mark.parametrize("where", ["root", "parent", "content", "inside-content", "layouts", "slash", "home"])
def test_dangerous_output_folders_are_refused_before_anything_is_deleted(tmp_path, where):
    root = dated_site(tmp_path, 1)
    target = {"root": root, "parent": tmp_path, "content": root / "content", "inside-content": root / "content/out",
              "layouts": root / "layouts", "slash": Path("/"), "home": Path.home()}[where]
    before = tree_hashes(tmp_path)
    with pytest.raises(ConfigError) as info:
        build_site(load(root), output=target)
    assert "refusing" in info.value.message
    assert tree_hashes(tmp_path) == before


def test_refusal_exits_1_on_the_command_line(tmp_path):
    root = dated_site(tmp_path, 1)
    proc = subprocess.run([sys.executable, "-m", "repost", "build", "--output", "."], cwd=root, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "refusing" in proc.stderr and "Traceback" not in proc.stderr


def test_output_outside_the_root_is_fine(tmp_path):
    root = dated_site(tmp_path, 1)
    result = build_site(load(root), output=tmp_path / "elsewhere" / "www")
    assert "index.html" in tree(tmp_path / "elsewhere" / "www") and result.changed


def test_check_output_dir_accepts_the_default(tmp_path):
    assert check_output_dir(tmp_path / "site", tmp_path, [tmp_path / "content"]) == (tmp_path / "site").resolve()
