"""HTTP-level tests of the preview server (RELIABILITY B8 #46-49, B9 #51-58), with fake builds.

Requests go over raw sockets so that paths reach the server byte for byte (no client-side
normalisation of `..` or `//`).
"""
from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from repost.config import parse_config
from repost.errors import ContentError, ErrorList
from repost.livereload import EVENTS_PATH
from repost.serve import LiveServer, start
from repost.ui import UI
from serve_support import FIXTURE, POST, atomic_save, start_fixture_site

pytestmark = pytest.mark.timeout(60)

SENTINEL = "SENTINEL-must-never-be-served"
PAGES = {
    "index.html": "<!doctype html><html><head><link rel=stylesheet href=/style.css></head><body><h1>Home</h1></body></html>",
    "posts/hello/index.html": "<!doctype html><html><body><p>Hello post</p></body></html>",
    "style.css": "body { color: black }",
    "404.html": "<!doctype html><html><body><h1>Lost in the reposts</h1></body></html>",
    "evil.com/x/index.html": "<html><body>local folder named evil.com</body></html>",
    ".env": SENTINEL,
    ".git/config": SENTINEL,
}


def capture_ui() -> UI:
    return UI(out=Console(file=io.StringIO(), width=200), err=Console(file=io.StringIO(), width=200))


def said(ui: UI) -> str:
    return ui.out.file.getvalue() + ui.err.file.getvalue()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    for rel, text in PAGES.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SENTINEL)
    (tmp_path / "site-leak").mkdir()
    (tmp_path / "site-leak" / "secret").write_text(SENTINEL)
    (out / "link.txt").symlink_to(tmp_path / "secret.txt")
    (out / "linkdir").symlink_to(tmp_path / "site-leak")
    (out / "inside.txt").symlink_to(out / "style.css")
    return out


def serve(root: Path, **kw) -> LiveServer:
    srv = LiveServer(root, port=0, ui=kw.pop("ui", None) or capture_ui(), **kw)
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    return srv


@pytest.fixture
def server(site: Path):
    srv = serve(site)
    yield srv
    srv.stop()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes = field(repr=False, default=b"")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send_raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def parse(raw: bytes) -> Response:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Response(status, headers, body, raw)


def get(srv: LiveServer, path: str, host: str | None = "localhost", method: str = "GET", extra: str = "") -> Response:
    host_line = f"Host: {host}\r\n" if host is not None else ""
    req = f"{method} {path} HTTP/1.1\r\n{host_line}Connection: close\r\n{extra}\r\n"
    return parse(send_raw(srv.port, req.encode("latin-1")))


# --- binding and Host guard (B9 #55, #56) -------------------------------------------------
def test_default_bind_is_loopback(site):
    srv = LiveServer(site)
    try:
        assert srv.socket.getsockname()[0] == "127.0.0.1"
        assert srv.url.startswith("http://127.0.0.1:")
    finally:
        srv.server_close()


class FakeSite:
    """Stands in for watch.SiteBuild: records batches, returns a result with `changed`."""

    def __init__(self, config, changed=("index.html",)):
        self.config, self.changed, self.calls = config, list(changed), []

    def __call__(self, changes=()):
        self.calls.append(frozenset(changes))
        return Result(self.changed)


@dataclass
class Result:
    changed: list
    removed: list = field(default_factory=list)


def test_binding_elsewhere_warns_and_loopback_does_not(tmp_path, site):
    config = parse_config("", tmp_path)
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        ui = capture_ui()
        session = start(config, host=host, port=0, ui=ui, site=FakeSite(config))
        try:
            assert ("warning" in said(ui)) is warned
        finally:
            session.close()


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "evil.example:80",
                                  "127.0.0.1.nip.io", "localhost:abc", "[::1", ""])
def test_foreign_host_header_is_400(server, host):
    r = get(server, "/", host=host)
    assert r.status == 400
    assert b"Home" not in r.body


def test_missing_host_header_is_400(server):
    assert get(server, "/", host=None).status == 400


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "[::1]", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}"])
def test_loopback_host_headers_are_allowed(server, host):
    r = get(server, "/", host=host.format(port=server.port))
    assert r.status == 200 and b"Home" in r.body


