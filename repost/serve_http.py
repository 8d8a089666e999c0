"""The preview's HTTP server: the output folder's files, live-reload events, the error overlay.

Modelled on mkdocs' livereload, stdlib only. The server knows nothing of content; it runs a
`build` callable and looks at the result's `changed` paths to decide what open tabs do (reload,
swap stylesheets, nothing). Files are resolved at request time, through `serve_guard`, and
requests wait while a build runs, so nobody sees a half-built site. HTML responses get the reload
script (and the error overlay of a failed build) from `livereload` as they are served. Each server
start draws a new token, so a tab reconnecting after a restart sees a different version and
reloads once, then carries the new version.
"""
from __future__ import annotations

import mimetypes
import os
import secrets
import select
import shutil
import socket
import socketserver
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote

from repost.errors import RepostError
from repost.livereload import EVENTS_PATH, describe, inject
from repost.serve_guard import WILDCARD_HOSTS, host_allowed, is_regular, locate, mount_segments, unmount, url_segments
from repost.ui import UI

HTML_SUFFIXES = (".html", ".htm")
BUILD_WAIT = 10.0  # seconds a request waits for a running build before serving what is there
PING_EVERY = 15.0
CHECK_EVERY = 0.5  # how often an idle event stream checks that its client is still there
NOT_FOUND_PAGE = b"<!doctype html><meta charset=utf-8><title>404 Not Found</title><h1>404 Not Found</h1>\n"


@dataclass(frozen=True)
class Update:
    """One published build outcome that open tabs must act on."""

    serial: int
    kind: str  # "reload" | "css"


class LiveServer(ThreadingHTTPServer):
    """Static files from `root`, SSE live reload, the error overlay. State lives here, not globally."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 makes a burst of tabs wait for SYN retries

    def __init__(self, root: str | Path, *, host: str = "127.0.0.1", port: int = 0, ui: UI | None = None,
                 mount: str = "/"):
        self.root = Path(root)
        self.mount = mount_segments(mount)  # base_url's path: /blog/x is served from root/x
        self.ui = ui or UI(quiet=True)
        self.bind_host = host
        self.token = secrets.token_hex(4)
        self.update = Update(0, "reload")
        self.errors: tuple[tuple[str, str], ...] = ()
        self.building = False
        self.stopping = False
        self.serving = False
        self.streams = 0  # open event streams
        self._cond = threading.Condition()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can stall startup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.bind_host, self.socket.getsockname()[1]

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    @property
    def url(self) -> str:
        host = "localhost" if self.bind_host in WILDCARD_HOSTS else self.bind_host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    @property
    def version(self) -> str:
        return f"{self.token}.{self.update.serial}"

    # -- builds ------------------------------------------------------------------------------
    def run_build(self, build: Callable[[], Any]) -> bool:
        """Run one build; requests wait meanwhile. Publish what open tabs should do. Never raises
        for a failed build: its errors go to the overlay and the last good output stays served."""
        with self._cond:
            self.building = True
        changed: list[str] = []
        errors: list[tuple[str, str]] | None = None
        start = time.perf_counter()
        try:
            result = build()
            changed = [*(getattr(result, "changed", None) or ()), *(getattr(result, "removed", None) or ())]
        except RepostError as exc:
            errors = describe(exc)
        except Exception as exc:  # a bug in the build must not take the preview down
            errors = [("", f"internal error: {type(exc).__name__}: {exc}")]
            if self.ui.debug:
                traceback.print_exc()
        finally:
            with self._cond:
                self.building = False
                self._publish(changed, errors)
                self._cond.notify_all()
        ms = (time.perf_counter() - start) * 1000
        for where, message in errors or ():
            self.ui.error(f"{where}: {message}" if where else message)
        if errors is None:
            self.ui.info(f"built in {ms:.0f} ms, {len(changed)} file(s) changed")
        return errors is None

    def _publish(self, changed: list[str], errors: list[tuple[str, str]] | None) -> None:
        had_errors = bool(self.errors)
        if errors is not None:
            if tuple(errors) != self.errors:
                self.errors = tuple(errors)
                self._bump("reload")
            return
        self.errors = ()
        if had_errors:
            self._bump("reload")
        elif changed:
            self._bump("css" if all(p.endswith(".css") for p in changed) else "reload")

    def _bump(self, kind: str) -> None:
        self.update = Update(self.update.serial + 1, kind)

    def wait_idle(self, timeout: float = BUILD_WAIT) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self.building or self.stopping, timeout)

    def follow(self, seen: str, send: Callable[[str, str], None], alive: Callable[[], bool] = lambda: True) -> None:
        """Stream updates to one client until it goes away or the server stops. A client that
        saw another version (a newer build, or a previous server run) is told at once."""
        with self._cond:
            last, version = self.update, self.version
            self.streams += 1
        try:
            if seen and seen != version:
                token, _, serial = seen.partition(".")
                follows_on = token == self.token and serial == str(last.serial - 1)
                send(last.kind if follows_on else "reload", version)
            self._stream(last, send, alive)
        finally:
            with self._cond:
                self.streams -= 1

    def _stream(self, last: Update, send: Callable[[str, str], None], alive: Callable[[], bool]) -> None:
        idle = 0.0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self.update is not last or self.stopping, CHECK_EVERY)
                if self.stopping:
                    return
                update, version = self.update, self.version
            if update is last:
                if not alive():  # the tab closed or hid itself: free the thread now
                    return
                idle += CHECK_EVERY
                if idle >= PING_EVERY:
                    send("", "")  # a comment line keeps proxies and idle timers quiet
                    idle = 0.0
                continue
            kind = update.kind if update.serial == last.serial + 1 else "reload"  # missed one: reload
            send(kind, version)
            last = update

    def serve_forever(self, poll_interval: float = 0.25) -> None:
        self.serving = True
        try:
            super().serve_forever(poll_interval)
        finally:
            self.serving = False

    def stop(self) -> None:
        """Wake every event stream, stop the accept loop (if running) and close the socket."""
        with self._cond:
            self.stopping = True
            self._cond.notify_all()
        if self.serving:
            self.shutdown()
        self.server_close()

    # -- requests ----------------------------------------------------------------------------
    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):  # a client went away: not our problem
            self.ui.detail(f"{client_address[0]}: {type(exc).__name__}")
            return
        self.ui.warn(f"request from {client_address[0]} failed: {type(exc).__name__}: {exc}")
        if self.ui.debug:
            traceback.print_exc()


def content_type(path: Path) -> str:
    """The Content-Type of a file; text types are declared UTF-8 rather than left to the browser's guess."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    textual = kind.startswith("text/") or kind in ("application/javascript", "application/json", "application/xml")
    return f"{kind}; charset=utf-8" if textual else kind


