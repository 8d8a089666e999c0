"""HTTP-level tests of the preview server (RELIABILITY B8 #46-49, B9 #51-58), with fake builds.

Requests go over raw sockets so that paths reach the server byte for byte (no client-side
normalisation of `..` or `//`). The session and `repost serve` against the real build are tested
in test_serve.py.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from repost.errors import ContentError, ErrorList
from repost.livereload import EVENTS_PATH
from repost.serve_http import LiveServer
from serve_support import SSE, Result, capture_ui, get, page_version, parse, said, send_raw

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


# --- binding and Host guard (B9 #55, #56) -------------------------------------------------
def test_default_bind_is_loopback(site):
    srv = LiveServer(site)
    try:
        assert srv.socket.getsockname()[0] == "127.0.0.1"
        assert srv.url.startswith("http://127.0.0.1:")
    finally:
        srv.server_close()



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
