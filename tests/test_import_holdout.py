"""The importer against held-out dumps it was not developed on: tests/fixtures/import/holdout/.

One realistic dump per file (whole-page copies, selections with copy attributions, saved pages),
at least two per platform of ../shared/PLATFORMS.md plus plain blogs, each with a sidecar
`<name>.expected.yaml` in the format of ../shared/dumps/expected.yaml, graded by the same code
as the real dumps (`test_import_dumps.evaluate`). The expectations say what a human wants from
the dump; they were written before the importer was run on it.
Run `python tests/test_import_holdout.py [id ...]` to list the failed checks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_import_dumps import convert, evaluate, list_figures, tally

HOLDOUT = Path(__file__).parent / "fixtures" / "import" / "holdout"


def _cases() -> list[dict]:
    cases = []
    for sidecar in sorted(HOLDOUT.glob("*.expected.yaml")):
        case = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        assert case["id"] == sidecar.name[: -len(".expected.yaml")], sidecar
        cases.append(case)
    return cases


CASES = _cases()


def run_case(case: dict, tmp: Path):
    return convert(HOLDOUT / case["file"], tmp)


def test_holdout_covers_every_platform():
    """At least two dumps per platform (zhihu: article and answer; csdn: original and repost), a plain blog,
    and saved pages for the platforms whose HTML form the importer must handle."""
    by_platform: dict[str, int] = {}
    for case in CASES:
        by_platform[case["platform"]] = by_platform.get(case["platform"], 0) + 1
    for platform in ("jianshu", "wechat", "zhihu", "csdn", "cnblogs", "juejin", "douban", "segmentfault",
                     "toutiao", "medium", "substack", "devto", "wordpress", "unknown"):
        assert by_platform.get(platform, 0) >= 2, platform
    html = {c["platform"] for c in CASES if c["format"] == "html"}
    assert {"wechat", "csdn", "toutiao", "wordpress", "medium"} <= html
    for case in CASES:
        assert (HOLDOUT / case["file"]).is_file(), case["file"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_holdout_case(case, tmp_path):
    result = run_case(case, tmp_path)
    failed = [(n, d) for n, ok, d in evaluate(case, result) if not ok]
    assert not failed, f"{case['id']}: {failed}"


def test_holdout_figures(tmp_path, capsys):
    passed, total = tally(CASES, run_case, tmp_path)
    with capsys.disabled():
        print(f"\nimporter vs held-out dumps: {passed}/{total} checks pass over {len(CASES)} dumps")
    assert passed == total


if __name__ == "__main__":
    list_figures(CASES, run_case, sys.argv[1:])
