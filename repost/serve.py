"""`repost serve`: a preview server that reloads itself, survives mistakes and leaks nothing.

This is where the preview meets the site: bind the server (`serve_http`), build once, then hand
each batch of source changes from the watcher (`watch`) to the same build as `repost build`
(`serve_build`). The server itself only ever sees a `build` callable and its result; after each
rebuild it is pointed at wherever the config, which may have been edited, now puts the output
and its base path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from repost.errors import RepostError
from repost.serve_guard import is_loopback, mount_segments
from repost.serve_http import LiveServer
from repost.ui import UI


@dataclass
class Session:
    """A running preview: the server plus the watcher and rebuild loop that feed it."""

    server: LiveServer
    watcher: Any
    rebuilder: Any

    def close(self) -> None:
        self.watcher.stop()
        self.rebuilder.stop()
        self.server.stop()


def start(config: Any, *, host: str = "127.0.0.1", port: int = 0, poll: bool = False,
          drafts: bool = False, ui: UI | None = None, site: Any = None) -> Session:
    """Bind, build once, then watch. The caller runs `session.server.serve_forever()`."""
    from repost.changes import Targets
    from repost.serve_build import SiteBuild
    from repost.watch import watch_and_rebuild

    ui = ui or UI(quiet=True)
    site = site or SiteBuild(config, drafts=drafts, ui=ui)
    try:
        server = LiveServer(config.paths.output, host=host, port=port, ui=ui, mount=base_path(config))
    except OSError as exc:
        raise RepostError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if not is_loopback(host):
        ui.warn(f"serving on {host}: anyone who can reach this machine can read the preview")
    server.run_build(lambda: site(None))

    def rebuild(changes: frozenset) -> None:
        server.run_build(lambda: site(changes))
        server.root = site.config.paths.output  # the config may have moved it
        server.mount = mount_segments(base_path(site.config))
        watcher.refresh(Targets.from_config(site.config))

    watcher, rebuilder = watch_and_rebuild(Targets.from_config(config), rebuild, poll=poll, ui=ui)
    return Session(server, watcher, rebuilder)


def base_path(config: Any) -> str:
    """The path of base_url: a site meant for https://x.org/blog/ is previewed under /blog/."""
    return urlsplit(getattr(config, "base_url", "/")).path or "/"


def command(config: Any, args: Any, ui: UI) -> int:
    """`repost serve`: serve until Ctrl-C, then stop the watcher, the rebuild loop and the server."""
    session = start(config, host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8000),
                    poll=getattr(args, "poll", False), drafts=getattr(args, "drafts", False), ui=ui)
    url = session.server.url.rstrip("/") + "".join("/" + quote(s) for s in session.server.mount) + "/"
    ui.info(f"serving {url} (Ctrl-C to stop)")
    try:
        session.server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        session.close()
    ui.info("stopped")
    return 0
