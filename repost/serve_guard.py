"""What a preview request may reach: the Host header guard, and URL paths mapped to files.

Both are the preview server's security rules, kept apart from the HTTP plumbing so they can be read
(and tested) on their own. The Host check stops DNS rebinding: a page on a foreign domain that
resolves to 127.0.0.1 must not read the preview. A request path is decoded strictly, dotfiles
and traversal are refused before the filesystem is touched, and the file found is checked, with
symlinks resolved, to lie inside the output folder.
"""
from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from urllib.parse import unquote

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def host_allowed(header: str | None, bind_host: str) -> bool:
    """DNS-rebinding guard: the Host header must name this machine's loopback or bound host.
    On a wildcard bind (LAN preview) IP literals pass too: rebinding needs a domain name."""
    host = split_host(header or "")
    if host is None:
        return False
    if host in LOOPBACK_HOSTS or host == _bracket(bind_host.lower()):
        return True
    if bind_host in WILDCARD_HOSTS:
        try:
            ipaddress.ip_address(host.strip("[]"))
            return True
        except ValueError:
            return False
    return False


def split_host(header: str) -> str | None:
    """`example.org:8000` -> `example.org`; None for anything malformed."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        host, rest = header[: end + 1], header[end + 1:]
        if end < 0:
            return None
    else:
        host, _, port = header.partition(":")
        rest = f":{port}" if _ else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return host or None


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """Whether a bind address keeps the preview on this machine (anything else gets a warning)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_segments(raw: str) -> list[str] | None:
    """Decode a request path into safe segments; None for traversal, dotfiles, backslashes,
    control characters or invalid (e.g. overlong) UTF-8."""
    if not raw.startswith("/"):
        return None
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in path or any(ord(c) < 32 or c == "\x7f" for c in path):
        return None
    segments = [s for s in path.split("/") if s]
    if any(s.startswith(".") for s in segments):
        return None
    return segments


def mount_segments(path: str) -> list[str]:
    """The site's base path (from base_url) as decoded segments."""
    return url_segments("/" + path.lstrip("/")) or []


def unmount(segments: list[str] | None, mount: list[str]) -> list[str] | None:
    """Strip the base path, so a site whose base_url is https://x.org/blog/ works at /blog/."""
    if segments is not None and mount and segments[: len(mount)] == mount:
        return segments[len(mount):]
    return segments


def locate(root: Path, segments: list[str]) -> Path | None:
    """The real path of root/segments if it exists inside root (symlinks resolved), else None."""
    try:
        base = root.resolve(strict=True)
        real = base.joinpath(*segments).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    return real if real == base or real.is_relative_to(base) else None


def is_regular(path: Path) -> bool:
    """Only regular files are served: not a folder, a device, or a FIFO that would block the read."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
