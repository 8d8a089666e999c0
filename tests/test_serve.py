"""Tests of the preview session and `repost serve` (RELIABILITY B8 #46-49): a copy of the fixture
mini-site edited while served, the real build behind it, the command line. The HTTP server alone
(fake builds, traversal probes, malformed requests) is tested in test_serve_http.py.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from repost.config import parse_config
from repost.errors import ContentError
from repost.livereload import EVENTS_PATH
from repost.serve import start
from repost.serve_http import LiveServer
from repost.ui import UI
from serve_support import (FIXTURE, POST, SSE, Result, atomic_save, capture_ui, get, page_version, parse, said,
                           send_raw, start_fixture_site)

pytestmark = pytest.mark.timeout(60)


# --- binding ---------------------------------------------------------------------------------
class FakeSite:
    """Stands in for serve_build.SiteBuild: records batches, returns a result with `changed`."""

    def __init__(self, config, changed=("index.html",)):
        self.config, self.changed, self.calls = config, list(changed), []

    def __call__(self, changes=()):
        self.calls.append(frozenset(changes))
        return Result(self.changed)


def test_binding_elsewhere_warns_and_loopback_does_not(tmp_path):
    config = parse_config("", tmp_path)
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        ui = capture_ui()
        session = start(config, host=host, port=0, ui=ui, site=FakeSite(config))
        try:
            assert ("warning" in said(ui)) is warned
        finally:
            session.close()


# --- against the real build (the fixture mini-site) ---------------------------------------------
REPO = Path(__file__).resolve().parent.parent
LIVE_MARKERS = (EVENTS_PATH.encode(), b"EventSource", b"repost-error-overlay")


@dataclass
class Live:
    root: Path
    server: LiveServer
    ui: UI

    def write(self, rel: str, text: str) -> None:
        atomic_save(self.root, rel, text)


@pytest.fixture
def live(tmp_path):
    ui = capture_ui()
    root, session = start_fixture_site(tmp_path, ui)
    yield Live(root, session.server, ui)
    session.close()


def test_live_edit_reloads_and_serves_the_new_text(live):
    page = get(live.server, "/posts/first-post/")
    assert page.status == 200 and "The original first paragraph." in page.text
    sse = SSE(live.server, page_version(live.server, "/posts/first-post/"))
    try:
        live.write("content/posts/first-post.md", POST.format(body="An edited paragraph."))
        assert sse.next()[0] == "reload"
        assert "An edited paragraph." in get(live.server, "/posts/first-post/").text
    finally:
        sse.close()


def test_live_broken_front_matter_shows_overlay_then_recovers(live):
    sse = SSE(live.server, page_version(live.server))
    try:
        live.write("content/posts/first-post.md", "---\ntitle: [unclosed <script>\nslug: first-post\n---\nBroken.\n")
        assert sse.next()[0] == "reload"
        page = get(live.server, "/posts/first-post/")
        assert page.status == 200 and "The original first paragraph." in page.text  # last good build
        overlay = re.search(r'<div id="repost-error-overlay".*?</div>', page.text, re.S).group(0)
        assert "first-post.md:" in overlay and "<script>" not in overlay
        live.write("content/posts/first-post.md", POST.format(body="Fixed again."))
        assert sse.next()[0] == "reload"
        page = get(live.server, "/posts/first-post/")
        assert "Fixed again." in page.text and "repost-error-overlay" not in page.text
    finally:
        sse.close()
    assert "Traceback" not in said(live.ui)


def test_live_broken_config_keeps_serving_then_recovers(live):
    sse = SSE(live.server, page_version(live.server))
    try:
        good = (live.root / "config.yaml").read_text()
        live.write("config.yaml", good + "paginate: many\n")
        assert sse.next()[0] == "reload"
        page = get(live.server, "/")
        assert page.status == 200 and "config.yaml" in page.text and "repost-error-overlay" in page.text
        live.write("content/posts/first-post.md", POST.format(body="Edited while the config is broken."))
        live.write("config.yaml", good.replace("Live Preview Fixture", "Renamed Fixture"))
        assert sse.next()[0] == "reload"
        page = get(live.server, "/")
        assert "Renamed Fixture" in page.text and "repost-error-overlay" not in page.text
    finally:
        sse.close()


def test_live_stylesheet_edit_swaps_css_without_reload(live):
    from repost.render import theme_dir

    theme_css = (theme_dir() / "static/assets/style.css").read_text(encoding="utf-8")
    sse = SSE(live.server, page_version(live.server))
    try:
        live.write("static/assets/style.css", theme_css + "\nbody { outline: 1px solid red }\n")
        assert sse.next()[0] == "css"
        css = get(live.server, "/assets/style.css?repost=1")
        assert css.status == 200 and b"outline: 1px solid red" in css.body
    finally:
        sse.close()


def test_live_dropped_raw_dump_is_imported_and_listed(live):
    import shutil

    sse = SSE(live.server, page_version(live.server))
    try:
        shutil.copy(FIXTURE / "dropped-dump.txt", live.root / "content/raw/dropped-dump.txt")
        assert sse.next()[0] == "reload"
        assert "一篇刚刚放进来的转载" in get(live.server, "/").text
    finally:
        sse.close()


def test_live_output_never_contains_the_reload_client(live):
    for path in ("/", "/posts/first-post/", "/nope"):
        assert EVENTS_PATH in get(live.server, path).text  # served with the client...
    live.server.run_build(lambda: (_ for _ in ()).throw(ContentError("x.md", 1, "broken")))
    assert "repost-error-overlay" in get(live.server, "/").text
    for f in (live.root / "site").rglob("*"):  # ...but never written with it
        if f.is_file():
            assert not any(m in f.read_bytes() for m in LIVE_MARKERS), f


def test_repost_build_output_never_contains_the_reload_client(tmp_path):
    import shutil
    import subprocess
    import sys

    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "repost", "build"], cwd=root, env=env, check=True, capture_output=True)
    files = [f for f in (root / "site").rglob("*") if f.is_file()]
    assert any(f.name == "index.html" for f in files)
    for f in files:
        assert not any(m in f.read_bytes() for m in LIVE_MARKERS), f


def test_cli_serve_prints_url_serves_and_stops_on_ctrl_c(tmp_path):
    import shutil
    import signal
    import subprocess
    import sys

    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "repost", "serve", "--port", "0"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stdout:
            if m := re.search(r"serving (http://127\.0\.0\.1:(\d+)/)", line):
                url, port = m.group(1), int(m.group(2))
                break
        assert url, proc.stderr.read()
        reply = parse(send_raw(port, b"GET /posts/first-post/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
        assert reply.status == 200 and b"The original first paragraph." in reply.body
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out


def test_first_build_failing_still_serves_and_recovers(tmp_path):
    import shutil

    from repost.config import load_config

    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    post = root / "content/posts/first-post.md"
    good = post.read_text()
    post.write_text("---\ntitle: [broken\n---\n")
    session = start(load_config(root / "config.yaml"), port=0, ui=capture_ui())
    threading.Thread(target=session.server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        page = get(session.server, "/")
        assert page.status == 404 and "repost-error-overlay" in page.text and "first-post.md" in page.text
        sse = SSE(session.server, page_version(session.server))
        post.write_text(good)
        assert sse.next()[0] == "reload"
        sse.close()
        page = get(session.server, "/")
        assert page.status == 200 and "First post" in page.text and "repost-error-overlay" not in page.text
    finally:
        session.close()


def test_port_in_use_is_one_clear_error(tmp_path):
    import shutil
    import subprocess
    import sys

    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
        done = subprocess.run([sys.executable, "-m", "repost", "serve", "--port", str(port)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_live_real_build_writing_its_output_does_not_trigger_itself(live):
    sse = SSE(live.server, page_version(live.server))
    try:
        live.write("content/posts/first-post.md", POST.format(body="One edit, one build."))
        assert sse.next()[0] == "reload"
    finally:
        sse.close()
    time.sleep(2)  # a self-triggered build would have run by now
    assert said(live.ui).count("built in") == 2  # the first build and the edit's
