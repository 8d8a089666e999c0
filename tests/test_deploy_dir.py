"""The dir target: mirror site/ into a folder, delete only what an earlier deploy wrote (B11 #64)."""
from __future__ import annotations

import errno
import json
import os

from deploy_support import SITE, deploy, make_project, tree, write_tree

from repost import deploy_dir
from repost.deploy import MANIFEST


def _setup(tmp_path, extra: str = ""):
    www = tmp_path / "www"
    config = make_project(tmp_path, f"deploy:\n  - {{name: local, type: dir, path: {www}}}\n{extra}")
    return config, config.parent / "site", www


def test_first_deploy_copies_every_file_and_writes_a_manifest(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    code, out, err = deploy(capsys, config)
    assert code == 0, err
    assert "4 to upload, 0 to update, 0 to delete, 0 unchanged" in out
    files = tree(www)
    manifest = json.loads(files.pop(MANIFEST))
    assert files == tree(site)
    assert sorted(manifest["files"]) == sorted(SITE)
    assert oct((www / "index.html").stat().st_mode & 0o777) == "0o644"
    assert not list(www.rglob(".repost-tmp-*"))


def test_second_deploy_without_changes_does_nothing(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    assert deploy(capsys, config)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in www.rglob("*")}
    code, out, _ = deploy(capsys, config)
    assert code == 0
    assert "0 to upload, 0 to update, 0 to delete, 4 unchanged" in out
    assert "nothing to do" in out
    assert {p: p.stat().st_mtime_ns for p in www.rglob("*")} == before


def test_changed_new_and_removed_files(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    deploy(capsys, config)
    (site / "index.html").write_text("<!doctype html><title>new</title>", encoding="utf-8")
    (site / "feed.xml").unlink()
    (site / "posts" / "hello" / "index.html").unlink()
    write_tree(site, {"posts/second/index.html": "two"})
    code, out, _ = deploy(capsys, config, "-v")
    assert code == 0
    assert "1 to upload, 1 to update, 2 to delete, 1 unchanged" in out
    assert "+ posts/second/index.html" in out and "- feed.xml" in out and "~ index.html" in out
    assert "deployed 'local': 1 uploaded, 1 updated, 2 deleted" in out
    files = tree(www)
    files.pop(MANIFEST)
    assert files == tree(site)
    assert not (www / "posts" / "hello").exists()  # the folder the deletion emptied is gone


def test_foreign_files_are_never_touched(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    write_tree(www, {"robots.txt": "mine", "cgi/app.py": "print()", "posts/keep.txt": "keep"})
    deploy(capsys, config)
    (site / "feed.xml").unlink()
    assert deploy(capsys, config)[0] == 0
    files = tree(www)
    assert files["robots.txt"] == b"mine" and files["cgi/app.py"] == b"print()"
    assert files["posts/keep.txt"] == b"keep"
    assert "feed.xml" not in files


def test_a_foreign_file_at_a_site_path_is_replaced_but_only_removed_once_ours(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    write_tree(www, {"index.html": "old hand-made page"})
    code, out, _ = deploy(capsys, config)
    assert "3 to upload, 1 to update" in out
    assert (www / "index.html").read_bytes() == (site / "index.html").read_bytes()


def test_dry_run_changes_nothing(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "4 to upload" in out and "dry run" in out
    assert not www.exists()
    deploy(capsys, config)
    (site / "feed.xml").unlink()
    (site / "index.html").write_text("changed", encoding="utf-8")
    before = tree(www)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "0 to upload, 1 to update, 1 to delete, 2 unchanged" in out
    assert tree(www) == before


def test_refuses_to_write_through_a_symlink_in_the_target(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    www.mkdir()
    (www / "posts").symlink_to(outside)
    code, _, err = deploy(capsys, config)
    assert code == 1
    assert "symlink" in err and "deploy target 'local'" in err and "nothing was changed" in err
    assert list(outside.iterdir()) == []
    assert tree(www) == {"posts": b"->" + str(outside).encode()}


def test_a_tampered_manifest_cannot_delete_outside_the_target(tmp_path, capsys):
    config, site, www = _setup(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    www.mkdir()
    (www / MANIFEST).write_text(json.dumps({"version": 1, "files": {"../victim.txt": "x"}}), encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "unsafe path" in err
    assert victim.read_text(encoding="utf-8") == "precious"
    (www / MANIFEST).write_text("{not json", encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "not a valid deploy manifest" in err


def test_a_failure_midway_reports_what_was_done_and_keeps_the_manifest(tmp_path, capsys, monkeypatch):
    config, site, www = _setup(tmp_path)
    deploy(capsys, config)
    write_tree(site, {"a-new.html": "new", "zz-full.html": "x"})
    real_copy = deploy_dir._copy

    def copy(src, target):  # the disk fills up on the second file
        if target.name == "zz-full.html":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real_copy(src, target)

    monkeypatch.setattr(deploy_dir, "_copy", copy)
    code, _, err = deploy(capsys, config)
    assert code == 1
    assert err.count("\n") == 1 and "No space left on device" in err
    assert "partially applied: 1 uploaded, 0 updated, 0 deleted of 2 changes" in err
    assert "a-new.html" in json.loads((www / MANIFEST).read_text(encoding="utf-8"))["files"]
    monkeypatch.setattr(deploy_dir, "_copy", real_copy)
    code, out, _ = deploy(capsys, config)
    assert code == 0 and "1 to upload, 0 to update" in out


def test_target_folder_that_is_a_file_is_refused(tmp_path, capsys):
    www = tmp_path / "www"
    www.write_text("a file", encoding="utf-8")
    config = make_project(tmp_path, f"deploy:\n  - {{name: local, type: dir, path: {www}}}\n")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "is not a folder" in err
    assert www.read_text(encoding="utf-8") == "a file"


def test_relative_path_is_relative_to_the_site_root(tmp_path, capsys):
    config = make_project(tmp_path, "deploy:\n  - {name: local, type: dir, path: ../public}\n")
    assert deploy(capsys, config)[0] == 0
    assert (tmp_path / "public" / "index.html").is_file()
