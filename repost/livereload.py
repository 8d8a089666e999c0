"""What the browser gets from `repost serve`: the live-reload script and the build-error overlay.

Both are added to HTML responses as they are served (`inject`), never written into the output
folder, so a built site carries no trace of the preview. The script listens for server-sent
events at a dot path, which no site file can shadow because dotfiles are never served. It carries
the version it was served with (the server's token and build serial): a new build of the same
server run swaps the page in place, or only its stylesheets; anything else gets a real reload.
"""
from __future__ import annotations

import html
import json

from repost.errors import ContentError, ErrorList, RepostError

EVENTS_PATH = "/.repost/events"

CLIENT_JS = """(() => {
  if (!window.EventSource) return;
  let version = %s, es = null, queue = Promise.resolve();
  const KEPT = 'link[rel~="stylesheet"], style';
  const swapStylesheets = () => {
    const stamp = Date.now();
    for (const old of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(old.href, location.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("repost", stamp);
      const fresh = old.cloneNode();
      fresh.href = url.href;
      fresh.onload = fresh.onerror = () => old.remove();
      old.after(fresh);
    }
  };
  const styles = (doc) => [...doc.head.querySelectorAll(KEPT)].map((n) => n.outerHTML).join("\\n");
  const scripted = (doc) => [...doc.querySelectorAll("script:not([data-repost])")]
    .some((s) => !s.type || /javascript|module/i.test(s.type));
  const painted = () => requestAnimationFrame(() => {  // the frame with the new page; just after it:
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { window.__repost = {painted: performance.timeOrigin + performance.now()}; };
    channel.port2.postMessage(0);
  });
  // A new build of this server: fetch the page and put it in place of the old one (no navigation,
  // no stylesheet fetched again, scroll kept). Anything unusual (another server run, the page
  // gone, scripts that would not run again, other stylesheets) gets a real reload instead.
  const update = async (next) => {
    try {
      if (next.split(".")[0] !== version.split(".")[0] || scripted(document)) throw 0;
      const res = await fetch(location.href, {cache: "no-store"});
      if (!res.ok || !(res.headers.get("content-type") || "").startsWith("text/html")) throw 0;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      if (scripted(doc) || styles(doc) !== styles(document)) throw 0;
      const root = document.documentElement;
      for (const n of [...document.head.childNodes]) if (!(n.matches && n.matches(KEPT))) n.remove();
      for (const n of [...doc.head.childNodes]) if (!(n.matches && n.matches(KEPT))) document.head.append(n);
      for (const a of [...root.attributes]) root.removeAttribute(a.name);
      for (const a of doc.documentElement.attributes) root.setAttribute(a.name, a.value);
      root.replaceChild(document.adoptNode(doc.body), document.body);
      version = next;
      painted();
    } catch (e) {
      if (es) es.close();
      location.reload();
    }
  };
  const open = () => {
    if (es) return;
    es = new EventSource("%s?v=" + encodeURIComponent(version));
    es.addEventListener("reload", (e) => { queue = queue.then(() => update(e.lastEventId)); });
    es.addEventListener("css", (e) => { version = e.lastEventId; swapStylesheets(); });
  };
  // Hidden tabs let go of their connection: browsers allow ~6 per host over HTTP/1.1.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { if (es) { es.close(); es = null; } } else open();
  });
  if (!document.hidden) open();
})();"""
OVERLAY_STYLE = (
    "position:fixed;left:0;right:0;top:0;z-index:2147483647;max-height:70vh;overflow:auto;margin:0;"
    "padding:1em 1.5em;background:#3b0d0d;color:#fff;font:14px/1.5 ui-monospace,monospace;"
    "box-shadow:0 2px 12px rgba(0,0,0,.5);text-align:left"
)


def inject(page: bytes, version: str, errors: tuple[tuple[str, str], ...]) -> bytes:
    """Add the reload client (and the overlay, if the last build failed) before </body>."""
    snippet = f"<script data-repost>{CLIENT_JS % (json.dumps(version), EVENTS_PATH)}</script>"
    if errors:
        snippet = overlay(errors) + snippet
    data = snippet.encode()
    at = page.lower().rfind(b"</body>")
    return page + data if at < 0 else page[:at] + data + page[at:]


def overlay(errors: tuple[tuple[str, str], ...]) -> str:
    """The failed build's errors, escaped, in a box pinned over the last good page."""
    items = "".join(
        f"<li>{f'<b>{html.escape(where)}</b>: ' if where else ''}{html.escape(message)}</li>"
        for where, message in errors
    )
    return (f'<div id="repost-error-overlay" role="alert" style="{OVERLAY_STYLE}">'
            f"<p style=\"margin:0 0 .5em\"><b>Build failed</b> &mdash; showing the last good build."
            f"</p><ul style=\"margin:0;padding-left:1.2em\">{items}</ul></div>")


def describe(exc: RepostError) -> list[tuple[str, str]]:
    """A build failure as (file:line, message) pairs for the overlay and the terminal."""
    if isinstance(exc, ErrorList):
        return [pair for e in exc.errors for pair in describe(e)]
    if isinstance(exc, ContentError):
        where = exc.path or ""
        return [(f"{where}:{exc.line}" if where and exc.line else where, exc.message)]
    return [("", exc.format())]
