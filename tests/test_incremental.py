"""Incremental builds may only skip work: after any sequence of edits, a rebuild that uses the
cache gives byte for byte the tree a clean build (fresh copy of the site, no cache) gives
(RELIABILITY B7). Edits touch files with explicit `os.utime`, never sleeps.

Runs both ways a rebuild can trust a file: by content digest (fresh files) and by stat signature
(`RACY_NS` = 0), with in-place "patch" commits, and with forked worker pools on tiny batches.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import build, in_workers, make_site, post, tree_hashes
from repost import cache, records, write
from repost.ui import UI

SITE = "site-root"
LAYOUT_SIDEBAR = """{% extends "base.html" %}
{% block content %}{{ super() }}
<aside>{% for p in site.posts[:2] %}<a href="{{ url(p.url) }}">{{ p.title }}</a>{% endfor %}
{{ site.tags | length }} tags · {{ site.posts | map(attribute='reading_minutes') | sum }} min</aside>
{% endblock %}
"""


class Site:
    """A mini site on disk plus the edits a curator makes to it."""

    def __init__(self, root: Path):
        self.root = make_site(root, {"content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
                                     "static/images/p.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"})
        self.posts: dict[str, dict] = {}
        self.clock = 1_700_000_000

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.clock += 10
        os.utime(path, (self.clock, self.clock))  # mtime always moves; no sleeping

    def delete(self, rel: str) -> None:
        (self.root / rel).unlink(missing_ok=True)

    def save_post(self, name: str) -> None:
        p = self.posts[name]
        meta = {k: p[k] for k in ("tags", "slug", "draft", "summary") if p.get(k) is not None}
        self.write(f"content/posts/{name}.md", post(p["title"], p["body"], date=p["date"], **meta))

    # -- the edits

    def add(self, i: int) -> None:
        name = f"p{len(self.posts)}-{i}"
        self.posts[name] = {"title": f"Post {name}", "body": f"Body of {name}.\n\n## Part\n\nMore text {i}.",
                            "date": f"2026-01-{1 + i % 27:02d}T10:00:00+08:00", "tags": [f"t{i % 3}"]}
        self.save_post(name)

    def pick(self, i: int) -> str | None:
        names = sorted(self.posts)
        return names[i % len(names)] if names else None

    def edit(self, kind: str, i: int) -> None:
        name = self.pick(i)
        if name is None:
            return self.add(i)
        p = self.posts[name]
        if kind == "body":
            p["body"] += f"\n\nEdited {i}. <!--more--> tail" if i % 2 else f"\n\nEdited {i}."
        elif kind == "title":
            p["title"] = f"Retitled {i} {name} 标题"  # each post its own: two equal titles are a URL collision
        elif kind == "date":
            p["date"] = f"2025-{1 + i % 12:02d}-0{1 + i % 9}T08:00:00+08:00"
        elif kind == "tags":
            p["tags"] = [f"t{(i + k) % 4}" for k in range(i % 3)]
        elif kind == "slug":
            p["slug"] = f"moved-{i}-{name}"
        elif kind == "draft":
            p["draft"] = not p.get("draft")
        elif kind == "summary":
            p["summary"] = f"Summary {i}" if not p.get("summary") else None
        self.save_post(name)

    def remove(self, i: int) -> None:
        name = self.pick(i)
        if name is not None:
            self.delete(f"content/posts/{name}.md")
            del self.posts[name]

    def template(self, i: int) -> None:
        choice = i % 4
        if choice == 0:
            self.write("layouts/partials/footer.html", f"<footer><p>{{{{ config.title }}}} v{i}</p></footer>\n")
        elif choice == 1:
            self.delete("layouts/partials/footer.html")
        elif choice == 2:
            self.write("layouts/post.html", LAYOUT_SIDEBAR)
        else:
            self.delete("layouts/post.html")

    def config(self, i: int) -> None:
        self.write("config.yaml", f"title: Site {i % 2}\nbase_url: https://example.com/\nlanguage: en\n"
                                  f"timezone: Asia/Shanghai\npaginate: {1 + i % 3}\n")

    def static(self, i: int) -> None:
        if i % 3 == 0:
            self.write("static/assets/style.css", f"body {{ color: #{i % 10}{i % 10}{i % 10}; }}\n")
        elif i % 3 == 1:
            self.delete("static/assets/style.css")
        else:
            self.write(f"static/images/x{i % 2}.txt", f"file {i}")

    def page(self, i: int) -> None:
        if i % 3 == 2:
            self.delete("content/pages/about.md")
        else:
            self.write("content/pages/about.md", f"---\ntitle: About {i}\nweight: {i % 2}\n---\nAbout us, v{i}.\n")

    def apply(self, op: tuple[str, int]) -> None:
        kind, i = op
        if kind == "add":
            self.add(i)
        elif kind == "remove":
            self.remove(i)
        elif kind in ("template", "config", "static", "page"):
            getattr(self, kind)(i)
        elif kind != "noop":
            self.edit(kind, i)


def clean_build(root: Path, where: Path) -> dict[str, str]:
    """Copy the sources (not the output, not the cache) and build them from nothing."""
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("site", ".repost-cache", ".repost-*"))
    build(where)
    return tree_hashes(where / "site")


@pytest.fixture(autouse=True)
def steady_salt(monkeypatch):
    """The cache's salt digests repost's own code: someone saving a module mid-test (a shared work
    tree) must not make a build in the middle of a sequence start over. Config changes still count."""
    real, seen = cache.salt, {}
    monkeypatch.setattr(cache, "salt", lambda config: seen.setdefault((config.fingerprint, str(config.root)), real(config)))


class Notes(UI):
    """A quiet UI that keeps the -v lines (why model and plan were made again, ...)."""

    def __init__(self):
        super().__init__(quiet=True)
        self.notes: list[str] = []

    def detail(self, msg: str) -> None:
        self.notes.append(msg)


@pytest.fixture(params=["digest", "stat"])
def trust(request, monkeypatch):
    """'stat': trust stat signatures at once (edits bump mtime with os.utime)."""
    if request.param == "stat":
        monkeypatch.setattr(cache, "RACY_NS", 0)
    return request.param


OPS = ["add", "body", "title", "date", "tags", "slug", "draft", "summary", "remove", "template", "config",
       "static", "page", "noop"]
SHAPELESS = ("body", "summary")  # edits that leave model and plan as they were (a title makes the slug here)


@pytest.mark.parametrize("op", OPS)
def test_each_kind_of_edit_equals_a_clean_build(tmp_path, trust, op):
    site = Site(tmp_path / SITE)
    for i in range(4):
        site.add(i)
    site.template(2)  # a layout that lists other posts: tracking must see through custom templates
    build(site.root)
    for i in range(3):
        site.apply((op, i + 1))
        ui = Notes()
        result = build(site.root, ui=ui)
        got, clean = tree_hashes(site.root / "site"), clean_build(site.root, tmp_path / f"clean{i}")
        assert got == clean, (op, i, [p for p in sorted(got.keys() | clean.keys()) if got.get(p) != clean.get(p)], ui.notes)
        if op == "noop":
            assert result.changed == [] and result.removed == [] and result.rendered == 0
        if trust == "stat" and op in SHAPELESS:  # templates and static files old enough to trust
            assert result.reused, (op, i, ui.notes)
        elif result.changed:  # a real change to anything but a post's text: model and plan made again
            assert not result.reused, (op, i, ui.notes)


def test_a_body_edit_renders_only_what_shows_the_body(tmp_path):
    site = Site(tmp_path / SITE)
    for i in range(12):
        site.add(i)
    first = build(site.root)
    site.edit("body", 3)
    again = build(site.root)
    assert 0 < again.rendered < first.rendered / 3
    assert again.changed and all(not p.startswith("tags/index") for p in again.changed)
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


@pytest.mark.parametrize("forked", [False, True], ids=["in-process", "workers"])
def test_a_new_file_nothing_shows_renders_nothing_again(tmp_path, monkeypatch, forked):
    """A new draft makes the model and plan again: every file's key must come out as the first
    build (rendered in workers, or not) recorded it, so nothing is rendered again."""
    if forked:
        in_workers(monkeypatch)
    site = Site(tmp_path / SITE)
    for i in range(12):
        site.add(i)
    first = build(site.root)
    site.write("content/posts/draft.md", post("Draft", "Not yet.", draft=True))  # a new file: model and plan again
    again = build(site.root)
    assert not again.reused and first.rendered == first.pages and again.rendered == 0
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_a_title_edit_reaches_index_tag_archive_and_feed(tmp_path):
    site = Site(tmp_path / SITE)
    for i in range(5):
        site.add(i)
    build(site.root)
    name = site.pick(4)
    site.posts[name]["title"] = "A brand new title"
    site.save_post(name)
    result = build(site.root)
    changed = set(result.changed)
    assert {"index.html", "archive/index.html", "atom.xml", "rss.xml"} <= changed
    assert any(p.startswith("tags/t") for p in changed)
    assert "A brand new title" in (site.root / "site/index.html").read_text(encoding="utf-8")
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


OP = st.tuples(st.sampled_from(OPS), st.integers(0, 40))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(OP, min_size=1, max_size=7), patch=st.booleans(), forked=st.booleans())
@example(ops=[("title", 3), ("add", 0), ("title", 3)], patch=False, forked=False)  # two posts retitled alike once collided
@example(ops=[("slug", 10), ("add", 0), ("add", 0), ("add", 0), ("slug", 0)], patch=False, forked=False)
def test_any_sequence_of_edits_equals_a_clean_build(tmp_path_factory, monkeypatch, ops, patch, forked):
    """Hypothesis drives sequences of edits; after each one, incremental == clean."""
    tmp = tmp_path_factory.mktemp("seq")
    with monkeypatch.context() as m:
        m.setattr(cache, "RACY_NS", 0)
        if patch:
            m.setattr(write, "PATCH_MIN_FILES", 0)
        if forked:
            in_workers(m)
        site = Site(tmp / SITE)
        for i in range(3):
            site.add(i)
        build(site.root)
        for step, op in enumerate(ops):
            site.apply(op)
            ui = Notes()
            build(site.root, ui=ui)
            got, clean = tree_hashes(site.root / "site"), clean_build(site.root, tmp / "clean")
            assert got == clean, (ops[:step + 1], patch, forked, ui.notes,
                                  [p for p in sorted(got.keys() | clean.keys()) if got.get(p) != clean.get(p)])


# ---- the saved shape (model and plan reused when an edit moves nothing) -------------------------

@pytest.fixture
def trusted(monkeypatch):
    monkeypatch.setattr(cache, "RACY_NS", 0)


def test_a_body_edit_reuses_the_shape_and_reads_only_what_pages_need(tmp_path, trusted, monkeypatch):
    site = Site(tmp_path / SITE)
    for i in range(30):
        site.add(i)
    for name in site.posts:
        site.posts[name]["body"] += "\n\n" + "Long enough for a summary of its own. " * 20
        site.save_post(name)
    build(site.root)
    loaded = []
    real = records.fill_record
    monkeypatch.setattr(records, "fill_record", lambda record, meta: (loaded.append(record.rel), real(record, meta)))
    name = "p1-1"  # an old post: not in the feeds
    site.posts[name]["body"] += "\n\nA last line, below the summary."
    site.save_post(name)
    cache._WARM.clear()  # as in a new process
    result = build(site.root)
    assert result.reused and result.changed == [f"posts/post-{name}/index.html"]
    assert 0 < len(set(loaded)) < 5  # its neighbours and the menu's page, not all thirty
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_a_title_edit_with_a_fixed_slug_reuses_the_shape(tmp_path, trusted):
    site = Site(tmp_path / SITE)
    for i in range(5):
        site.add(i)
    name = site.pick(2)
    site.posts[name]["slug"] = "fixed"
    site.save_post(name)
    build(site.root)
    site.posts[name]["title"] = "Retitled, same address"
    site.save_post(name)
    result = build(site.root)
    assert result.reused and {"archive/index.html", "posts/fixed/index.html"} <= set(result.changed)
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_a_reused_shape_still_serves_templates_that_read_every_post(tmp_path, trusted):
    site = Site(tmp_path / SITE)
    for i in range(5):
        site.add(i)
    site.template(2)  # the sidebar sums every post's reading time: stubs load on demand
    build(site.root)
    name = site.pick(1)
    site.posts[name]["body"] += "\n\n" + "word " * 3000  # longer: its reading time changes
    site.save_post(name)
    result = build(site.root)
    assert result.reused and result.rendered > 5
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_a_reused_shape_restores_hand_edited_and_deleted_output(tmp_path, trusted):
    site = Site(tmp_path / SITE)
    for i in range(4):
        site.add(i)
    build(site.root)
    (site.root / "site/archive/index.html").write_text("vandalised", encoding="utf-8")
    (site.root / "site/404.html").unlink()
    (site.root / "site/images/p.svg").write_text("<svg/>", encoding="utf-8")
    site.edit("body", 1)
    assert build(site.root).reused
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_warnings_of_unread_files_are_still_shown_once(tmp_path, trusted):
    site = Site(tmp_path / SITE)
    for i in range(3):
        site.add(i)
    site.write("content/posts/odd.md", post("Odd", "Odd one.", date="2026-02-01T10:00:00+08:00", colour="red"))
    build(site.root)
    site.edit("body", 0)
    from conftest import load
    from repost.build import build_site
    from repost.ui import UI

    class Recorder(UI):
        def __init__(self):
            super().__init__(quiet=True)
            self.warned = []

        def warn(self, msg):
            self.warned.append(msg)

    ui = Recorder()
    assert build_site(load(site.root), ui=ui).reused
    assert len(ui.warned) == 1 and "unknown front matter key 'colour'" in ui.warned[0]
    site.write("content/posts/odd.md", post("Odd", "Odd one, again.", date="2026-02-01T10:00:00+08:00", colour="red", size=1))
    ui = Recorder()
    assert build_site(load(site.root), ui=ui).reused
    assert sorted(w.split("'")[1] for w in ui.warned) == ["colour", "size"]
    site.edit("body", 1)
    ui = Recorder()
    assert build_site(load(site.root), ui=ui).reused and len(ui.warned) == 2


def test_a_future_post_that_falls_due_rebuilds_the_model(tmp_path, trusted, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from repost import incremental, model

    site = Site(tmp_path / SITE)
    for i in range(3):
        site.add(i)
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    site.write("content/posts/soon.md", post("Soon", "Not yet.", date=soon.isoformat(timespec="seconds")))
    build(site.root)
    assert not (site.root / "site/posts/soon").exists()
    later = soon + timedelta(hours=1)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later.astimezone(tz)

    real = model.build_model
    monkeypatch.setattr(model, "build_model", lambda *a, **k: real(*a, **k, now=later))
    monkeypatch.setattr(incremental, "datetime", Later)
    monkeypatch.setattr(incremental.time, "time", lambda: later.timestamp())
    site.edit("body", 0)
    result = build(site.root)
    assert not result.reused and (site.root / "site/posts/soon/index.html").is_file()


def test_a_record_lost_from_the_cache_means_a_clean_build_not_an_error(tmp_path, trusted):
    import sqlite3

    site = Site(tmp_path / SITE)
    for i in range(6):
        site.add(i)
    build(site.root)
    db = sqlite3.connect(site.root / ".repost-cache/build.sqlite")
    with db:
        db.execute("DELETE FROM records WHERE digest = (SELECT digest FROM sources WHERE rel LIKE '%p0-0.md')")
    db.close()
    name = site.pick(1)
    site.posts[name]["title"] = "Neighbours show this title"  # so the lost post's page is rendered
    site.save_post(name)
    build(site.root)
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")


def test_a_build_into_another_folder_between_two_edits(tmp_path, trusted):
    """The cache's sources are shared by output folders; each folder's shape is its own."""
    site = Site(tmp_path / SITE)
    for i in range(4):
        site.add(i)
    build(site.root)
    site.edit("tags", 1)
    build(site.root, output=tmp_path / "other")
    site.edit("body", 2)
    build(site.root)
    assert tree_hashes(site.root / "site") == clean_build(site.root, tmp_path / "clean")
    site.edit("body", 1)
    assert build(site.root, output=tmp_path / "other").reused is False  # p2's old record is gone: no comparing
    assert tree_hashes(tmp_path / "other") == clean_build(site.root, tmp_path / "clean2")
