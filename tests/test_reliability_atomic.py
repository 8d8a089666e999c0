"""RELIABILITY B6 (rows 36, 37) with real signals: Ctrl-C and kill during a build, and a read-only
output. test_write.py covers injected exceptions, ENOSPC, EXDEV, SIGKILL and the refusals."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, build, make_site, post, tree_hashes
from repost.cli import main
from repost.swap import OLD_PREFIX, TEMP_PREFIX

# Runs `repost build` in a child that pauses (and says so) after writing its second file.
PAUSING_BUILD = (
    "import sys, time\n"
    "import repost.write as w\n"
    "real, n = w._write_new, []\n"
    "def slow(path, data):\n"
    "    real(path, data); n.append(1)\n"
    "    if len(n) == 2:\n"
    "        print('writing', flush=True); time.sleep(60)\n"
    "w._write_new = slow\n"
    "from repost.cli import main\n"
    "sys.exit(main(['build']))\n"
)


def _edited_site(tmp_path: Path) -> tuple[Path, dict]:
    root = make_site(tmp_path / "root", {f"content/posts/p{i}.md": post(f"Old {i}", date=f"2026-01-0{i + 1}T10:00:00+08:00")
                                         for i in range(4)})
    build(root)
    (root / "site/.git").mkdir()
    (root / "site/.git/HEAD").write_text("ref: refs/heads/gh-pages\n")
    (root / "site/CNAME").write_text("blog.example\n")
    for i in range(4):
        (root / f"content/posts/p{i}.md").write_text(post(f"New {i}", date=f"2026-01-0{i + 1}T10:00:00+08:00"), encoding="utf-8")
    return root, tree_hashes(root / "site")


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith((TEMP_PREFIX, OLD_PREFIX)))


def _interrupt(root: Path, sig: int) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-c", PAUSING_BUILD], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.timeout(60)
def test_ctrl_c_mid_write_keeps_the_old_site_cleans_up_and_says_interrupted(tmp_path):
    root, before = _edited_site(tmp_path)
    done = _interrupt(root, signal.SIGINT)
    assert done.returncode == 130 and "interrupted" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert tree_hashes(root / "site") == before and _leftovers(root) == []
    build(root)
    assert (root / "site/posts/new-0/index.html").is_file() and not (root / "site/posts/old-0").exists()
    assert (root / "site/CNAME").read_text() == "blog.example\n" and (root / "site/.git/HEAD").is_file()


@pytest.mark.timeout(60)
def test_kill_mid_write_keeps_the_old_site_and_the_next_build_recovers(tmp_path):
    root, before = _edited_site(tmp_path)
    done = _interrupt(root, signal.SIGTERM)
    assert done.returncode == -signal.SIGTERM
    assert tree_hashes(root / "site") == before
    assert all(name.startswith(TEMP_PREFIX) for name in _leftovers(root))  # at most a clearly named temp folder
    build(root)
    assert _leftovers(root) == [] and (root / "site/posts/new-3/index.html").is_file()
    assert (root / "site/CNAME").read_text() == "blog.example\n"


@pytest.mark.parametrize("code,words", [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")])
def test_read_only_output_is_a_clear_error_naming_the_path(tmp_path, capsys, monkeypatch, code, words):
    root, before = _edited_site(tmp_path)
    real_mkdir = os.mkdir

    def refusing(path, *args, **kwargs):
        if Path(path).name.startswith(TEMP_PREFIX) or TEMP_PREFIX in str(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refusing)
    exit_code = main(["--config", str(root / "config.yaml"), "build"])
    err = capsys.readouterr().err
    assert exit_code == 1 and "cannot write" in err and words in err and "Traceback" not in err, err
    assert str(root) in err.replace("\n", "")
    assert tree_hashes(root / "site") == before and _leftovers(root) == []


@pytest.mark.parametrize("code", [errno.EACCES, errno.EBUSY])
def test_output_that_cannot_be_replaced_is_kept(tmp_path, capsys, monkeypatch, code):
    import repost.swap as swap

    root, before = _edited_site(tmp_path)

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "rename", refuse)
    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(swap, "exchange", lambda a, b: refuse())
    exit_code = main(["--config", str(root / "config.yaml"), "build"])
    err = capsys.readouterr().err
    assert exit_code == 1 and "cannot replace the output folder" in err and "Traceback" not in err, err
    assert tree_hashes(root / "site") == before and _leftovers(root) == []


def test_a_failure_moving_cname_never_loses_the_git_folder(tmp_path, capsys, monkeypatch):
    root, before = _edited_site(tmp_path)
    real_rename = os.rename

    def cname_busy(src, dst, *args, **kwargs):
        if Path(src).name == "CNAME" and Path(src).parent == root / "site":
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", cname_busy)
    assert main(["--config", str(root / "config.yaml"), "build"]) == 1
    assert "cannot replace the output folder" in capsys.readouterr().err
    assert tree_hashes(root / "site") == before and (root / "site/.git/HEAD").is_file() and _leftovers(root) == []
