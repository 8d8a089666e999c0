"""The model as templates see it: the names and texts that stay equal from build to build, and
the proxies that note what a template reads without changing what it computes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from repost.config import default_config
from repost.model import Page, Post, Site, Tag
from repost.proxies import MISSING, Map, Obj, Seq, canon, fingerprint, token
from repost.track import Tracker


def _post(rel: str, title: str = "T") -> Post:
    return Post(path=Path(rel), rel=rel, title=title, slug=rel[:-3], date=datetime(2026, 1, 2, tzinfo=timezone.utc),
                updated=None, tags=(), body_html="<p>b</p>", summary_html="<p>s</p>", description="s",
                reading_minutes=1, url=f"/{rel[:-3]}/", output=f"{rel[:-3]}/index.html")


def _page(rel: str) -> Page:
    return Page(path=Path(rel), rel=rel, title="P", slug=rel[:-3], body_html="<p>p</p>", description="p",
                url=f"/{rel[:-3]}/", output=f"{rel[:-3]}/index.html")


def _tracked(tmp_path: Path) -> tuple[Tracker, Site, list[Post]]:
    posts = [_post("a.md"), _post("b.md")]
    tag = Tag(name="Go", slug="Go", url="/tags/go/", posts=tuple(posts))
    site = Site(config=default_config(tmp_path), posts=tuple(posts), pages=(), tags=(tag,), tag_of={"Go": tag})
    tracker = Tracker(site, posts, [], {"updated": None}, {}, {})
    tracker.begin()
    return tracker, site, posts


def test_tokens_name_model_objects_and_their_proxies(tmp_path):
    tracker, site, posts = _tracked(tmp_path)
    assert token(posts[0]) == ("post", "a.md")
    assert token(_page("about.md")) == ("page", "about.md")
    assert token(site.tags[0]) == ("tag", "go")  # case-folded
    assert token(site) == ("site",)
    assert token(tracker.wrap(posts[0])) == ("post", "a.md")
    assert token(tracker.wrap(site).tag_of) == ("map", ("site",), "tag_of")
    assert token(tracker.wrap(site).posts) is None
    assert token("a.md") is None and token(None) is None


def test_canon_is_equal_for_equal_values_and_models_stand_for_their_token(tmp_path):
    tracker, site, posts = _tracked(tmp_path)
    assert [canon(v) for v in ("a", 1, 1.5, True, None)] == ["str:'a'", "int:1", "float:1.5", "bool:True", "NoneType:None"]
    assert canon(datetime(2026, 1, 2, tzinfo=timezone.utc)) == "datetime.datetime(2026, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)"
    assert canon(date(2026, 1, 2)) == "datetime.date(2026, 1, 2)"
    assert canon([1, "a"]) == canon((1, "a")) == "[int:1,str:'a']"
    assert canon({"k": [1]}) == "{str:'k':[int:1]}"
    assert canon(MISSING) == "<missing>"
    assert canon(Path("a/b")) == "PosixPath:PosixPath('a/b')"
    assert canon(posts[0]) == "@('post', 'a.md')" == canon(_post("a.md", title="edited"))
    assert canon(tracker.wrap(site).posts) == canon(list(posts)) == "[@('post', 'a.md'),@('post', 'b.md')]"

    @dataclass(frozen=True)
    class Point:
        x: int
        y: int

    assert canon(Point(1, 2)) == "Point[int:1,int:2]"
    anonymous = object()  # no stable identity: never equal, not even to itself
    assert canon(anonymous) != canon(anonymous)


def test_canon_memo_saves_recomputing_models_and_long_lists():
    posts = [_post(f"{i}.md") for i in range(6)]
    memo: dict[int, tuple] = {}
    text = canon(posts, memo)
    assert memo[id(posts)] == (posts, text)  # the list is held, so its id stays its own
    assert all(memo[id(p)][1] == f"@('post', '{i}.md')" for i, p in enumerate(posts))
    assert canon(posts, memo) == text == canon(posts)
    short = [1, 2]
    canon(short, memo)
    assert id(short) not in memo


def test_fingerprints_are_short_and_equal_for_equal_values():
    assert len(fingerprint("x")) == 12
    assert fingerprint([1, "a"]) == fingerprint((1, "a")) != fingerprint([1, "b"])
    assert fingerprint(_post("a.md")) == fingerprint(_post("a.md", title="edited"))


def test_an_object_proxy_notes_attribute_reads(tmp_path):
    tracker, site, posts = _tracked(tmp_path)
    post = tracker.wrap(posts[0])
    assert type(post) is Obj and tracker.wrap(posts[0]) is post  # one proxy per object per build
    assert post.title == "T" and post.reading_minutes == 1
    assert tracker.reads[(("post", "a.md"), "title")] == "T"
    assert tracker.reads[(("post", "a.md"), "reading_minutes")] == 1
    assert post.__dataclass_fields__ is Post.__dataclass_fields__  # a dunder is no read of the post
    assert (("post", "a.md"), "__dataclass_fields__") not in tracker.reads
    with pytest.raises(AttributeError):
        post.nope
    wrapped = tracker.wrap(site)
    assert wrapped.config is site.config and (("site",), "config") not in tracker.reads  # in every cache key
    assert str(post) == str(posts[0]) and tracker.reads[(("post", "a.md"), "*")] is posts[0]
    assert post == posts[0] == post and post != posts[1] and post != tracker.wrap(site).posts
    assert hash(post) == hash(("post", "a.md")) and bool(post)
    when = datetime(2026, 1, 2)
    assert tracker.wrap(when) is when and tracker.wrap("x") == "x"  # plain values are not wrapped


def test_a_sequence_proxy_wraps_what_it_yields(tmp_path):
    tracker, site, posts = _tracked(tmp_path)
    seq = tracker.wrap(site).posts
    assert type(seq) is Seq and len(seq) == 2 and bool(seq)
    assert tracker.reads[(("site",), "posts")] == site.posts
    assert [type(p) for p in seq] == [Obj, Obj] and [p.rel for p in reversed(seq)] == ["b.md", "a.md"]
    assert type(seq[0]) is Obj and type(seq[:1]) is Seq and len(seq[:1]) == 1
    assert posts[1] in seq and tracker.wrap(posts[1]) in seq and _post("c.md") not in seq
    assert seq == list(posts) and seq != posts[:1]
    joined = seq + seq
    assert type(joined) is Seq and len(joined) == 4 and joined.count(posts[0]) == 2
    assert str(seq) == str([str(p) for p in posts])
    with pytest.raises(TypeError):
        hash(seq)
    assert tracker.wrap(["a", "b"]) == ["a", "b"] and type(tracker.wrap(["a"])) is list  # no models: as it is


def test_a_mapping_proxy_notes_each_key_read(tmp_path):
    tracker, site, _ = _tracked(tmp_path)
    tags = tracker.wrap(site).tag_of
    tok = ("map", ("site",), "tag_of")
    assert type(tags) is Map and tags._tok == tok
    assert type(tags["Go"]) is Obj and tracker.reads[(tok, "Go")] is site.tags[0]
    assert "Rust" not in tags and tracker.reads[(tok, "Rust")] is MISSING
    assert tags.get("Nope", "-") == "-" and tracker.reads[(tok, "Nope")] is MISSING
    with pytest.raises(KeyError):
        tags["Nope"]
    assert (tok, "*") not in tracker.reads
    assert len(tags) == 1 and list(tags) == ["Go"] and list(tags.keys()) == ["Go"] and bool(tags)
    assert tracker.reads[(tok, "*")] == site.tag_of
    assert [type(v) for v in tags.values()] == [Obj] and [(k, type(v)) for k, v in tags.items()] == [("Go", Obj)]
    assert str(tags) == str(site.tag_of)
