"""Helpers shared by the deploy tests: a site root with a built site/, and the CLI in-process."""
from __future__ import annotations

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
