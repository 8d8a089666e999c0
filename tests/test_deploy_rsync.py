"""The rsync target against a local destination folder, with the real rsync binary (B11 #65)."""
from __future__ import annotations

import os
import shutil

import pytest
from deploy_support import FakeStdin, deploy_without_a_terminal, deploy, make_project, tree, write_tree

from repost import deploy_rsync
from repost.config import load_config
from repost.deploy import MARKER, Job, target_options
from repost.ui import quiet_ui

pytestmark = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed (apt-get install rsync)")


def _setup(tmp_path, options: str = ""):
    dest = tmp_path / "mirror"
    config = make_project(tmp_path, f"deploy:\n  - {{name: m, type: rsync, dest: {dest}{options}}}\n")
    return config, config.parent / "site", dest


def _deployed(dest):
    files = tree(dest)
    assert MARKER in files
    files.pop(MARKER)
    return files


def test_argv_is_a_list_with_a_trailing_slash_source_and_no_shell(tmp_path):
    config, site, dest = _setup(tmp_path, ", options: ['--exclude=*.map', '--rsh=ssh -p 2222']")
    cfg = load_config(config)
    job = Job(cfg, cfg.deploy[0], target_options(cfg, cfg.deploy[0]), quiet_ui(), site=site)
    deploy_rsync.check(job)
    argv = deploy_rsync.argv(job, "/tmp/marker", dry_run=True)
    assert argv[0] == "rsync" and "--delete" in argv and "--dry-run" in argv
    assert "--rsh=ssh -p 2222" in argv  # one element: never split by a shell
    assert argv[-4:] == ["--", f"{site}/", "/tmp/marker/", str(dest)]
    assert "--dry-run" not in deploy_rsync.argv(job, "/tmp/marker", dry_run=False)


def test_deploy_plan_no_op_and_stale_deletion(tmp_path, capsys):
    config, site, dest = _setup(tmp_path)
    code, out, err = deploy(capsys, config)
    assert code == 0, err
    assert "4 to upload, 0 to update, 0 to delete, 0 unchanged" in out
    assert _deployed(dest) == tree(site)
    code, out, _ = deploy(capsys, config)
    assert code == 0 and "0 to upload, 0 to update, 0 to delete, 4 unchanged" in out and "nothing to do" in out
    (site / "feed.xml").unlink()
    (site / "index.html").write_text("changed", encoding="utf-8")
    write_tree(site, {"新文章/index.html": "new"})
    code, out, _ = deploy(capsys, config, "-v")
    assert code == 0
    assert "1 to upload, 1 to update, 1 to delete, 2 unchanged" in out
    assert "+ 新文章/index.html" in out and "~ index.html" in out and "- feed.xml" in out
    assert "deployed 'm': 1 uploaded, 1 updated, 1 deleted" in out
    assert _deployed(dest) == tree(site)


def test_dry_run_uses_rsync_dry_run_and_changes_nothing(tmp_path, capsys):
    config, site, dest = _setup(tmp_path)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "4 to upload" in out and "dry run" in out
    assert not dest.exists()
    deploy(capsys, config)
    (site / "feed.xml").unlink()
    before = tree(dest)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "0 to upload, 0 to update, 1 to delete, 3 unchanged" in out
    assert tree(dest) == before


def test_a_folder_never_deployed_to_is_not_wiped_without_force(tmp_path, capsys):
    config, site, dest = _setup(tmp_path)
    write_tree(dest, {"precious.txt": "mine", "old/a.html": "x"})
    code, _, err = deploy(capsys, config)
    assert code == 1 and "2 file(s) that are not in the site" in err and "--force" in err
    assert tree(dest) == {"precious.txt": b"mine", "old/a.html": b"x"}
    code, _, _ = deploy(capsys, config, "--force")
    assert code == 0
    assert _deployed(dest) == tree(site)


def test_new_files_are_readable_by_a_web_server_whatever_the_source_mode(tmp_path, capsys):
    config, site, dest = _setup(tmp_path)
    (site / "index.html").chmod(0o600)
    old = os.umask(0o022)  # rsync inherits it; 022 is the usual server umask
    try:
        assert deploy(capsys, config)[0] == 0
    finally:
        os.umask(old)
    assert (dest / "index.html").stat().st_mode & 0o777 == 0o644


