"""`repost import` as a batch and a command: what is written, what is never touched, exit codes."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from repost.config import parse_config
from repost.importer import import_paths
from repost.importer.emit import written_by_importer

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "content" / "raw" / "jianshu-12306.txt"
SEED_SLUG = "12306-jie-ru-wei-xin-zhi-fu-le-bei-hou-geng-da-de-gu-shi-shi-shen-me"
NOW = datetime(2026, 11, 27, 5, 20, tzinfo=timezone.utc)


def _site(tmp_path: Path, extra: str = "") -> Path:
    site = tmp_path / "site"
    (site / "content" / "raw").mkdir(parents=True)
    (site / "content" / "posts").mkdir()
    (site / "config.yaml").write_text("title: t\ntimezone: Asia/Shanghai\n" + extra, encoding="utf-8")
    shutil.copy(SEED, site / "content" / "raw" / SEED.name)
    return site


def _config(site: Path):
    return parse_config((site / "config.yaml").read_text(encoding="utf-8"), site)


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_seed_is_imported_into_posts(tmp_path):
    site = _site(tmp_path)
    raw_before = _tree(site / "content" / "raw")
    summary = import_paths(_config(site), None, now=NOW)
    post = site / "content" / "posts" / f"{SEED_SLUG}.md"
    assert summary.imported == 1 and summary.written == [post]
    assert sorted(_tree(site / "content" / "posts")) == [f"{SEED_SLUG}.md"]
    text = post.read_text(encoding="utf-8")
    assert 'from: "raw/jianshu-12306.txt"' in text
    assert written_by_importer(text) is True
    assert _tree(site / "content" / "raw") == raw_before  # raw dumps are never modified


def test_reimport_of_unchanged_dump_is_a_noop(tmp_path):
    site = _site(tmp_path)
    import_paths(_config(site), None, now=NOW)
    before = _tree(site / "content")
    summary = import_paths(_config(site), None, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert (summary.imported, summary.unchanged) == (0, 1)
    assert summary.written == []
    assert _tree(site / "content") == before


def test_changed_dump_updates_post_but_keeps_slug_and_date(tmp_path):
    site = _site(tmp_path)
    import_paths(_config(site), None, now=NOW)
    raw = site / "content" / "raw" / SEED.name
    raw.write_text(raw.read_text(encoding="utf-8").replace("派爷", "派爷们"), encoding="utf-8")
    summary = import_paths(_config(site), None, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert summary.imported == 1
    text = (site / "content" / "posts" / f"{SEED_SLUG}.md").read_text(encoding="utf-8")
    assert "派爷们" in text and "date: 2026-11-27T13:20:00+08:00" in text


def test_hand_edited_post_is_not_overwritten_without_force(tmp_path):
    site = _site(tmp_path)
    import_paths(_config(site), None, now=NOW)
    post = site / "content" / "posts" / f"{SEED_SLUG}.md"
    post.write_text(post.read_text(encoding="utf-8").replace("tags: []", "tags: [微信支付]"), encoding="utf-8")
    edited = post.read_bytes()
    raw = site / "content" / "raw" / SEED.name
    raw.write_text(raw.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    summary = import_paths(_config(site), None, now=NOW)
    assert summary.skipped == 1 and "edited by hand" in summary.outcomes[0].message
    assert post.read_bytes() == edited
    forced = import_paths(_config(site), None, now=NOW, force=True)
    assert forced.imported == 1 and "tags: []" in post.read_text(encoding="utf-8")


def test_duplicate_article_is_skipped(tmp_path):
    """B4-28: a second dump of the same article (same words, other bytes) is reported and skipped."""
    site = _site(tmp_path)
    copy = site / "content" / "raw" / "again.txt"
    copy.write_bytes(b"\xef\xbb\xbf" + SEED.read_bytes().replace(b"\n", b"\r\n"))
    summary = import_paths(_config(site), None, now=NOW)
    assert (summary.imported, summary.skipped) == (1, 1)
    assert "duplicate" in [o for o in summary.outcomes if o.status == "skipped"][0].message
    assert len(list((site / "content" / "posts").glob("*.md"))) == 1


def test_same_title_other_article_gets_a_free_slug(tmp_path):
    site = _site(tmp_path)
    other = site / "content" / "raw" / "other.txt"
    other.write_text(SEED.read_text(encoding="utf-8").split("\n")[0] + "\n\n完全不同的一段正文，讲的是另一件事。\n", encoding="utf-8")
    summary = import_paths(_config(site), None, now=NOW)
    names = sorted(p.name for p in (site / "content" / "posts").glob("*.md"))
    assert summary.imported == 2 and names == [f"{SEED_SLUG}-2.md", f"{SEED_SLUG}.md"]


def test_dry_run_writes_nothing(tmp_path):
    site = _site(tmp_path)
    summary = import_paths(_config(site), None, dry_run=True, now=NOW)
    assert summary.imported == 1 and summary.written == []
    assert list((site / "content" / "posts").iterdir()) == []
    assert summary.outcomes[0].result.text.startswith("---\n")


def test_failures_are_counted_and_the_rest_continues(tmp_path):
    site = _site(tmp_path)
    raw = site / "content" / "raw"
    (raw / "empty.txt").write_bytes(b"")
    (raw / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (raw / ".hidden.txt").write_text("ignored", encoding="utf-8")
    (raw / "notes.txt~").write_text("editor backup", encoding="utf-8")
    summary = import_paths(_config(site), None, now=NOW)
    assert (summary.imported, summary.failed) == (1, 2)
    assert sorted(Path(e.path).name for e in summary.errors) == ["empty.txt", "picture.txt"]


def test_symlinks_are_not_followed(tmp_path):
    site = _site(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("SENTINEL-SECRET\n\nThis text must never be imported as an article here.\n", encoding="utf-8")
    (site / "content" / "raw" / "link.txt").symlink_to(secret)
    warnings: list[str] = []
    summary = import_paths(_config(site), None, now=NOW)
    assert summary.imported == 1
    assert any("symlink" in w for w in summary.warnings + warnings)
    for post in (site / "content" / "posts").glob("*.md"):
        assert "SENTINEL-SECRET" not in post.read_text(encoding="utf-8")


def test_slug_never_escapes_posts(tmp_path):
    site = _site(tmp_path)
    (site / "content" / "raw" / "evil.txt").write_text("../../etc/passwd\n\n正文在这里，标题想逃出文件夹。\n", encoding="utf-8")
    import_paths(_config(site), None, now=NOW)
    posts = (site / "content" / "posts").resolve()
    for path in (site).rglob("*.md"):
        assert path.resolve().parent == posts
    assert not (tmp_path / "etc").exists()


def test_files_named_explicitly_and_dump_outside_content(tmp_path):
    site = _site(tmp_path)
    outside = tmp_path / "elsewhere" / "note.md"
    outside.parent.mkdir()
    outside.write_text("---\ntitle: 自带标题\ntags: [a]\n---\n正文第一段，来自一个 Markdown 文件。\n", encoding="utf-8")
    summary = import_paths(_config(site), [outside], now=NOW)
    assert summary.imported == 1
    text = summary.written[0].read_text(encoding="utf-8")
    assert 'title: "自带标题"' in text and 'tags: ["a"]' in text and 'from: "note.md"' in text


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repost.cli", "import", *args], cwd=site, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"})


def test_cli_reports_and_exit_codes(tmp_path):
    site = _site(tmp_path)
    done = _cli(site, "-v")
    assert done.returncode == 0, done.stderr
    assert "jianshu" in done.stdout and "removed lines" in done.stdout and "1 imported" in done.stdout
    (site / "content" / "raw" / "bad.txt").write_bytes(b"\xff" * 100)
    done = _cli(site)
    assert done.returncode == 1
    assert "bad.txt" in done.stderr and "Traceback" not in done.stderr
    assert "1 unchanged" in done.stdout and "1 failed" in done.stdout


def test_cli_dry_run_prints_markdown(tmp_path):
    site = _site(tmp_path)
    done = _cli(site, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "slug: 12306-jie-ru" in done.stdout and "## 持久战" in done.stdout
    assert list((site / "content" / "posts").iterdir()) == []


def test_cli_unknown_platform_is_usage_error(tmp_path):
    site = _site(tmp_path)
    done = _cli(site, "--platform", "myspace")
    assert done.returncode == 2 and "unknown platform" in done.stderr


def test_cli_forced_platform(tmp_path):
    site = _site(tmp_path)
    done = _cli(site, "--platform", "generic", "--dry-run")
    assert done.returncode == 0 and "platform: unknown" in done.stdout


def test_cli_default_report_groups_what_was_stripped(tmp_path):
    """Without -v: one 'stripped:' line grouping removals by rule (counts, spans) and what went into the front
    matter; every removal with its text only with -v."""
    site = _site(tmp_path)
    done = _cli(site)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    stripped = [ln for ln in lines if ln.strip().startswith("stripped: ")]
    assert len(stripped) == 1, done.stdout
    assert "wechat.end-marker (line 33)" in stripped[0] and "jianshu.recommendation ×" in stripped[0]
    assert any(ln.strip().startswith("into front matter: line") for ln in lines), done.stdout
    assert any(ln.strip() == "copyright: ©著作权归作者所有,转载或内容合作请联系作者   [rule jianshu.notice (line 35)]"
               for ln in lines), done.stdout
    assert "removed line" not in done.stdout
    verbose = _cli(site, "-v", "--dry-run")
    assert "removed line 33 by wechat.end-marker: •END•" in verbose.stdout


def test_cli_dry_run_of_an_unchanged_dump_still_reports(tmp_path):
    site = _site(tmp_path)
    assert _cli(site).returncode == 0
    posts = _tree(site / "content" / "posts")
    done = _cli(site, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "unchanged since imported as" in done.stdout and "stripped: " in done.stdout
    assert f"slug: {SEED_SLUG}" in done.stdout and "1 unchanged" in done.stdout
    assert _tree(site / "content" / "posts") == posts


def test_cli_error_paths_one_line_each_and_counted(tmp_path):
    """A missing path, a binary file, an empty file and one over import.max_size: one line each naming the file,
    the good dump still imported, the summary counts them, exit 1 (content); an unknown platform is usage (2)."""
    site = _site(tmp_path, "import:\n  max_size: 20000\n")
    bad = site / "content" / "raw"
    (bad / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "huge.txt").write_text("标题\n\n" + "正文。" * 5000, encoding="utf-8")
    done = _cli(site, "content/raw", "missing.txt")
    assert done.returncode == 1
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 4 and "Traceback" not in done.stderr, done.stderr
    for name, says in (("blob.txt", "binary"), ("empty.txt", "empty"), ("huge.txt", "import.max_size"),
                       ("missing.txt", "no such file")):
        assert any(name in ln and says in ln for ln in errors), (name, errors)
    assert "1 imported, 0 unchanged, 0 skipped, 4 failed" in done.stdout
    assert (site / "content" / "posts" / f"{SEED_SLUG}.md").is_file()
    usage = _cli(site, "--platform", "nosuch")
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1 and "unknown platform 'nosuch'" in usage.stderr