def test_wildcard_bind_allows_ip_literals_but_not_names(site):
    srv = serve(site, host="0.0.0.0")
    try:
        assert get(srv, "/", host=f"192.168.1.20:{srv.port}").status == 200
        assert get(srv, "/", host="evil.example").status == 400
    finally:
        srv.stop()


# --- static files and traversal (B9 #51-54, #57) --------------------------------------------
PROBES = [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
    "/..%2fsecret.txt", "/.%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/posts/../../secret.txt",
    "/..\\secret.txt", "/%5c..%5csecret.txt", "/\\..\\secret.txt", "//evil.com/..%2f..%2fsecret.txt",
    "/%c0%ae%c0%ae/secret.txt", "/%c0%ae%c0%ae%c0%afsecret.txt", "/%e0%80%ae%e0%80%ae/secret.txt",
    "/../site-leak/secret", "/..%2fsite-leak%2fsecret", "/%2e%2e/site-leak/secret",
    "/link.txt", "/linkdir/secret", "/linkdir/", "/.env", "/.git/config", "/%2eenv", "/.git/",
    "/posts/%00/index.html", "/%0d%0aSet-Cookie:x", "/.repost/client.js", "/.repost/",
]


@pytest.mark.parametrize("probe", PROBES)
def test_traversal_probes_never_leak(server, probe):
    r = get(server, probe)
    assert r.status in (400, 404), r
    assert SENTINEL.encode() not in r.raw
    assert not r.headers.get("location", "").startswith(("//", "/\\"))
    assert get(server, "/").status == 200  # still serving


def test_symlink_inside_root_pointing_inside_is_served(server):
    r = get(server, "/inside.txt")
    assert r.status == 200 and b"color: black" in r.body


def test_directory_redirect_keeps_the_same_origin(server):
    r = get(server, "/posts/hello")
    assert r.status == 301 and r.headers["location"] == "/posts/hello/"
    r = get(server, "/posts/hello?x=1")
    assert r.headers["location"] == "/posts/hello/?x=1"
    for path in ("//evil.com/x", "///evil.com/x", "//evil.com%2fx", "/%2fevil.com/x"):
        r = get(server, path)
        location = r.headers.get("location", "")
        assert not location.startswith(("//", "/\\")), (path, location)
        if r.status == 301:
            assert location == "/evil.com/x/"
    assert get(server, "/\\evil.com/x").status == 404


def test_missing_page_gets_the_sites_404_with_status_404(server):
    r = get(server, "/no/such/page/")
    assert r.status == 404
    assert b"Lost in the reposts" in r.body
    assert EVENTS_PATH.encode() in r.body  # reloads when the page appears


def test_missing_page_without_404_html(site):
    (site / "404.html").unlink()
    srv = serve(site)
    try:
        r = get(srv, "/nope")
        assert r.status == 404 and b"404 Not Found" in r.body
    finally:
        srv.stop()


def test_directory_without_index_is_404_not_a_listing(server, site):
    (site / "empty").mkdir()
    r = get(server, "/empty/")
    assert r.status == 404 and b"Lost" in r.body


# --- injection --------------------------------------------------------------------------------
def test_reload_client_is_injected_into_html_only_at_serve_time(server, site):
    r = get(server, "/")
    assert r.status == 200
    assert int(r.headers["content-length"]) == len(r.body)
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    body = r.text
    assert body.index(EVENTS_PATH) < body.index("</body>")
    assert EVENTS_PATH not in (site / "index.html").read_text()
    css = get(server, "/style.css")
    assert css.body == b"body { color: black }" and css.headers["content-type"].startswith("text/css")


def test_head_sends_headers_only(server):
    r = get(server, "/", method="HEAD")
    assert r.status == 200 and r.body == b"" and int(r.headers["content-length"]) > 0


