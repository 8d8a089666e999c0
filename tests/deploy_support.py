"""Helpers shared by the deploy tests: a site root with a built site/, and the CLI in-process."""
from __future__ import annotations

import os
from pathlib import Path

from repost import cli

SITE = {
    "index.html": "<!doctype html><title>首页</title>",
    "posts/hello/index.html": "<!doctype html><title>hello</title>",
    "assets/style.3f2a9c1b.css": "body{color:#222}",
    "feed.xml": "<?xml version='1.0'?><feed/>",
}


def make_project(tmp_path: Path, deploy_yaml: str, site: dict[str, str | bytes] | None = None) -> Path:
    """A site root with config.yaml (whose `deploy:` is given) and a built site/; returns config.yaml."""
    root = tmp_path / "blog"
    (root / "content" / "posts").mkdir(parents=True)
    config = root / "config.yaml"
    config.write_text("title: T\nbase_url: https://example.com/\n" + deploy_yaml, encoding="utf-8")
    write_tree(root / "site", SITE if site is None else site)
    return config


def write_tree(folder: Path, files: dict[str, str | bytes]) -> None:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (symlinks as their target text), for before/after comparisons."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = b"->" + str(path.readlink()).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def deploy(capsys, config: Path, *args: str, build: bool = False) -> tuple[int, str, str]:
    """Run `repost deploy [--no-build] ARGS` in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main(["deploy", "--config", str(config), *args, *([] if build else ["--no-build"])])
    out, err = capsys.readouterr()
    return code, out, err


class FakeStdin:
    """sys.stdin stand-in: a terminal or not (decides whether ssh may prompt)."""

    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def fake_ssh(tmp_path: Path, monkeypatch) -> Path:
    """An `ssh` first on PATH that records its arguments (one per line, in the returned file) and
    fails like a refused key; ssh settings from the environment are removed."""
    bin_dir, log = tmp_path / "bin", tmp_path / "ssh-args"
    bin_dir.mkdir()
    script = bin_dir / "ssh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{log}'\necho 'Permission denied (publickey).' >&2\n"
                      "exit 255\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name in ("RSYNC_RSH", "GIT_SSH_COMMAND", "GIT_SSH"):
        monkeypatch.delenv(name, raising=False)
    return log


def deploy_without_a_terminal(tmp_path: Path, capsys, monkeypatch, deploy_yaml: str) -> tuple[int, str, list[str]]:
    """Deploy through the fake ssh with no terminal on stdin: (exit code, stderr, ssh's arguments)."""
    log = fake_ssh(tmp_path, monkeypatch)
    monkeypatch.setattr("sys.stdin", FakeStdin(False))
    code, _, err = deploy(capsys, make_project(tmp_path, deploy_yaml))
    return code, err, log.read_text(encoding="utf-8").split("\n")
