"""A real browser against `repost serve`: Debian's chromium driven by Playwright's Python package.

Every scenario changes files on disk and then only *waits* on the open page: the page must update
itself (reload, stylesheet swap, overlay) with no action from the test. Skipped only when
/usr/bin/chromium is missing (CI installs it with apt, so there these tests always run).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.request import urlopen

import pytest
from serve_support import FIXTURE, POST, atomic_save, start_fixture_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Live:
    def __init__(self, root: Path, server):
        self.root, self.server_obj, self.url = root, server, server.url

    def write(self, rel: str, text: str) -> None:
        atomic_save(self.root, rel, text)


@pytest.fixture
def live(tmp_path):
    from repost.ui import UI

    root, session = start_fixture_site(tmp_path, UI(quiet=True))
    yield Live(root, session.server)
    session.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], errors  # the injected client never throws


def test_edited_post_shows_new_text_without_touching_the_page(live, page):
    page.goto(live.url + "posts/first-post/")
    page.get_by_text("The original first paragraph.").wait_for()
    live.write("content/posts/first-post.md", POST.format(body="Freshly edited paragraph."))
    page.get_by_text("Freshly edited paragraph.").wait_for()
    assert page.get_by_text("The original first paragraph.").count() == 0


def test_an_edit_updates_the_open_page_in_place_and_keeps_its_scroll(live, page):
    """No navigation (a marker on window survives), the title follows, the scroll stays."""
    page.set_viewport_size({"width": 800, "height": 300})
    page.goto(live.url + "posts/first-post/")
    long = "\n\n".join(f"Paragraph {i} of a long post." for i in range(80))
    live.write("content/posts/first-post.md", POST.format(body=long))
    page.get_by_text("Paragraph 79 of a long post.").wait_for()
    page.evaluate("window.scrollTo(0, 1500); window.__stillHere = 'yes'")
    live.write("content/posts/first-post.md", POST.replace("First post", "Renamed post").format(body=long + "\n\nA new last line."))
    page.get_by_text("A new last line.").wait_for()
    assert page.evaluate("window.__stillHere") == "yes"
    assert page.title().startswith("Renamed post")
    assert page.evaluate("window.scrollY") == 1500
    assert page.evaluate("window.__repost.painted") > 0
    assert page.locator("script[data-repost]").count() == 1  # the copy that came with the page: inert


def test_a_page_with_scripts_of_its_own_is_reloaded_not_patched(live, page):
    """A site script would not run again inside a patched page, so such pages reload for real."""
    from repost.render import theme_dir

    theme_base = (theme_dir() / "templates/base.html").read_text(encoding="utf-8")
    live.write("layouts/base.html", theme_base.replace("</body>", "<script>window.__ranAt = Date.now()</script></body>"))
    assert wait(lambda: b"__ranAt" in urlopen(live.url + "posts/first-post/").read())  # built with it
    page.goto(live.url + "posts/first-post/")
    page.wait_for_function("() => window.__ranAt > 0")
    first = page.evaluate("window.__ranAt")
    page.evaluate("window.__stillHere = 'yes'")
    live.write("content/posts/first-post.md", POST.format(body="Edited under a scripted layout."))
    page.get_by_text("Edited under a scripted layout.").wait_for()
    page.wait_for_function("() => window.__ranAt > 0")
    assert page.evaluate("window.__stillHere") is None and page.evaluate("window.__ranAt") != first


def test_stylesheet_edit_applies_without_navigation(live, page):
    from repost.render import theme_dir

    page.goto(live.url)
    page.evaluate("window.__stillHere = 'yes'")  # a reload or navigation would wipe this
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    theme_css = (theme_dir() / "static" / "assets" / "style.css").read_text(encoding="utf-8")
    live.write("static/assets/style.css", theme_css + "\nbody { background-color: rgb(1, 2, 3) !important }\n")
    page.wait_for_function("getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)'")
    assert before != "rgb(1, 2, 3)"
    assert page.evaluate("window.__stillHere") == "yes"


def test_broken_front_matter_shows_overlay_and_the_fix_brings_content_back(live, page):
    page.goto(live.url + "posts/first-post/")
    live.write("content/posts/first-post.md", "---\ntitle: [unclosed\nslug: first-post\n---\nBroken body.\n")
    overlay = page.locator("#repost-error-overlay")
    overlay.wait_for(state="visible")
    assert "first-post.md" in overlay.inner_text()
    assert page.get_by_text("The original first paragraph.").count() == 1  # last good page underneath
    live.write("content/posts/first-post.md", POST.format(body="Back with a fix."))
    page.get_by_text("Back with a fix.").wait_for()
    overlay.wait_for(state="detached")


def test_dropped_raw_dump_appears_on_the_home_page(live, page):
    page.goto(live.url)
    page.get_by_text("First post").first.wait_for()
    shutil.copy(FIXTURE / "dropped-dump.txt", live.root / "content" / "raw" / "dropped-dump.txt")
    page.get_by_text("一篇刚刚放进来的转载").first.wait_for()


def test_restarted_server_reloads_an_open_tab_once(tmp_path, page):
    from repost.config import load_config
    from repost.serve import start
    from repost.ui import UI

    root = tmp_path / "blog"
    shutil.copytree(FIXTURE / "site", root)
    config = load_config(root / "config.yaml")
    first = start(config, port=0, ui=UI(quiet=True))
    port = first.server.port
    threading.Thread(target=first.server.serve_forever, args=(0.05,), daemon=True).start()
    loads = []
    page.on("load", lambda: loads.append(1))
    page.goto(first.server.url)
    first.close()
    second = start(config, port=port, ui=UI(quiet=True))  # same port: EventSource reconnects
    threading.Thread(target=second.server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        page.wait_for_function("() => document.documentElement.innerHTML.includes(%r)" % second.server.token)
        page.wait_for_timeout(2500)  # time for any reload loop to show itself
        assert len(loads) == 2  # the first load, then exactly one reload
    finally:
        second.close()


def test_hidden_tab_lets_go_of_its_stream_and_catches_up_when_shown(live, page):
    from repost.serve_http import LiveServer

    server: LiveServer = live.server_obj
    page.goto(live.url + "posts/first-post/")
    page.wait_for_function("() => true")
    assert wait(lambda: server.streams == 1)
    set_hidden = "h => { Object.defineProperty(document, 'hidden', {value: h, configurable: true});" \
                 " document.dispatchEvent(new Event('visibilitychange')); }"
    page.evaluate(set_hidden, True)
    assert wait(lambda: server.streams == 0)
    live.write("content/posts/first-post.md", POST.format(body="Changed while hidden."))
    assert wait(lambda: server.update.serial >= 2)
    assert page.get_by_text("Changed while hidden.").count() == 0  # no connection, no reload yet
    page.evaluate(set_hidden, False)
    page.get_by_text("Changed while hidden.").wait_for()


def wait(predicate, timeout: float = 20.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.02)
    return predicate()