class Handler(BaseHTTPRequestHandler):
    server: LiveServer
    protocol_version = "HTTP/1.1"
    server_version = "repost"
    sys_version = ""
    timeout = 60

    def do_GET(self) -> None:
        self.respond(head=False)

    def do_HEAD(self) -> None:
        self.respond(head=True)

    def respond(self, head: bool) -> None:
        if not host_allowed(self.headers.get("Host"), self.server.bind_host):
            self.close_connection = True
            return self.send_bytes(400, b"Bad Host header\n", "text/plain; charset=utf-8", head)
        raw, _, query = self.path.partition("#")[0].partition("?")  # never urlsplit: //host/ is a path
        if raw == EVENTS_PATH:
            return self.events(query)
        requested = url_segments(raw)
        segments = unmount(requested, self.server.mount)
        self.server.wait_idle()
        update_version, errors = self.server.version, self.server.errors  # before reading files
        real = None if segments is None else locate(self.server.root, segments)
        if real is not None and real.is_dir():
            if not raw.endswith("/"):
                location = "/" + "".join(quote(s) + "/" for s in requested) + (f"?{query}" if query else "")
                self.send_response(301)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            real = locate(self.server.root, [*segments, "index.html"])
        if real is None or not is_regular(real):
            return self.not_found(head, update_version, errors)
        self.send_file(200, real, head, update_version, errors)

    def not_found(self, head: bool, version: str, errors: tuple) -> None:
        page = locate(self.server.root, ["404.html"])
        if page is not None and is_regular(page):
            return self.send_file(404, page, head, version, errors)
        self.send_bytes(404, inject(NOT_FOUND_PAGE, version, errors), "text/html; charset=utf-8", head)

    def send_file(self, status: int, path: Path, head: bool, version: str, errors: tuple) -> None:
        try:
            f = open(path, "rb")
        except OSError:
            return self.send_bytes(404, NOT_FOUND_PAGE, "text/html; charset=utf-8", head)
        with f:
            if path.suffix.lower() in HTML_SUFFIXES:
                return self.send_bytes(status, inject(f.read(), version, errors), "text/html; charset=utf-8", head)
            self.send_response(status)
            self._headers(content_type(path), os.fstat(f.fileno()).st_size)
            if not head:
                shutil.copyfileobj(f, self.wfile)

    def send_bytes(self, status: int, body: bytes, kind: str, head: bool) -> None:
        self.send_response(status)
        self._headers(kind, len(body))
        if not head:
            self.wfile.write(body)

    def _headers(self, kind: str, length: int) -> None:
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()

    def events(self, query: str) -> None:
        """The SSE stream. EventSource resends the last event id on reconnect, so a tab that
        swapped stylesheets does not reload when it reconnects."""
        seen = self.headers.get("Last-Event-ID") or parse_qs(query).get("v", [""])[0]
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()

        def send(kind: str, version: str) -> None:
            data = f"event: {kind}\nid: {version}\ndata: {version}\n\n" if kind else ": ping\n\n"
            self.wfile.write(data.encode())
            self.wfile.flush()

        try:
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            self.server.follow(seen, send, self.client_alive)
        except (ConnectionError, TimeoutError):
            pass

    def client_alive(self) -> bool:
        """An EventSource never sends after its request, so a readable socket means EOF or reset."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except (OSError, ValueError):
            return False

    def log_message(self, format: str, *args: Any) -> None:
        self.server.ui.detail(f"{self.address_string()} {format % args}")
