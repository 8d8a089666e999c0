"""`repost init DIR`: a new site that builds at once, with a copy of the default theme to edit.

The theme comes from package data through importlib.resources, so it works from a wheel too.
"""
from __future__ import annotations

from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from repost.errors import UsageError
from repost.ui import UI

CONFIG = """\
# Site settings: see the README's config reference. Unknown keys are errors.
title: My Repost Notes
description: Articles worth reading again, with their authors' names on them.
base_url: https://example.com/
language: {language}
author: null
timezone: {timezone}
permalink: /posts/{{slug}}/
slug: pinyin
paginate: 10
feeds:
  limit: 20
policy:
  require_attribution: true
  publish_pending: true
"""

SAMPLE_POST = """\
---
title: Hello, repost
date: {date}
tags: [meta]
---
This is your first post. Put raw dumps (text copied from a browser, or saved HTML pages) into
`content/raw/` and run `repost import`: each becomes a Markdown post in `content/posts/` with its
author, platform, original link and copyright notice in the front matter.

<!--more-->

Then `repost build` writes the site into `site/`, and `repost serve` previews it with live reload.
The templates in `layouts/` are a copy of the default theme: edit them freely.
"""

ABOUT = """\
---
title: About
---
Who curates this site, and how to ask for a repost to be taken down.
"""


def command(config, args, ui: UI) -> int:
    """Create DIR (or fill an empty one); refuse a folder that already has files."""
    target = Path(args.dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target}: folder is not empty; choose a new or empty folder")
    init_site(target)
    ui.info(f"created a new site in {target}/ - next: cd {target} && repost build")
    return 0


def init_site(target: Path, *, language: str = "en", tz: str = "UTC") -> None:
    """Write config, content folders, a sample post and page, and the default templates."""
    for sub in ("content/posts", "content/pages", "content/raw", "static", "layouts"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    (target / "config.yaml").write_text(CONFIG.format(language=language, timezone=tz), encoding="utf-8")
    now = datetime.now(timezone.utc).replace(microsecond=0, second=0)
    (target / "content/posts/hello-repost.md").write_text(SAMPLE_POST.format(date=now.isoformat()), encoding="utf-8")
    (target / "content/pages/about.md").write_text(ABOUT, encoding="utf-8")
    (target / ".gitignore").write_text("/site/\n.repost-cache/\n.repost-build-*/\n", encoding="utf-8")
    _copy_tree(resources.files("repost") / "theme" / "templates", target / "layouts")


def _copy_tree(source, dest: Path) -> None:
    """Copy a package-data folder (an importlib.resources Traversable) to disk."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(source.iterdir(), key=lambda t: t.name):
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            _copy_tree(item, dest / item.name)
        else:
            (dest / item.name).write_bytes(item.read_bytes())
