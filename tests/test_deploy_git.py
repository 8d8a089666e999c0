"""The git target against throwaway local bare repositories, with the real git (B11 #66)."""
from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from deploy_support import FakeStdin, deploy_without_a_terminal, fake_ssh, SITE, deploy, make_project, tree, write_tree

from repost import deploy_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path, monkeypatch):
    """No machine-wide git config leaks in; a known identity unless a test removes it."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Tester\n\temail = tester@example.com\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    return gitconfig


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _bare(tmp_path, name="pages.git"):
    path = tmp_path / name
    git("init", "-q", "--bare", "-b", "main", str(path))
    return path


def _setup(tmp_path, extra: str = "", repo=None):
    bare = _bare(tmp_path)
    config = make_project(tmp_path, f"deploy:\n  - {{name: pages, type: git, repo: {repo or bare}{extra}}}\n")
    return config, config.parent / "site", bare


def _files(bare, ref="gh-pages") -> set[str]:
    return set(git("ls-tree", "-r", "--name-only", ref, cwd=bare).splitlines())


def _refs(bare) -> str:
    return git("for-each-ref", cwd=bare)


def test_first_deploy_creates_the_branch_with_nojekyll_and_cname(tmp_path, capsys):
    config, site, bare = _setup(tmp_path, ", cname: blog.example.com, message: publish")
    code, out, err = deploy(capsys, config)
    assert code == 0, err
    assert "6 to upload, 0 to update, 0 to delete, 0 unchanged" in out  # 4 site files + .nojekyll + CNAME
    assert _files(bare) == set(SITE) | {".nojekyll", "CNAME"}
    assert git("show", "gh-pages:CNAME", cwd=bare) == "blog.example.com"
    assert git("show", "gh-pages:index.html", cwd=bare) == SITE["index.html"]
    assert git("log", "--format=%s|%an", "gh-pages", cwd=bare) == "publish|Tester"


def test_rerun_without_changes_makes_no_empty_commit(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    deploy(capsys, config)
    head = git("rev-parse", "gh-pages", cwd=bare)
    code, out, _ = deploy(capsys, config)
    assert code == 0 and "0 to upload, 0 to update, 0 to delete, 5 unchanged" in out and "nothing to do" in out
    assert git("rev-parse", "gh-pages", cwd=bare) == head


def test_changes_commit_on_top_of_existing_history(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    other = tmp_path / "other"  # the branch already has history made elsewhere
    git("init", "-q", "-b", "gh-pages", str(other))
    write_tree(other, {"old.txt": "from before", "index.html": "old index"})
    git("add", "-A", cwd=other)
    git("commit", "-q", "-m", "earlier", cwd=other)
    git("push", "-q", str(bare), "gh-pages", cwd=other)
    first = git("rev-parse", "gh-pages", cwd=bare)
    code, out, _ = deploy(capsys, config, "-v")
    assert code == 0
    assert "4 to upload, 1 to update, 1 to delete, 0 unchanged" in out and "- old.txt" in out
    assert git("rev-parse", "gh-pages^", cwd=bare) == first
    assert "old.txt" not in _files(bare)
    (site / "feed.xml").unlink()
    (site / "index.html").write_text("new index", encoding="utf-8")
    code, out, _ = deploy(capsys, config)
    assert "0 to upload, 1 to update, 1 to delete, 3 unchanged" in out
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "3"
    assert _files(bare) == set(SITE) - {"feed.xml"} | {".nojekyll"}


def test_dry_run_changes_nothing_in_the_target(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    before = tree(bare)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "5 to upload" in out and "dry run" in out
    assert tree(bare) == before
    deploy(capsys, config)
    (site / "index.html").write_text("changed", encoding="utf-8")
    before = tree(bare)
    code, out, _ = deploy(capsys, config, "--dry-run")
    assert code == 0 and "0 to upload, 1 to update, 0 to delete, 4 unchanged" in out
    assert tree(bare) == before


def _source_repo(root, branch="main"):
    git("init", "-q", "-b", branch, str(root))
    (root / ".gitignore").write_text("site/\n", encoding="utf-8")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "source", cwd=root)


def test_the_users_work_tree_and_index_are_never_touched(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    root = config.parent
    _source_repo(root)
    (root / "content" / "draft.md").write_text("work in progress", encoding="utf-8")
    git("add", "content/draft.md", cwd=root)  # something staged, and the work tree is dirty
    index = hashlib.sha256((root / ".git" / "index").read_bytes()).hexdigest()
    status, head, before = git("status", "--porcelain", cwd=root), git("rev-parse", "HEAD", cwd=root), tree(root)
    assert deploy(capsys, config)[0] == 0
    assert hashlib.sha256((root / ".git" / "index").read_bytes()).hexdigest() == index
    assert git("status", "--porcelain", cwd=root) == status and git("rev-parse", "HEAD", cwd=root) == head
    assert {k: v for k, v in tree(root).items() if not k.startswith(".git/")} == \
           {k: v for k, v in before.items() if not k.startswith(".git/")}
    assert git("branch", "--list", cwd=root) == "* main"


def test_refuses_the_branch_the_source_is_on(tmp_path, capsys):
    config, site, bare = _setup(tmp_path, ", branch: main")
    root = config.parent
    _source_repo(root)
    git("remote", "add", "origin", str(bare), cwd=root)
    code, _, err = deploy(capsys, config)
    assert code == 1 and "refusing to deploy onto 'main', the branch the source" in err
    assert _refs(bare) == ""
    config.write_text(config.read_text(encoding="utf-8").replace(str(bare), "."), encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "the branch the source" in err
    assert git("log", "--format=%s", cwd=root) == "source"


def test_deploying_onto_another_branch_of_the_source_repo_itself_is_fine(tmp_path, capsys):
    config = make_project(tmp_path, "deploy:\n  - {name: pages, type: git, repo: .}\n")
    root = config.parent
    _source_repo(root)
    status = git("status", "--porcelain", cwd=root)
    assert deploy(capsys, config)[0] == 0
    assert "index.html" in _files(root)
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=root) == "main"
    assert git("status", "--porcelain", cwd=root) == status


def test_refuses_a_local_work_tree_that_has_the_branch_checked_out(tmp_path, capsys):
    work = tmp_path / "pages"
    git("init", "-q", "-b", "gh-pages", str(work))
    config = make_project(tmp_path, f"deploy:\n  - {{name: pages, type: git, repo: {work}}}\n")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "checked out in the work tree" in err
    assert list(work.iterdir()) == [work / ".git"]


def test_refuses_when_the_output_is_tracked_with_uncommitted_changes(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    root = config.parent
    git("init", "-q", "-b", "main", str(root))
    git("add", "-A", cwd=root)  # site/ tracked in the source branch
    git("commit", "-q", "-m", "source with output", cwd=root)
    (site / "index.html").write_text("rebuilt", encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and "uncommitted changes" in err
    assert _refs(bare) == ""
    git("commit", "-q", "-am", "commit the output", cwd=root)
    assert deploy(capsys, config)[0] == 0


def test_no_force_push_unless_force(tmp_path, capsys, monkeypatch):
    config, site, bare = _setup(tmp_path)
    deploy(capsys, config)
    (site / "index.html").write_text("mine", encoding="utf-8")
    real_fetch = deploy_git._fetch
    racer = tmp_path / "racer"
    git("clone", "-q", "-b", "gh-pages", str(bare), str(racer))

    def fetch_then_someone_pushes(job, branch, env):
        head = real_fetch(job, branch, env)
        (racer / "theirs.txt").write_text(f"theirs {len(git('log', '--oneline', cwd=racer))}", encoding="utf-8")
        git("add", "-A", cwd=racer)
        git("commit", "-q", "-m", "theirs", cwd=racer)
        git("push", "-q", "origin", "gh-pages", cwd=racer)
        return head

    monkeypatch.setattr(deploy_git, "_fetch", fetch_then_someone_pushes)
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1
    assert "push to" in err and "[rejected]" in err and "--force overwrites it" in err and "nothing was changed" in err
    theirs = git("rev-parse", "gh-pages", cwd=bare)
    assert git("log", "-1", "--format=%s", theirs, cwd=bare) == "theirs"
    code, _, err = deploy(capsys, config, "--force")
    assert code == 0, err
    assert git("show", "gh-pages:index.html", cwd=bare) == "mine"


def test_a_rejecting_hook_and_an_unreachable_repo_are_one_clear_line(tmp_path, capsys):
    config, site, bare = _setup(tmp_path)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'quota exceeded' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1 and "deploy target 'pages' (git): push to" in err
    assert "quota exceeded" in err and "--force" not in err
    assert _refs(bare) == ""
    config.write_text(config.read_text(encoding="utf-8").replace(str(bare), str(tmp_path / "missing.git")),
                      encoding="utf-8")
    code, _, err = deploy(capsys, config)
    assert code == 1 and err.count("\n") == 1 and "cannot read" in err and "not appear to be a git repo" in err


def test_a_file_url_is_treated_as_a_remote(tmp_path, capsys):
    bare = _bare(tmp_path, "remote.git")
    config = make_project(tmp_path, f"deploy:\n  - {{name: pages, type: git, repo: 'file://{bare}'}}\n")
    assert deploy(capsys, config)[0] == 0
    assert "index.html" in _files(bare)


def test_commits_without_a_configured_identity(tmp_path, capsys, _isolated_git):
    _isolated_git.write_text("", encoding="utf-8")
    config, site, bare = _setup(tmp_path)
    assert deploy(capsys, config)[0] == 0
    assert git("log", "--format=%an <%ae>", "gh-pages", cwd=bare) == "repost <repost@localhost>"


@pytest.mark.parametrize("extra, message", [
    (", branch: 'bad..name'", "not a valid branch name"),
    (", cname: 'evil.com\nX: y'", "not a host name"),
])
def test_bad_branch_or_cname_is_refused(tmp_path, capsys, extra, message):
    config, site, bare = _setup(tmp_path, extra.replace("\n", "\\n").replace("'", '"'))
    code, _, err = deploy(capsys, config)
    assert code == 1 and message in err
    assert _refs(bare) == ""




def _fake_ssh(tmp_path, monkeypatch):
    deploy_git._configured_ssh.cache_clear()
    return fake_ssh(tmp_path, monkeypatch)


def test_an_ssh_remote_without_a_terminal_uses_batch_ssh_and_fails_in_one_line(tmp_path, capsys, monkeypatch):
    deploy_git._configured_ssh.cache_clear()
    code, err, args = deploy_without_a_terminal(
        tmp_path, capsys, monkeypatch, "deploy:\n  - {name: pages, type: git, repo: 'git@example.invalid:me/blog.git'}\n")
    assert code == 1 and err.count("\n") == 1 and "Permission denied" in err
    assert "BatchMode=yes" in args and "git@example.invalid" in args


@pytest.mark.parametrize("tty, own, batch", [(False, None, True), (True, None, False), (False, "ssh -i key", False)])
def test_batch_ssh_only_when_nobody_can_answer_and_ssh_is_ours_to_choose(tmp_path, monkeypatch, tty, own, batch):
    _fake_ssh(tmp_path, monkeypatch)
    monkeypatch.setattr("sys.stdin", FakeStdin(tty))
    if own:
        monkeypatch.setenv("GIT_SSH_COMMAND", own)
    env = deploy_git._env({})
    assert (env.get("GIT_SSH_COMMAND") == "ssh -o BatchMode=yes -o ConnectTimeout=20") is batch
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_a_configured_core_sshcommand_is_left_alone(tmp_path, monkeypatch, _isolated_git):
    _fake_ssh(tmp_path, monkeypatch)
    monkeypatch.setattr("sys.stdin", FakeStdin(False))
    _isolated_git.write_text("[core]\n\tsshCommand = ssh -i ~/.ssh/deploy_key\n", encoding="utf-8")
    assert "GIT_SSH_COMMAND" not in deploy_git._env({})
