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
