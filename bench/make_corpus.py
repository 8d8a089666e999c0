"""Generate a deterministic benchmark site: config + N posts with repost front matter.

    python bench/make_corpus.py N DIR

Each post is 1.5-4k characters of mixed Chinese and English Markdown (headings, paragraphs,
lists, links, inline and fenced code, a quote), tagged with 3 of 200 tags, dated across several
years, most of them reposts with full attribution; one in ten has a hand-placed `<!--more-->`
(its summary is rendered on its own). Post i depends only on i, so a 1,000-post corpus is the
first 1,000 posts of the 10,000-post one.
"""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

CONFIG = """title: 转载札记 · Bench
description: 认真署名的转载合集 —— a benchmark corpus.
base_url: https://bench.example/
language: zh-CN
author: Bench
timezone: Asia/Shanghai
permalink: /posts/{slug}/
slug: pinyin
paginate: 10
summary_length: 120
feeds:
  limit: 20
"""
ABOUT = """---
title: 关于 About
---
这是一个基准测试站点。This site exists to be built quickly.
"""
HAN = ("微信 支付 平台 用户 转载 作者 原文 链接 版权 文章 读者 整理 归档 出行 高峰 地铁 公交 城市 技术 "
       "市场 策略 合作 场景 领域 数据 产品 设计 系统 网络 安全 时间 问题 方法 经验 社区 开源 工具").split()
WORDS = ("the of and to in is that for it as with was on be by this are from at or an which have not "
         "repost curation attribution archive reader platform article author source notice build static "
         "site generator markdown template cache render output feed index page tag python server").split()
TAGS = [f"tag-{i:03}" for i in range(150)] + [f"标签{i:02}" for i in range(50)]
PLATFORMS = [("jianshu", "简书"), ("wechat", "微信公众号"), ("zhihu", "知乎"), ("csdn", "CSDN"),
             ("medium", "Medium"), ("wordpress", "WordPress")]
CODE = {
    "python": "def greet(name: str) -> str:\n    \"\"\"Say hello.\"\"\"\n    return f\"hello {name}\"\n\nprint(greet('world'))",
    "js": "function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}\nconsole.log(sum([1, 2, 3]));",
    "bash": "for f in *.md; do\n  echo \"$f\"\ndone",
    "": "plain text block\n  indented line",
}
START = datetime(2019, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def han_sentence(rnd: random.Random) -> str:
    return "".join(rnd.choice(HAN) for _ in range(rnd.randint(6, 14))) + rnd.choice("。,;!?") 


def en_sentence(rnd: random.Random) -> str:
    words = [rnd.choice(WORDS) for _ in range(rnd.randint(6, 16))]
    return " ".join(words).capitalize() + "."


def paragraph(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randint(2, 5)):
        parts.append(han_sentence(rnd) if rnd.random() < 0.6 else " " + en_sentence(rnd) + " ")
    text = "".join(parts).strip()
    if rnd.random() < 0.4:
        text += f" 参见 [{rnd.choice(HAN)}](https://example.com/{rnd.randrange(10**6)}) 和 `{rnd.choice(WORDS)}()`。"
    if rnd.random() < 0.2:
        text += f" **{rnd.choice(HAN)}** and *{rnd.choice(WORDS)}*."
    return text


def block(rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.12:
        return "\n".join(f"- {han_sentence(rnd)}" for _ in range(rnd.randint(2, 5)))
    if kind < 0.2:
        return "\n".join(f"{i}. {en_sentence(rnd)}" for i in range(1, rnd.randint(3, 5)))
    if kind < 0.27:
        lang = rnd.choice(list(CODE))
        return f"```{lang}\n{CODE[lang]}\n```"
    if kind < 0.32:
        return "> " + han_sentence(rnd) + en_sentence(rnd)
    return paragraph(rnd)


def body(rnd: random.Random, more: bool) -> str:
    target = rnd.randint(1500, 4000)
    out, size, heading = [], 0, 1
    while size < target:
        if size and rnd.random() < 0.12:
            text = f"## {heading}. {han_sentence(rnd)[:-1]} {rnd.choice(WORDS)}"
            heading += 1
        else:
            text = block(rnd)
        if more and size > target // 3 and "<!--more-->" not in out:
            out.append("<!--more-->")
        out.append(text)
        size += len(text)
    return "\n\n".join(out) + "\n"


def post(i: int) -> tuple[str, str]:
    """(file name, text) of post i; the same i always gives the same text."""
    rnd = random.Random(i * 7919 + 17)
    when = START + timedelta(hours=i * 5 + rnd.randrange(5), minutes=rnd.randrange(60))
    title = han_sentence(rnd)[:-1][:18] + f" {rnd.choice(WORDS)} {i}"
    tags = rnd.sample(TAGS, 3)
    lines = ["---", f'title: "{title}"', f"slug: post-{i:05}", f"date: {when.isoformat()}",
             "tags: [" + ", ".join(tags) + "]"]
    if rnd.random() < 0.8:
        platform, site_name = rnd.choice(PLATFORMS)
        lines += ["source:", f"  platform: {platform}", f'  site_name: "{site_name}"',
                  f'  author: "{rnd.choice(HAN)}{rnd.choice(HAN)}"',
                  f"  url: https://{platform}.example.com/p/{rnd.randrange(10**8)}",
                  f"  published: {(when - timedelta(days=rnd.randrange(1, 400))).isoformat()}",
                  '  title: "' + title + '"',
                  'copyright: "©著作权归作者所有,转载请联系作者"',
                  f"permission: {rnd.choice(['granted', 'public', 'licensed', 'pending'])}"]
    lines.append("---")
    return f"post-{i:05}.md", "\n".join(lines) + "\n" + body(rnd, more=i % 10 == 0)


def make_corpus(n: int, root: Path) -> None:
    """Write config.yaml, an about page and n posts under `root` (created if needed)."""
    posts = root / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    (root / "content" / "pages").mkdir(parents=True, exist_ok=True)
    (root / "content" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "content" / "pages" / "about.md").write_text(ABOUT, encoding="utf-8")
    for i in range(n):
        name, text = post(i)
        (posts / name).write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: python bench/make_corpus.py N DIR", file=sys.stderr)
        return 2
    make_corpus(int(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
