"""Shared test helpers: inline mini-sites built in tmp_path from a dict of files.

Import the plain functions (`from conftest import make_site, post, build, tree`) or use the
`mini_site` fixture. Keep these signatures stable: other test modules rely on them.
"""
from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from repost.config import Config, load_config

# The same examples on every run (seeded from each test), so that a run is reproducible and a
# red one points at a change; REPOST_HYPOTHESIS_PROFILE=explore draws new ones (with
# REPOST_HYPOTHESIS_EXAMPLES, more of them: docs/check.md) to look for what the fixed ones miss.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("REPOST_HYPOTHESIS_PROFILE", "fixed"))

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

DEFAULT_CONFIG = """\
title: Test Site
base_url: https://example.com/
language: en
author: Curator
timezone: Asia/Shanghai
paginate: 2
"""


def make_site(root: Path, files: dict[str, str | bytes] | None = None, *, config: str | None = None) -> Path:
    """Write `files` (relative path -> text or bytes) under `root`, plus config.yaml; returns root.

    config.yaml is DEFAULT_CONFIG unless `config` is given or `files` contains one. Text is
    dedented, so inline triple-quoted files may be indented.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    files = dict(files or {})
    files.setdefault("config.yaml", DEFAULT_CONFIG if config is None else config)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data), encoding="utf-8")
    for folder in ("content/posts", "content/pages"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root


def post(title: str = "Hello", body: str = "Some text.", *, date: str = "2026-01-02T10:00:00+08:00", **meta) -> str:
    """Text of a post file: front matter (title, date and any extra keys) + body."""
    data = {"title": title, "date": date, **meta}
    front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    return "---\n" + front + "---\n" + body + "\n"


def load(root: Path) -> Config:
    return load_config(Path(root) / "config.yaml")


def build(root: Path, **kwargs):
    """Build the site at `root` with build_site; returns the BuildResult."""
    from repost.build import build_site

    return build_site(load(root), **kwargs)


def in_workers(patch) -> None:
    """Make every parse and render batch go to forked workers (`patch`: monkeypatch or its context)."""
    from repost import parallel

    patch.setattr(parallel, "MIN_RENDER", 1)
    patch.setattr(parallel, "MIN_PARSE", 1)


def tree(folder: Path) -> set[str]:
    """All files under `folder` as POSIX relative paths (like `tree -a` in Hugo's tests)."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def tree_hashes(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file: compare whole trees byte for byte."""
    folder = Path(folder)
    return {rel: hashlib.sha256((folder / rel).read_bytes()).hexdigest() for rel in sorted(tree(folder))}


def files_outside(base: Path, allowed: Path) -> set[str]:
    """Files under `base` that are not under `allowed` ("nothing outside" checks)."""
    allowed = Path(allowed).resolve()
    found = set()
    for dirpath, _, filenames in os.walk(base):
        for name in filenames:
            path = Path(dirpath, name).resolve()
            if not path.is_relative_to(allowed):
                found.add(str(path))
    return found


@pytest.fixture
def mini_site(tmp_path):
    """A factory: mini_site({"content/posts/a.md": post("A")}) -> site root in tmp_path."""

    def factory(files: dict[str, str | bytes] | None = None, *, config: str | None = None) -> Path:
        return make_site(tmp_path / "site-root", files, config=config)

    return factory


def dated_site(tmp_path: Path, n: int = 3) -> Path:
    """A site of `n` posts, "Post i" dated January i+1 2026."""
    return make_site(tmp_path / "root", {f"content/posts/p{i}.md": post(f"Post {i}", date=f"2026-01-0{i + 1}T10:00:00+08:00")
                                         for i in range(n)})


def no_temp_dirs(root: Path) -> bool:
    """No temp or old output folder of a build left beside the output."""
    return not [p for p in root.iterdir() if p.name.startswith((".repost-build-", ".repost-old-"))]


@pytest.fixture
def parses(monkeypatch):
    """Names of the posts parsed (not taken from the cache): parsed in this process, where the spy is."""
    from repost import content, parallel

    seen: list[str] = []
    real = content.parse_post

    def spy(config, path, rel, text):
        seen.append(rel)
        return real(config, path, rel, text)

    monkeypatch.setattr(content, "parse_post", spy)
    monkeypatch.setattr(parallel, "MIN_PARSE", 10**9)
    return seen
