"""What a page read (`repost/track.py`): the Jinja hooks that note reads must not change what
templates compute."""
from __future__ import annotations

from types import SimpleNamespace

import jinja2
import pytest

from repost.track import Tracker


def _env() -> tuple[jinja2.Environment, Tracker]:
    tracker = Tracker(SimpleNamespace(tags=[]), [], [], {"updated": None}, {}, {})
    env = jinja2.Environment(undefined=jinja2.Undefined)
    tracker.attach(env)
    return env, tracker


def test_helpers_are_called_as_jinja_calls_them():
    env, tracker = _env()

    @jinja2.pass_context
    def who(context, suffix):
        return context["name"] + suffix

    @jinja2.pass_environment
    def kind(environment):
        return type(environment).__name__

    def url(path, *, prefix="/"):
        return prefix + path

    def empty():
        raise StopIteration

    template = env.from_string(
        "{% for p in paths %}{{ url(p) }} {{ url(p, prefix='~') }} {{ who('!') }} {% endfor %}"
        "{{ kind() }} [{{ empty() }}] {{ 'a-b'.split('-') }} {{ '{n} min'.format(n=3) }}")
    tracker.begin()
    out = template.render(paths=["x", "y"], url=url, who=who, kind=kind, empty=empty, name="N")
    tracker.end()
    assert out == "/x ~x N! /y ~y N! Environment [] ['a', 'b'] 3 min"


def test_a_callable_object_that_takes_the_context_still_gets_it():
    env, _ = _env()

    class Greeter:
        @jinja2.pass_context
        def __call__(self, context):
            return "hi " + context["name"]

    assert env.from_string("{{ greet() }}").render(greet=Greeter(), name="N") == "hi N"


def test_undefined_names_and_attributes_stay_undefined():
    env, _ = _env()
    env.undefined = jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nothing }}").render()
    assert env.from_string("{{ d.k }} {{ d.missing is defined }}").render(d={"k": 1}) == "1 False"


def test_a_missing_attribute_of_a_post_is_named_by_the_post_not_the_proxy():
    env, tracker = _env()
    env.undefined = jinja2.StrictUndefined
    post = tracker.wrap(_post("<p>b</p>"))
    with pytest.raises(jinja2.UndefinedError) as caught:
        env.from_string("{{ post.title }}{{ post.nosuch }}").render(post=post)
    assert str(caught.value) == "post has no attribute 'nosuch'"
    assert env.from_string("{{ post.nosuch is defined }} {{ post.title }}").render(post=post) == "False T"


def _post(body: str):
    from datetime import datetime, timezone
    from pathlib import Path

    from repost.model import Post

    return Post(path=Path("a.md"), rel="a.md", title="T", slug="t", date=datetime(2026, 1, 2, tzinfo=timezone.utc),
                updated=None, tags=(), body_html=body, summary_html="<p>s</p>", description="s", reading_minutes=1,
                url="/t/", output="t/index.html")


def _noted(body: str, digest: str) -> tuple[Tracker, dict]:
    """What rendering `post.body_html` notes, by (token, name), with the source digest given."""
    import marshal

    from repost.track import unpack

    post = _post(body)
    tracker = Tracker(SimpleNamespace(tags=[]), [post], [], {"updated": None}, {}, {("post", "a.md"): digest})
    env = jinja2.Environment()
    tracker.attach(env)
    tracker.begin()
    assert env.from_string("{{ post.body_html }}|{{ post.summary_html }}").render(post=tracker.wrap(post)) == f"{body}|<p>s</p>"
    reads = tracker.end()
    noted = {(tok, name): fp for _, packed in marshal.loads(reads.touched) for tok, pairs in unpack(packed) for name, fp in pairs}
    return tracker, noted


def test_a_body_is_fingerprinted_by_its_source_digest():
    """A post's body is made from its source alone: its digest stands for it (the body is not
    hashed, nor read back from the cache when a later build checks a page)."""
    tracker, noted = _noted("<p>one</p>", "digest-1")
    key = (("post", "a.md"), "body_html")
    assert noted[key] == tracker.current(*key)
    assert _noted("<p>other</p>", "digest-1")[1][key] == noted[key]  # same source, same fingerprint
    assert _noted("<p>one</p>", "digest-2")[1][key] != noted[key]  # the source changed
    summary = (("post", "a.md"), "summary_html")  # summaries are by value: a body edit may leave them
    assert _noted("<p>one</p>", "digest-2")[1][summary] == noted[summary] == tracker.current(*summary)


def test_dict_attributes_resolve_as_jinja_resolves_them():
    """`t.home` reads a plain dict's item without Jinja's failed attribute lookup first; a dict's
    own attributes (items, keys...) still win over its items, and a missing key is undefined."""
    env, _ = _env()
    plain = jinja2.Environment(undefined=jinja2.Undefined)
    source = "{{ d.home }}|{{ d.items is callable }}|{{ d.keys() | list }}|{{ d.missing }}|{{ d.missing is defined }}|{{ e.x }}"
    values = {"d": {"home": "Home", "items": "shadowed", "keys": "shadowed too"}, "e": type("D", (dict,), {"x": "attr"})(x="item")}
    assert env.from_string(source).render(**values) == plain.from_string(source).render(**values)
    assert env.from_string(source).render(**values) == "Home|True|['home', 'items', 'keys']||False|attr"


def test_includes_imports_and_their_exports_behave_as_in_jinja():
    """Includes, imports (with and without context), what a module exports, and a template's own
    globals reaching what it imports, as in Jinja. (Taking the names of a template's globals once
    per build, 8% of a listing page, was tried: Jinja updates a cached template's globals in place,
    and the last assertion failed.)"""
    loader = jinja2.DictLoader({
        "m.html": "{% set exported = 'e' %}{% macro hi(n) %}hi {{ n }} {{ g }} {{ extra | default('-') }}{% endmacro %}",
        "inc.html": "[{{ x }} {{ g }}]",
        "page.html": "{% import 'm.html' as m %}{% from 'm.html' import hi with context %}"
                     "{{ m.hi('a') }} {{ hi('b') }} {{ m.exported }} {{ m.g is defined }} "
                     "{% for x in [1, 2] %}{% include 'inc.html' %}{% endfor %}",
    })
    env, tracker = _env()
    env.loader, env.globals["g"] = loader, "G"
    plain = jinja2.Environment(loader=loader, undefined=jinja2.Undefined)
    plain.globals["g"] = "G"
    tracker.begin()
    ours = [env.get_template("page.html").render() for _ in range(2)]  # the second from the names taken once
    tracker.end()
    assert ours[0] == ours[1] == plain.get_template("page.html").render() == "hi a G - hi b G - e False [1 G][2 G]"
    # a template's own globals reach the modules it imports (Jinja compares the names of both globals)
    extra = env.get_template("page.html", globals={"extra": "X"}).render()
    assert extra == plain.get_template("page.html", globals={"extra": "X"}).render() == "hi a G X hi b G X e False [1 G][2 G]"
