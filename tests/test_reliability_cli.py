"""Every failure names its file (and line) and exits 1 without a traceback; `--debug` shows it.

One bad input per command through `repost.cli.main` (stderr captured), plus one real process.
Exit codes as CONTRACT.md says: 0 success, 1 content/config/target, 2 usage.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_site, post
from repost.cli import main


def run(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(root / "config.yaml"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_clean_error(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and 'File "' not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("name,files,args,needles", [
    ("post yaml", {"content/posts/bad.md": "---\ntitle: [x\n---\n"}, ["build"], ["content/posts/bad.md:2:", "invalid YAML"]),
    ("post not utf-8", {"content/posts/gbk.md": post("中文").encode("gbk")}, ["build"], ["content/posts/gbk.md:", "not UTF-8"]),
    ("missing title", {"content/posts/t.md": "---\ndate: 2026-01-02\n---\n"}, ["build"], ["content/posts/t.md:2: missing 'title'"]),
    ("config key", {"config.yaml": "title: T\npaginat: 2\n"}, ["build"], ["config.yaml:2:", "unknown key 'paginat'"]),
    ("config tag", {"config.yaml": "title: !!python/name:os.system T\n"}, ["build"], ["config.yaml:1:", "YAML tags are not allowed"]),
    ("config bytes", {"config.yaml": b"title: \xff\xfe\n"}, ["build"], ["config.yaml", "not UTF-8"]),
    ("template", {"layouts/post.html": "{% if %}", "content/posts/a.md": post("a")}, ["build"], ["post.html:1:", "template syntax error"]),
    ("import path", {}, ["import", "no-such-dump.txt"], ["no-such-dump.txt: no such file or folder"]),
    ("deploy none", {}, ["deploy"], ["config.yaml", "no deploy targets"]),
    ("deploy name", {"config.yaml": "title: T\ndeploy:\n  - {name: web, type: dir, path: ../www}\n"}, ["deploy", "nope"], ["nope"]),
    ("check", {"content/posts/bad.md": "---\ntitle: x\ntitle: y\n---\n"}, ["check"], []),
])
def test_each_command_fails_with_one_clean_line(tmp_path, capsys, name, files, args, needles):
    root = make_site(tmp_path, files)
    code, out, err = run(root, capsys, *args)
    assert_one_clean_error(code, err, *needles)
    if name == "check":
        assert "content/posts/bad.md:3: error: duplicate key 'title'" in out


def test_missing_config_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["build"])
    assert_one_clean_error(code, capsys.readouterr().err, "config.yaml", "config file not found")


def test_serve_on_a_busy_port_is_one_line(tmp_path, capsys):
    root = make_site(tmp_path, {"content/posts/a.md": post("a")})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, _, err = run(root, capsys, "serve", "--port", str(busy.getsockname()[1]))
    assert_one_clean_error(code, err, "cannot listen on 127.0.0.1:", "in use")


@pytest.mark.parametrize("args", [["frobnicate"], ["check", "--format", "xml"], ["build", "--no-such-flag"], []])
def test_wrong_usage_exits_2(tmp_path, capsys, args):
    root = make_site(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["--config", str(root / "config.yaml"), *args])
    assert info.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_a_bug_is_one_line_with_a_hint_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    import repost.check

    def bug(*args, **kwargs):
        raise ValueError("something impossible")

    monkeypatch.setattr(repost.check, "run_checks", bug)
    root = make_site(tmp_path)
    code, _, err = run(root, capsys, "check")
    assert_one_clean_error(code, err, "internal error: ValueError: something impossible", "--debug")
    code = main(["--config", str(root / "config.yaml"), "--debug", "check"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" in err and "something impossible" in err


def test_a_real_process_prints_no_traceback_and_debug_does(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": "---\ntitle: a\ndate: 2026-01-02T10:00:00+08:00\nslug: ../../x\n---\n"})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for cmd in (["build"], ["check"]):
        proc = subprocess.run([sys.executable, "-m", "repost", *cmd], cwd=root, capture_output=True, text=True, timeout=60, env=env)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "content/posts/a.md:4:" in proc.stderr + proc.stdout
    proc = subprocess.run([sys.executable, "-m", "repost", "--debug", "build"], cwd=root, capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


@pytest.mark.parametrize("entry", [["-m", "repost", "build"], [str(REPO / "build.py")]], ids=["python -m repost", "build.py"])
def test_the_command_exits_at_once_yet_loses_no_output(tmp_path, entry):
    """The command ends with os._exit (no teardown of a big build's objects): what it printed into a
    file (block-buffered) is all there, the exit code is kept, and a closed pipe is not an error."""
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A")})
    with open(tmp_path / "out.txt", "w") as out:
        done = subprocess.run([sys.executable, *entry], cwd=root, stdout=out, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "built " in (tmp_path / "out.txt").read_text() and (root / "site/index.html").is_file()
    bad = subprocess.run([sys.executable, *entry, "--config", str(tmp_path / "none.yaml")], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "config file not found" in bad.stderr
    piped = subprocess.run(f"{sys.executable} {' '.join(entry)} -v | head -c 1", shell=True, cwd=root,
                           capture_output=True, text=True, timeout=120)
    assert "Traceback" not in piped.stderr and "Error" not in piped.stderr, piped.stderr
