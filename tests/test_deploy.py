"""Shared deploy behaviour: target choice, key validation, refusals, the build gate (B11 #64, #67)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from deploy_support import deploy, make_project, tree

from repost.config import load_config
from repost.deploy import Plan, validate_targets
from repost.errors import ConfigError, ContentError, ErrorList


def _config(tmp_path, deploy_yaml):
    return make_project(tmp_path, deploy_yaml)


# --- choosing and validating targets ---------------------------------------------------------

def test_the_first_target_is_the_default_and_a_name_picks_another(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    config = _config(tmp_path, f"deploy:\n  - {{name: one, type: dir, path: {a}}}\n"
                               f"  - {{name: two, type: dir, path: {b}}}\n")
    assert deploy(capsys, config)[0] == 0
    assert (a / "index.html").is_file() and not b.exists()
    assert deploy(capsys, config, "two")[0] == 0
    assert (b / "index.html").is_file()


def test_unknown_target_name_and_no_targets(tmp_path, capsys):
    config = _config(tmp_path, f"deploy:\n  - {{name: one, type: dir, path: {tmp_path / 'a'}}}\n")
    code, _, err = deploy(capsys, config, "nope")
    assert code == 1 and "no deploy target named 'nope'" in err and "known: one" in err
    config.write_text("title: T\n", encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "no deploy targets" in err


@pytest.mark.parametrize("entry, message", [
    ("{name: x, type: dir}", "missing required key 'path'"),
    ("{name: x, type: dir, path: /tmp/x, pth: 1}", "unknown key 'pth'"),
    ("{name: x, type: dir, paht: /tmp/x}", "did you mean 'path'"),
    ("{name: x, type: dir, path: 3}", "'path' must be a string"),
    ("{name: x, type: rsync, dest: /tmp/x, options: -av}", "'options' must be a list"),
    ("{name: x, type: rsync, dest: /tmp/x, options: [1]}", "list of strings"),
    ("{name: x, type: git, repo: /tmp/r, branch: true}", "'branch' must be a string"),
    ("{name: x, type: s3, bucket: b, aws_secret_access_key: abc}", "credentials never go in config.yaml"),
    ("{name: x, type: s3}", "missing required key 'bucket'"),
])
def test_each_type_checks_its_own_keys(tmp_path, capsys, entry, message):
    config = _config(tmp_path, f"deploy:\n  - name: ok\n    type: dir\n    path: {tmp_path / 'ok'}\n  - {entry}\n")
    with pytest.raises(ConfigError) as info:
        validate_targets(load_config(config))
    assert message in str(info.value) and "deploy target 'x'" in str(info.value)
    assert info.value.line == 7 and info.value.path == str(config)
    code, _, err = deploy(capsys, config)  # even deploying another target reports it: config is wrong
    assert code == 1 and "config.yaml:7: deploy target 'x'" in err
    assert not (tmp_path / "ok").exists()


def test_all_bad_targets_are_reported_at_once(tmp_path):
    config = _config(tmp_path, "deploy:\n  - {name: a, type: dir}\n  - {name: b, type: s3}\n")
    with pytest.raises(ErrorList) as info:
        validate_targets(load_config(config))
    assert [e.line for e in info.value.errors] == [4, 5]


# --- refusing dangerous folders before touching anything --------------------------------------

@pytest.mark.parametrize("path, reason", [
    ("''", "path is empty"),
    ("'  '", "path is empty"),
    ("/", "filesystem root"),
    ("'~'", "home folder"),
    ("HOME_PARENT", "home folder"),
    (".", "site root"),
    ("ROOT_PARENT", "site root"),
    ("site", "output folder"),
    ("site/www", "inside the output folder"),
    ("content", "content folder"),
    ("content/posts", "inside the content folder"),
    ("static", "static folder"),
    ("layouts", "layouts folder"),
])
@pytest.mark.parametrize("kind", ["dir", "rsync"])
def test_dangerous_targets_are_refused_before_anything_happens(tmp_path, capsys, monkeypatch, path, reason, kind):
    home = tmp_path / "home" / "me"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    path = path.replace("HOME_PARENT", str(home.parent)).replace("ROOT_PARENT", str(tmp_path / "p"))
    key = "path" if kind == "dir" else "dest"
    config = _config(tmp_path / "p", f"deploy:\n  - name: bad\n    type: {kind}\n    {key}: {path}\n")
    root = config.parent
    before = tree(tmp_path)
    built = []
    monkeypatch.setitem(sys.modules, "repost.build", types.SimpleNamespace(build_site=lambda *a, **k: built.append(1)))
    code, _, err = deploy(capsys, config, build=True)
    assert code == 1, err
    assert reason.replace("path", key) in err and "refusing" in err and "deploy target 'bad'" in err
    assert err.count("\n") == 1
    assert built == []  # not even the build ran
    assert tree(tmp_path) == before
    assert root.is_dir()


def test_a_sibling_folder_of_the_output_inside_the_site_root_is_allowed(tmp_path, capsys):
    config = _config(tmp_path, "deploy:\n  - {name: ok, type: dir, path: public}\n")
    assert deploy(capsys, config)[0] == 0
    assert (config.parent / "public" / "index.html").is_file()


def test_missing_or_empty_output_is_refused(tmp_path, capsys):
    config = make_project(tmp_path, f"deploy:\n  - {{name: d, type: dir, path: {tmp_path / 'www'}}}\n", site={})
    (config.parent / "site").mkdir()
    code, _, err = deploy(capsys, config)
    assert code == 1 and "site/ is empty" in err
    (config.parent / "site").rmdir()
    code, _, err = deploy(capsys, config)
    assert code == 1 and "site/ does not exist" in err
    assert not (tmp_path / "www").exists()


def test_symlinks_in_the_site_are_not_deployed(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    config = make_project(tmp_path, f"deploy:\n  - {{name: d, type: dir, path: {tmp_path / 'www'}}}\n")
    (config.parent / "site" / "leak.txt").symlink_to(secret)
    code, _, err = deploy(capsys, config)
    assert code == 0 and "leak.txt: not a regular file" in err
    assert not (tmp_path / "www" / "leak.txt").exists()


# --- the build gate (B11 #67) -----------------------------------------------------------------

def test_a_failed_build_deploys_nothing(tmp_path, capsys, monkeypatch):
    www = tmp_path / "www"
    config = _config(tmp_path, f"deploy:\n  - {{name: d, type: dir, path: {www}}}\n")

    def broken_build(config, **kwargs):
        raise ContentError(config.root / "content/posts/bad.md", 3, "front matter: bad date")

    monkeypatch.setitem(sys.modules, "repost.build", types.SimpleNamespace(build_site=broken_build))
    code, _, err = deploy(capsys, config, build=True)
    assert code == 1 and "bad.md:3: front matter: bad date" in err
    assert not www.exists()


def test_a_build_that_reports_errors_deploys_nothing(tmp_path, capsys, monkeypatch):
    www = tmp_path / "www"
    config = _config(tmp_path, f"deploy:\n  - {{name: d, type: dir, path: {www}}}\n")
    result = types.SimpleNamespace(errors=[ContentError("content/posts/x.md", 1, "broken")])
    monkeypatch.setitem(sys.modules, "repost.build", types.SimpleNamespace(build_site=lambda c, **k: result))
    code, _, err = deploy(capsys, config, build=True)
    assert code == 1 and "x.md:1: broken" in err and "nothing was deployed" in err
    assert not www.exists()


def test_the_build_runs_first_unless_no_build(tmp_path, capsys, monkeypatch):
    www = tmp_path / "www"
    config = _config(tmp_path, f"deploy:\n  - {{name: d, type: dir, path: {www}}}\n")
    calls = []

    def build(config, **kwargs):
        calls.append(kwargs)
        (config.paths.output / "built.html").write_text("fresh", encoding="utf-8")
        return types.SimpleNamespace(errors=[])

    monkeypatch.setitem(sys.modules, "repost.build", types.SimpleNamespace(build_site=build))
    assert deploy(capsys, config, build=True)[0] == 0
    assert len(calls) == 1 and "ui" in calls[0]
    assert (www / "built.html").read_text(encoding="utf-8") == "fresh"
    assert deploy(capsys, config)[0] == 0
    assert len(calls) == 1


def test_plan_summary():
    plan = Plan(("a",), ("b", "c"), (), 7)
    assert plan.changes == 3
    assert plan.summary() == "1 to upload, 2 to update, 0 to delete, 7 unchanged"


# --- end to end through the real build --------------------------------------------------------

_HAS_BUILD = importlib.util.find_spec("repost.build") is not None

POST = """---
title: Hello deploy
slug: hello-deploy
date: 2026-11-27T13:20:00+08:00
---
Body of the post.
"""


@pytest.mark.skipif(not _HAS_BUILD, reason="repost.build is not written yet")
def test_cli_builds_then_deploys_end_to_end(tmp_path):
    root = tmp_path / "blog"
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "hello-deploy.md").write_text(POST, encoding="utf-8")
    www = tmp_path / "www"
    (root / "config.yaml").write_text(
        f"title: T\nbase_url: https://example.com/\ndeploy:\n  - {{name: d, type: dir, path: {www}}}\n",
        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    run = lambda *a: subprocess.run([sys.executable, "-m", "repost", "deploy", *a], cwd=root, env=env,
                                    capture_output=True, text=True, timeout=120)
    proc = run("--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "dry run" in proc.stdout and not www.exists()
    proc = run()
    assert proc.returncode == 0, proc.stderr
    deployed = {p.relative_to(www).as_posix() for p in www.rglob("*") if p.is_file()}
    built = {p.relative_to(root / "site").as_posix() for p in (root / "site").rglob("*") if p.is_file()}
    assert built and deployed == built | {".repost-deploy.json"}
    assert any("Hello deploy" in (www / rel).read_text(encoding="utf-8", errors="replace")
               for rel in deployed if rel.endswith(".html"))
    proc = run()
    assert proc.returncode == 0 and "nothing to do" in proc.stdout
    (root / "content" / "posts" / "hello-deploy.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    before = tree(www)
    proc = run()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert tree(www) == before
