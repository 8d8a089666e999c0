"""Measure save-to-repaint latency of `repost serve` on an N-post site (default 1,000).

For each run: save a post (atomic rename, as editors do), then wait in a real browser (Debian's
chromium via Playwright) until the updated page is painted. The live-reload client usually puts
the new page in place without navigating; it then notes when the frame showing it was done
(`window.__repost.painted`, epoch ms: a message posted from the next animation frame). If it reloaded instead, the new
document's first-contentful-paint (`performance.timeOrigin + startTime`) counts. Latency = that
minus the save time (epoch ms, same machine clock). Prints the median; writes every sample to
bench/out/.

    python bench/serve_latency.py [--posts 1000] [--runs 15] [--keep DIR]

This measures, it asserts nothing: the target in issue 4 is a median under 300 ms.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402

from repost.config import load_config  # noqa: E402
from repost.serve import start  # noqa: E402
from repost.ui import UI  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WORDS = ("repost curation attribution archive reader platform article author source notice".split()
         + "转载 作者 原文 链接 版权 平台 文章 读者 整理 归档".split())
TAGS = [f"tag{i}" for i in range(20)] + ["微信支付", "支付宝", "读书笔记", "安全"]
CONFIG = """title: Latency Bench
base_url: https://bench.example/
language: zh-CN
author: Bench
timezone: Asia/Shanghai
paginate: 10
"""


def make_corpus(root: Path, posts: int, seed: int = 4) -> None:
    """A site with `posts` posts of a few mixed CJK/English paragraphs each."""
    rnd = random.Random(seed)
    (root / "content/posts").mkdir(parents=True)
    (root / "content/raw").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(posts):
        (root / "content/posts" / f"post-{i:04}.md").write_text(post_text(i, rnd, "original"), encoding="utf-8")


def post_text(i: int, rnd: random.Random, marker: str) -> str:
    paras = "\n\n".join(" ".join(rnd.choice(WORDS) for _ in range(60)) for _ in range(5))
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    tags = ", ".join(rnd.sample(TAGS, 2))
    return (f"---\ntitle: Post {i} 第{i}篇\nslug: post-{i:04}\ndate: 2025-{month:02}-{day:02}T10:00:00+08:00\n"
            f"tags: [{tags}]\n---\nMarker: {marker}.\n\n{paras}\n")


def save(path: Path, text: str) -> float:
    """Atomic save; returns the epoch ms just after the rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return time.time() * 1000


PAINTED = """() => {
  if (window.__benchSame) return window.__repost ? window.__repost.painted : null;  // updated in place
  const p = performance.getEntriesByName('first-contentful-paint')[0];  // a new document
  return p ? performance.timeOrigin + p.startTime : null;
}"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", metavar="DIR", help="build the corpus here and keep it")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="repost-latency-"))
    if root.exists() and any(root.iterdir()):
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    make_corpus(root, args.posts)
    log = io.StringIO()
    ui = UI(out=Console(file=log, width=200), err=Console(file=log, width=200))
    t0 = time.perf_counter()
    session = start(load_config(root / "config.yaml"), port=0, ui=ui)
    first_build = time.perf_counter() - t0
    threading.Thread(target=session.server.serve_forever, args=(0.05,), daemon=True).start()
    samples, overheads, swaps, rnd = [], [], 0, random.Random(7)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            target = root / "content/posts" / f"post-{args.posts // 2:04}.md"
            page.goto(f"{session.server.url}posts/post-{args.posts // 2:04}/")
            page.wait_for_load_state("load")
            for run in range(args.runs):
                seen = len(log.getvalue())
                marker = f"edit-{run}-{rnd.randrange(1 << 30)}"
                page.evaluate("window.__benchSame = true; window.__repost = null")
                saved = save(target, post_text(args.posts // 2, random.Random(run), marker))
                page.wait_for_function("m => document.body && document.body.innerText.includes(m)",
                                       arg=marker, timeout=60_000)
                painted = page.wait_for_function(PAINTED, timeout=60_000).json_value()
                swaps += bool(page.evaluate("!!window.__benchSame"))
                samples.append(painted - saved)
                built = sum(float(ms) for ms in re.findall(r"built in (\d+) ms", log.getvalue()[seen:]))
                overheads.append(painted - saved - built)  # debounce + update + paint: the server's share
                time.sleep(0.3)  # let the follow-up watcher events settle between runs
            browser.close()
    finally:
        session.close()
    builds = [float(ms) for ms in re.findall(r"built in (\d+) ms", log.getvalue())][1:]
    report = {
        "posts": args.posts, "runs": len(samples), "first_build_s": round(first_build, 2),
        "latency_ms": [round(s) for s in samples], "median_ms": round(statistics.median(samples)),
        "min_ms": round(min(samples)), "max_ms": round(max(samples)),
        "rebuild_ms_median": round(statistics.median(builds)) if builds else None,
        "overhead_ms": [round(o) for o in overheads], "overhead_ms_median": round(statistics.median(overheads)),
        "updated_in_place": swaps,
    }
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve_latency.json").write_text(json.dumps(report, indent=2))
    print(f"{args.posts} posts, {len(samples)} saves: save -> repaint median {report['median_ms']} ms "
          f"(min {report['min_ms']}, max {report['max_ms']}); rebuild median {report['rebuild_ms_median']} ms; "
          f"serve overhead (debounce + update + paint) median {report['overhead_ms_median']} ms; "
          f"{swaps} of {len(samples)} updated in place; "
          f"first build {report['first_build_s']} s")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