def test_keep_alive_serves_two_requests_on_one_connection(server):
    req = b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(req)
        first = s.recv(65536)
        s.sendall(req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        second = b""
        while chunk := s.recv(65536):
            second += chunk
    assert b"200" in first.split(b"\r\n")[0] and b"200" in second.split(b"\r\n")[0]


# --- robustness (B9 #58) ---------------------------------------------------------------------
MALFORMED = [
    b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n", b"\x00\xff\xfe\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost localhost\r\n\r\n",
    b"GET /%zz%c3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
]


@pytest.mark.parametrize("request_bytes", MALFORMED)
def test_malformed_requests_are_harmless(server, request_bytes):
    try:
        reply = send_raw(server.port, request_bytes)
    except ConnectionError:
        reply = b""
    assert SENTINEL.encode() not in reply
    if reply.startswith(b"HTTP/"):
        assert parse(reply).status >= 400
    elif reply:  # an HTTP/0.9-style request gets a bare error page
        assert re.search(rb"Error code: [45]\d\d", reply)
    assert get(server, "/").status == 200
    assert "Traceback" not in said(server.ui)


def test_client_disconnecting_mid_response_is_harmless(site):
    (site / "big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    ui = capture_ui()
    srv = serve(site, ui=ui)
    try:
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            s.recv(1000)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # RST while the server is still writing
        assert get(srv, "/").status == 200
        time.sleep(0.2)
        assert "warning" not in said(ui) and "error" not in said(ui)
    finally:
        srv.stop()


def test_fifty_slow_clients_do_not_block_others(server):
    slow = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET /posts/hello/ HTTP/1.1\r\nHo")  # and then nothing, for now
            slow.append(s)
        assert get(server, "/").status == 200
        for s in slow:
            s.sendall(b"st: localhost\r\nConnection: close\r\n\r\n")
        for s in slow:
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
            assert parse(reply).status == 200 and b"Hello post" in reply
    finally:
        for s in slow:
            s.close()


# --- builds, events, overlay (B8 #46, #48, #49) -------------------------------------------------
class SSE:
    """A minimal EventSource: reads `event:`/`id:` blocks from the stream."""

    def __init__(self, srv: LiveServer, version: str = "", last_id: str | None = None):
        before = srv.streams
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        extra = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        self.sock.sendall(f"GET {EVENTS_PATH}?v={version} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n".encode())
        self.file = self.sock.makefile("rb")
        status = self.file.readline()
        assert b" 200 " in status, status
        while self.file.readline() not in (b"\r\n", b""):
            pass
        for _ in range(500):  # attached: later builds are streamed, not compared on connect
            if srv.streams > before:
                break
            time.sleep(0.01)

    def next(self) -> tuple[str, str]:
        """The next (event, id), skipping retry lines and pings."""
        event, ident = "", ""
        while True:
            raw = self.file.readline()
            if not raw:
                raise EOFError
            line = raw.decode().rstrip("\r\n")
            if not line and event:
                return event, ident
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("id: "):
                ident = line[4:]

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def page_version(srv: LiveServer, path: str = "/") -> str:
    body = get(srv, path).text
    return re.search(r'let version = "([^"]+)"', body).group(1)


def test_changed_build_sends_reload_css_only_sends_css_and_no_change_sends_nothing(server):
    sse = SSE(server, page_version(server))
    try:
        server.run_build(lambda: Result([]))  # no output change: nothing to tell
        server.run_build(lambda: Result(["style.css"]))
        assert sse.next() == ("css", server.version)
        server.run_build(lambda: Result(["posts/hello/index.html", "style.css"]))
        assert sse.next() == ("reload", server.version)
        server.run_build(lambda: Result([], removed=["old/index.html"]))
        assert sse.next() == ("reload", server.version)
    finally:
        sse.close()


def test_failed_build_shows_escaped_overlay_keeps_site_and_recovers(server, site):
    sse = SSE(server, page_version(server))
    try:
        bad = ErrorList([ContentError("content/posts/x.md", 3, "bad front matter <script>alert(1)</script>"),
                         ContentError("layouts/post.html", None, "unknown tag 'endfor'")])
        assert server.run_build(lambda: (_ for _ in ()).throw(bad)) is False
        assert sse.next()[0] == "reload"
        r = get(server, "/posts/hello/")
        assert r.status == 200 and b"Hello post" in r.body  # last good site still served
        assert 'id="repost-error-overlay"' in r.text
        assert "content/posts/x.md:3" in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert "<script>alert(1)" not in r.text and "layouts/post.html" in r.text
        assert 'repost-error-overlay' in get(server, "/nope").text  # on every page, 404 too
        assert server.run_build(lambda: (_ for _ in ()).throw(bad)) is False  # same error: no reload
        assert server.run_build(lambda: Result([])) is True  # fixed, even with no output change
        assert sse.next()[0] == "reload"
        assert "repost-error-overlay" not in get(server, "/posts/hello/").text
    finally:
        sse.close()


def test_a_bug_in_the_build_does_not_kill_the_server(server):
    def broken():
        raise ValueError("boom")

    assert server.run_build(broken) is False
    r = get(server, "/")
    assert r.status == 200 and "internal error: ValueError: boom" in r.text


def test_reconnect_to_a_restarted_server_reloads_once(site):
    first = serve(site)
    old = page_version(first)
    first.stop()
    second = serve(site)
    try:
        sse = SSE(second, old)  # EventSource reconnecting with the page's old version
        assert sse.next() == ("reload", second.version)
        sse.close()
        fresh = page_version(second)  # the reloaded page carries the new version...
        sse = SSE(second, fresh)
        second.run_build(lambda: Result(["index.html"]))
        assert sse.next() == ("reload", second.version)  # ...so the first event is the next build
        sse.close()
        sse = SSE(second, fresh, last_id=second.version)  # Last-Event-ID wins over ?v=
        second.run_build(lambda: Result(["style.css"]))
        assert sse.next() == ("css", second.version)
        sse.close()
    finally:
        second.stop()


def test_missed_updates_collapse_into_a_reload(server):
    sent = []
    done = threading.Event()

    def send(kind, version):
        sent.append(kind)
        if kind:
            done.set()

    t = threading.Thread(target=server.follow, args=(server.version, send), daemon=True)
    t.start()
    while server.streams == 0:
        time.sleep(0.01)
    with server._cond:  # two updates before the stream wakes: a css one hides a reload
        server._bump("reload")
        server._bump("css")
        server._cond.notify_all()
    assert done.wait(5)
    assert [k for k in sent if k] == ["reload"]
    server.stop()


def test_request_during_a_build_waits_for_it(server, site):
    started, release = threading.Event(), threading.Event()

    def slow_build():
        (site / "posts/hello/index.html").write_text("<html><body>HALF")
        started.set()
        release.wait(10)
        (site / "posts/hello/index.html").write_text("<html><body><p>New complete post</p></body></html>")
        return Result(["posts/hello/index.html"])

    builder = threading.Thread(target=server.run_build, args=(slow_build,))
    builder.start()
    assert started.wait(5)
    replies = []
    reader = threading.Thread(target=lambda: replies.append(get(server, "/posts/hello/")))
    reader.start()
    time.sleep(0.3)
    release.set()
    reader.join(10)
    builder.join(10)
    assert replies and replies[0].status == 200
    assert b"New complete post" in replies[0].body and b"HALF" not in replies[0].body


def test_events_stream_ends_when_the_server_stops(site):
    srv = serve(site)
    sse = SSE(srv, page_version(srv))
    srv.stop()
    with pytest.raises((EOFError, ConnectionError, OSError)):
        while True:
            sse.next()
    sse.close()


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


def test_base_path_of_base_url_is_served(site):
    srv = serve(site, mount="/blog/")
    try:
        assert b"Hello post" in get(srv, "/blog/posts/hello/").body
        assert get(srv, "/blog/posts/hello").headers["location"] == "/blog/posts/hello/"
        assert b"Home" in get(srv, "/blog/").body and b"Home" in get(srv, "/").body
        assert SENTINEL.encode() not in get(srv, "/blog/../secret.txt").raw
    finally:
        srv.stop()


def test_closed_event_streams_free_their_threads_without_waiting_for_a_build(server):
    streams = [SSE(server, page_version(server)) for _ in range(10)]
    assert server.streams == 10
    for sse in streams:
        sse.close()
    for _ in range(500):
        if server.streams == 0:
            break
        time.sleep(0.01)
    assert server.streams == 0


def test_live_real_build_writing_its_output_does_not_trigger_itself(live):
    sse = SSE(live.server, page_version(live.server))
    try:
        live.write("content/posts/first-post.md", POST.format(body="One edit, one build."))
        assert sse.next()[0] == "reload"
    finally:
        sse.close()
    time.sleep(2)  # a self-triggered build would have run by now
    assert said(live.ui).count("built in") == 2  # the first build and the edit's