def test_an_empty_existing_folder_needs_no_force(tmp_path, capsys):
    config, site, dest = _setup(tmp_path)
    dest.mkdir()
    assert deploy(capsys, config)[0] == 0
    assert _deployed(dest) == tree(site)


@pytest.mark.parametrize("dest, message", [
    ("me@host:", "remote root or home"),
    ("me@host:/", "remote root or home"),
    ("me@host:~/", "remote root or home"),
    ("host:.", "remote root or home"),
])
def test_remote_root_or_home_is_refused(tmp_path, capsys, dest, message):
    config = make_project(tmp_path, f"deploy:\n  - {{name: r, type: rsync, dest: '{dest}'}}\n")
    code, _, err = deploy(capsys, config)
    assert code == 1 and message in err


@pytest.mark.parametrize("option, message", [
    ("/etc", "is not a flag"),
    ("--remove-source-files", "not allowed"),
    ("--files-from=/etc/list", "not allowed"),
])
def test_options_cannot_smuggle_paths_or_destroy_the_source(tmp_path, capsys, option, message):
    config, site, dest = _setup(tmp_path, f", options: ['{option}']")
    before = tree(site)
    code, _, err = deploy(capsys, config)
    assert code == 1 and message in err
    assert tree(site) == before and not dest.exists()


def test_user_options_are_passed_to_rsync(tmp_path, capsys):
    config, site, dest = _setup(tmp_path, ", options: ['--exclude=*.xml']")
    assert deploy(capsys, config)[0] == 0
    assert "feed.xml" not in tree(dest) and "index.html" in tree(dest)


def test_rsync_missing_is_one_clear_line(tmp_path, capsys, monkeypatch):
    config, site, dest = _setup(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "deploy target 'm' (rsync): rsync is not installed" in err


def test_rsync_failure_names_the_target_and_exits_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    config = make_project(tmp_path, f"deploy:\n  - {{name: m, type: rsync, dest: {blocker}/sub}}\n")
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "deploy target 'm' (rsync): rsync failed (exit" in err and "nothing was changed" in err




def test_a_remote_dest_without_a_terminal_uses_batch_ssh_and_fails_in_one_line(tmp_path, capsys, monkeypatch):
    code, err, args = deploy_without_a_terminal(
        tmp_path, capsys, monkeypatch, "deploy:\n  - {name: m, type: rsync, dest: 'me@example.invalid:/srv/blog'}\n")
    assert code == 1 and err.count("\n") == 1 and "rsync failed" in err
    assert "BatchMode=yes" in args and "ConnectTimeout=20" in args and "example.invalid" in args


@pytest.mark.parametrize("dest, options, tty, batch", [
    ("me@host:/srv/blog", "", True, False),               # a person can answer the prompt
    ("me@host:/srv/blog", ", options: ['--rsh=ssh -p 2222']", False, False),  # their own shell
    ("host::module/blog", "", False, False),              # rsync daemon: no ssh
    ("rsync://host/module/blog", "", False, False),
    ("me@host:/srv/blog", "", False, True),
])
def test_batch_ssh_only_when_ssh_is_ours_to_choose(tmp_path, monkeypatch, dest, options, tty, batch):
    monkeypatch.setattr("sys.stdin", FakeStdin(tty))
    monkeypatch.delenv("RSYNC_RSH", raising=False)
    config = make_project(tmp_path, f"deploy:\n  - {{name: m, type: rsync, dest: '{dest}'{options}}}\n")
    cfg = load_config(config)
    job = Job(cfg, cfg.deploy[0], target_options(cfg, cfg.deploy[0]), quiet_ui(), site=config.parent / "site")
    deploy_rsync.check(job)
    argv = deploy_rsync.argv(job, "/tmp/marker", dry_run=True)
    assert any(a.startswith("--rsh=ssh -o BatchMode=yes") for a in argv) is batch
