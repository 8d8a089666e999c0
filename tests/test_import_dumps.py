"""The importer against the real dumps in ../shared/dumps, graded as that folder's expected.yaml says.

The dumps are read in place (never copied into the repository); the test is skipped when the
folder is absent. Run `python tests/test_import_dumps.py` to print the figures per case.
"""
from __future__ import annotations

import html
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

if __name__ == "__main__":  # run as a script from anywhere: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repost.config import parse_config
from repost.importer import import_dump, load_packs

DUMPS = Path(os.environ.get("REPOST_SHARED_DUMPS") or Path(__file__).resolve().parents[1].parent / "shared" / "dumps")
EXPECTED = DUMPS / "expected.yaml"
NOW = datetime(2026, 11, 27, 5, 20, tzinfo=timezone.utc)


def norm(text: str) -> str:
    """Whitespace- and markup-insensitive form, as the grading conventions say."""
    text = html.unescape(text or "")
    text = re.sub(r"(?m)^\s{0,3}(?:>\s?)*(?:[-+*]|\d{1,9}[.)])\s+", "", text)  # block markers: list, quote
    text = re.sub(r"(?m)^\s{0,3}>\s?", "", text)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~])", r"\1", text)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    text = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    return re.sub(r"[\s\u3000\u00a0]+", " ", text).strip()


def blocks_of(body: str) -> list[str]:
    """Markdown blocks: blank-line separated, a fenced code block counts as one."""
    out, cur, fence = [], [], None
    for line in body.split("\n"):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence:
            cur.append(line)
            if m and m.group(1)[0] == fence[0]:
                fence = None
            continue
        if m:
            fence = m.group(1)
            cur.append(line)
            continue
        if re.match(r"^\s{0,3}#{1,6}\s", line):
            if cur:
                out.append("\n".join(cur))
            out.append(line)
            cur = []
        elif line.strip():
            cur.append(line)
        elif cur:
            out.append("\n".join(cur))
            cur = []
    if cur:
        out.append("\n".join(cur))
    return out


def _is_heading(block: str) -> bool:
    return bool(re.match(r"^\s{0,3}#{1,6}\s", block))


def _is_image(block: str) -> bool:
    return not norm(re.sub(r"!\[[^\]]*\]\([^)]*\)", "", block)) and "![" in block


def _heading_text(block: str) -> str:
    return norm(re.sub(r"^\s{0,3}#{1,6}\s+", "", block))


def _listed(block: str, items: list[str]) -> bool:
    """A block listed as may-precede/may-follow: it contains (or is part of) a listed text."""
    text = norm(block)
    return not text or any(norm(i) in text or text in norm(i) for i in items)


def evaluate(case: dict, result) -> list[tuple[str, bool, str]]:
    """Every check of one case: (name, passed, detail)."""
    fm, body = result.front_matter, result.body
    src = fm["source"]
    nbody = norm(body)
    checks: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append((name, bool(ok), detail))

    check("platform", src["platform"] == case["platform"], f"{src['platform']!r}")
    check("title", norm(fm["title"]) == norm(case["title"]), f"{fm['title']!r}")
    if "site_name" in case:
        check("site_name", (src["site_name"] or None) == case["site_name"], f"{src['site_name']!r}")
    check("author", (src["author"] or None) == case["author"], f"{src['author']!r}")
    check("source_url", (src["url"] or None) == case["source_url"], f"{src['url']!r}")
    check("publish_date", (str(src["published"]) if src["published"] else None) == case["publish_date"], f"{src['published']!r}")
    want_c = case["copyright"]
    check("copyright", norm(fm["copyright"] or "") == norm(want_c or "") if want_c else fm["copyright"] is None,
          f"{fm['copyright']!r}")
    if want_c:
        check("copyright not in body", norm(want_c) not in nbody)
    blocks = blocks_of(body)
    skip_first = case.get("may_precede_first_paragraph") or []
    first = next((b for b in blocks if not _is_heading(b) and not _is_image(b) and not _listed(b, skip_first)), "")
    check("first_paragraph", norm(first).startswith(norm(case["first_paragraph"])), norm(first)[:60])
    skip_last = (case.get("may_follow_last_paragraph") or []) + (case.get("optional_boilerplate") or [])
    last = next((b for b in reversed(blocks) if not _is_image(b) and not _listed(b, skip_last)), "")
    check("last_paragraph", norm(last).endswith(norm(case["last_paragraph"])), norm(last)[-60:])
    for s in case.get("must_not_contain") or []:
        check(f"must_not_contain {s[:30]}", norm(s) not in nbody)
    for s in case.get("must_contain") or []:
        check(f"must_contain {s[:30]}", norm(s) in nbody)
    headings = [_heading_text(b) for b in blocks if _is_heading(b)]
    for h in case.get("headings") or []:
        if case.get("headings_strict"):
            check(f"heading {h[:20]}", norm(h) in headings)
        else:
            check(f"heading text {h[:20]}", norm(h) in nbody or norm(h).replace(" ", "") in nbody.replace(" ", ""))
    for h in case.get("not_headings") or []:
        check(f"not heading {h[:20]}", norm(h) not in headings)
    for url in case.get("images") or []:
        check(f"image {url[-25:]}", html.unescape(url) in html.unescape(body))
    return checks


def _cases() -> list[dict]:
    if not EXPECTED.is_file():
        return []
    return yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))["cases"]


def convert(path: Path, tmp: Path):
    """Import one dump the way the graders do (fixed clock, the site's default packs)."""
    config = parse_config("timezone: Asia/Shanghai\n", tmp)
    return import_dump(path, load_packs(config), config, now=NOW)


def run_case(case: dict, tmp: Path):
    return convert(DUMPS / case["file"], tmp)


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="../shared/dumps is not present")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dump_case(case, tmp_path):
    result = run_case(case, tmp_path)
    failed = [(n, d) for n, ok, d in evaluate(case, result) if not ok]
    assert not failed, f"{case['id']}: {failed}"


@pytest.mark.skipif(not CASES, reason="../shared/dumps is not present")
def test_dump_figures(tmp_path, capsys):
    """The overall figure: how many checks pass, printed for the report."""
    passed, total = tally(CASES, run_case, tmp_path)
    with capsys.disabled():
        print(f"\nimporter vs ../shared/dumps: {passed}/{total} checks pass over {len(CASES)} dumps")
    assert passed / total >= 0.95


def tally(cases: list[dict], run, tmp_path: Path) -> tuple[int, int]:
    """(checks passed, checks in all) over `cases`, each converted by `run(case, tmp_path)`."""
    total = passed = 0
    for case in cases:
        checks = evaluate(case, run(case, tmp_path))
        total += len(checks)
        passed += sum(ok for _, ok, _ in checks)
    return passed, total


def list_figures(cases: list[dict], run, only: list[str]) -> None:
    """Print each case's figure and its failed checks (the `__main__` of the graded test files)."""
    import tempfile

    grand = grand_ok = 0
    for case in cases:
        if only and case["id"] not in only:
            continue
        checks = evaluate(case, run(case, Path(tempfile.mkdtemp())))
        ok = sum(c[1] for c in checks)
        grand, grand_ok = grand + len(checks), grand_ok + ok
        print(f"{case['id']}: {ok}/{len(checks)}")
        for name, good, detail in checks:
            if not good:
                print(f"   FAIL {name}: {detail}")
    print(f"total: {grand_ok}/{grand}")


if __name__ == "__main__":  # a per-case listing of the figures
    list_figures(CASES, run_case, sys.argv[1:])
