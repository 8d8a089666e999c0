"""Helpers shared by the server's HTTP tests, its session tests and its browser tests: a raw HTTP
client and event-stream reader, fake build results, and the fixture site served live."""
from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from repost.config import load_config
from repost.livereload import EVENTS_PATH
from repost.serve import start
from repost.serve_http import LiveServer
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


def capture_ui() -> UI:
    return UI(out=Console(file=io.StringIO(), width=200), err=Console(file=io.StringIO(), width=200))


def said(ui: UI) -> str:
    return ui.out.file.getvalue() + ui.err.file.getvalue()


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


@dataclass
class Result:
    changed: list
    removed: list = field(default_factory=list)


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
