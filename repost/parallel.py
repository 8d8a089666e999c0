"""Process pools for big builds: Markdown and pages rendered on every core.

Workers are forked, so they inherit the configuration, the site model and the compiled templates
without pickling them; they send back only results. A `ContentError` does not pickle, so workers
return it as a value and the parent raises it. Small batches run in-process: a pool costs about
as much as rendering a few dozen posts.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from typing import Any, Callable, Iterable, Iterator

from repost.errors import ContentError, raise_all

MIN_PARSE = 200  # files to parse before a pool pays off
MIN_RENDER = 400  # pages to render before a pool pays off

_job: Callable[[Any], Any] | None = None  # set in the parent just before forking


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def worth_it(count: int, minimum: int) -> bool:
    return count >= minimum and cores() > 1 and "fork" in multiprocessing.get_all_start_methods()


def run(job: Callable[[Any], Any], items: list, *, parallel: bool, chunksize: int | None = None,
        meanwhile: Callable[[], None] | None = None) -> Iterator[Any]:
    """`job(item)` for every item, in any order; in forked workers when `parallel`. `meanwhile`
    is work of the parent's that can run while it waits for its workers: in a thread started
    once they are forked (a fork must not copy a thread halfway), joined before `run` ends;
    it must not raise, and is skipped when nothing is forked."""
    if not parallel:
        for item in items:
            yield _call(job, item)
        return
    global _job
    _job = job
    gc.freeze()  # the workers' collector then never walks (nor copies the pages of) what they inherit
    thread = None
    try:
        with multiprocessing.get_context("fork").Pool(cores(), initializer=gc.enable) as pool:
            if meanwhile is not None:
                thread = threading.Thread(target=meanwhile, name="repost-meanwhile", daemon=True)
                thread.start()
            for result in pool.imap_unordered(_forked, items, chunksize or _chunk(len(items))):
                yield result
    finally:
        if thread is not None:
            thread.join()
        _job = None
        gc.unfreeze()


def _chunk(count: int) -> int:
    """Items per task: big enough that the parent's share (a message, a wake-up per task) stays
    small (16 a task cost the parent 1 s of CPU over 14,000 pages, 64 about 0.6 s), small enough
    that every worker gets sixteen tasks or more, so that none waits long for the last one."""
    return max(8, min(64, count // (cores() * 16)))


def _forked(item: Any) -> Any:
    return _call(_job, item)


def _call(job: Callable[[Any], Any], item: Any) -> Any:
    try:
        return job(item)
    except ContentError as exc:
        return Failure(str(exc.path) if exc.path is not None else None, exc.line, exc.message)


class Failure:
    """A ContentError carried back from a worker."""

    def __init__(self, path: str | None, line: int | None, message: str):
        self.path, self.line, self.message = path, line, message

    def error(self) -> ContentError:
        return ContentError(self.path, self.line, self.message)


def raise_failures(results: Iterable[Any]) -> None:
    raise_all([r.error() for r in results if isinstance(r, Failure)])
