"""Process pools (`repost/parallel.py`): results, errors carried back, and the parent's own work."""
from __future__ import annotations

import os
import threading
import time

import pytest

from repost import parallel
from repost.errors import ContentError

pytestmark = pytest.mark.skipif(not parallel.worth_it(2, 1), reason="needs two cores and fork")


def _square(n: int) -> tuple[int, int]:
    if n == 13:
        raise ContentError("content/posts/13.md", 2, "unlucky")
    return n * n, os.getpid()


def test_every_item_once_in_forked_workers_and_errors_come_back_as_values():
    results = list(parallel.run(_square, list(range(40)), parallel=True, chunksize=4))
    failures = [r for r in results if isinstance(r, parallel.Failure)]
    values = sorted(r[0] for r in results if not isinstance(r, parallel.Failure))
    assert values == [n * n for n in range(40) if n != 13]
    assert os.getpid() not in {r[1] for r in results if not isinstance(r, parallel.Failure)}
    assert [str(f.error()) for f in failures] == ["content/posts/13.md:2: unlucky"]


def test_the_parents_meanwhile_work_runs_in_a_thread_and_is_over_when_run_ends():
    seen: list[str] = []

    def meanwhile():
        time.sleep(0.2)  # longer than the jobs: run must still wait for it
        seen.append(threading.current_thread().name)

    results = list(parallel.run(_square, [1, 2, 3], parallel=True, meanwhile=meanwhile))
    assert len(results) == 3 and seen == ["repost-meanwhile"]


def test_nothing_runs_meanwhile_when_nothing_is_forked():
    seen: list[int] = []
    results = list(parallel.run(_square, [1, 2], parallel=False, meanwhile=lambda: seen.append(1)))
    assert [r[0] for r in results] == [1, 4] and seen == []
