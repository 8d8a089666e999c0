"""Helpers shared by the server's HTTP tests and its browser tests: the fixture site, live."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from repost.config import load_config
from repost.serve import start
from repost.ui import UI

FIXTURE = Path(__file__).parent / "fixtures" / "serve"
POST = "---\ntitle: First post\nslug: first-post\ndate: 2026-01-02T10:00:00+08:00\n---\n{body}\n"


def atomic_save(root: Path, rel: str, text: str) -> None:
    """Save the way editors do: a temp file renamed over the original."""
    path = root / rel
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def start_fixture_site(tmp_path: Path, ui: UI):
    """A copy of the fixture site served on a free loopback port; returns (root, session)."""
    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    session = start(load_config(root / "config.yaml"), port=0, ui=ui)
    threading.Thread(target=session.server.serve_forever, args=(0.05,), daemon=True).start()
    return root, session
