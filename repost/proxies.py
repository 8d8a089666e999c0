"""The model as templates see it, and the names that stay the same from build to build.

Tokens name objects across builds: ("post", rel), ("page", rel), ("tag", key), ("site",), a
mapping held by one of them ("map", token, attribute), a template variable ("shared",) and a
digested asset ("asset",). A read of the whole object (str(), repr()) is the attribute "*".
`canon` and `fingerprint` make of a value a text and bytes that are equal for equal values in any
build, a model object standing for its token: pages are stored with fingerprints of what they read.

The proxies (`Obj`, `Seq`, `Map`) give templates the model's values and tell the tracker
(`track.Tracker`) each read; they use only its `reads`, `read` and `wrap`, so this module does not
import track.py.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from repost.config import Config
from repost.model import Page, Post, Site, Tag

if TYPE_CHECKING:
    from repost.track import Tracker

MISSING = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_PLAIN = (str, int, float, bool, type(None))
_MODELS = (Post, Page, Tag, Site)
_BIG = (tuple, list)
AS_IS = frozenset({str, int, float, bool, type(None), datetime, date})  # values returned unwrapped


def token(obj: Any) -> tuple | None:
    """The name of a model object that stays the same from build to build."""
    if isinstance(obj, Post):
        return ("post", obj.rel)
    if isinstance(obj, Page):
        return ("page", obj.rel)
    if isinstance(obj, Tag):
        return ("tag", obj.slug.casefold())
    if isinstance(obj, Site):
        return ("site",)
    if isinstance(obj, (Obj, Seq, Map)):
        return obj._tok
    return None


def canon(value: Any, memo: dict[int, tuple] | None = None) -> str:
    """A text that is equal for equal values across builds; model objects stand for their token.

    `memo` (id -> (object, text)) saves recomputing the text of a model object or a list within
    one build: every page of a listing shares one tuple of page URLs, and hashing it anew for
    each page would make big listings quadratic. It holds the objects, so ids stay unique.
    """
    kind = type(value)
    if kind in _PLAIN:
        return f"{kind.__name__}:{value!r}"
    if kind is datetime:
        return repr(value)
    if memo is not None and (isinstance(value, _MODELS) or (kind in _BIG and len(value) > 4)):
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = (value, _canon(value, memo))
        return found[1]
    return _canon(value, memo)


def _canon(value: Any, memo: dict[int, tuple] | None) -> str:
    kind = type(value)
    if kind is tuple or kind is list:
        return "[" + ",".join([canon(v, memo) for v in value]) + "]"
    if isinstance(value, _MODELS):
        return f"@{token(value)!r}"
    if value is MISSING:
        return "<missing>"
    if isinstance(value, (Obj, Seq, Map)):
        return canon(value._raw, memo)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join([canon(v, memo) for v in value]) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join([f"{canon(k, memo)}:{canon(v, memo)}" for k, v in value.items()]) + "}"
    if isinstance(value, (datetime, date)):
        return repr(value)
    if is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__ + canon(tuple(getattr(value, f.name) for f in fields(value)), memo)
    text = repr(value)
    if " at 0x" in text:  # no stable identity: never equal, so the page is always rendered
        return os.urandom(16).hex()
    return f"{kind.__name__}:{text}"


def fingerprint(value: Any, memo: dict[int, str] | None = None) -> bytes:
    return hashlib.blake2b(canon(value, memo).encode("utf-8", "surrogatepass"), digest_size=12).digest()


def whole(obj: Any) -> Any:
    """What a read of a whole object ("*") is fingerprinted by: its items or fields, not its repr."""
    if isinstance(obj, Mapping):
        return dict(obj)
    if is_dataclass(obj):
        return tuple((f.name, getattr(obj, f.name)) for f in fields(obj))
    return obj


def holds_model(items: list | tuple) -> bool:
    """Whether a container holds model objects (and needs a proxy): a long one by a sample."""
    sample = items if len(items) <= 16 else [*items[:4], items[-1]]
    for item in sample:
        if isinstance(item, (Post, Page, Tag, Site)):
            return True
        if isinstance(item, (list, tuple)) and holds_model(item):
            return True
        if isinstance(item, Mapping) and holds_model(list(item.values())):
            return True
    return False


class Obj:
    """A model object whose attribute reads are noted."""

    __slots__ = ("_raw", "_tracker", "_tok")

    def __init__(self, raw: Any, tracker: Tracker, tok: tuple):
        self._raw, self._tracker, self._tok = raw, tracker, tok

    def __getattr__(self, name: str) -> Any:
        return self._noted(name, getattr(self._raw, name))

    def _noted(self, name: str, value: Any) -> Any:
        if name[:2] == "__":
            return value
        tracker = self._tracker
        kind = type(value)
        if kind in AS_IS:
            reads = tracker.reads
            if reads is not None:
                reads.setdefault((self._tok, name), value)
            return value
        if isinstance(value, Config):
            return value  # the config is in every cache key already
        if callable(value):
            tracker.read(self._tok, "*", self._raw)
            return value
        tracker.read(self._tok, name, value)
        return tracker.wrap(value, self._tok, name)

    def _whole(self) -> Any:
        self._tracker.read(self._tok, "*", self._raw)
        return self._raw

    def __str__(self) -> str:
        return str(self._whole())

    def __repr__(self) -> str:
        return repr(self._whole())

    def __format__(self, spec: str) -> str:
        return format(self._whole(), spec)

    def __eq__(self, other: Any) -> bool:
        return token(other) == self._tok if not isinstance(other, (Seq, Map)) else False

    def __hash__(self) -> int:
        return hash(self._tok)

    def __bool__(self) -> bool:
        return True


OBJ_OWN = frozenset(dir(Obj))  # a proxy's own names, which a normal lookup finds before __getattr__


class Seq:
    """A list or tuple of model objects: its membership was noted where it was read."""

    __slots__ = ("_raw", "_tracker")
    _tok = None

    def __init__(self, raw: list | tuple, tracker: Tracker):
        self._raw, self._tracker = raw, tracker

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self):
        wrap = self._tracker.wrap
        return (wrap(item) for item in self._raw)

    def __reversed__(self):
        wrap = self._tracker.wrap
        return (wrap(item) for item in reversed(self._raw))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return Seq(self._raw[index], self._tracker)
        return self._tracker.wrap(self._raw[index])

    def __contains__(self, item: Any) -> bool:
        return any(token(item) == token(x) if token(x) else item == x for x in self._raw)

    def __bool__(self) -> bool:
        return bool(self._raw)

    def __eq__(self, other: Any) -> bool:
        return canon(self) == canon(other)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return str([str(x) for x in self])

    def __add__(self, other: Any) -> "Seq":
        other = other._raw if isinstance(other, Seq) else other
        return Seq(list(self._raw) + list(other), self._tracker)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)  # index(), count()


class Map:
    """A mapping of model objects (the site's tag lookup): each key read is noted on its own."""

    __slots__ = ("_raw", "_tracker", "_tok")

    def __init__(self, raw: Mapping, tracker: Tracker, tok: tuple):
        self._raw, self._tracker, self._tok = raw, tracker, tok

    def __getitem__(self, key: Any) -> Any:
        value = self._raw.get(key, MISSING)
        self._tracker.read(self._tok, key, value)
        if value is MISSING:
            raise KeyError(key)
        return self._tracker.wrap(value, self._tok, key)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: Any) -> bool:
        value = self._raw.get(key, MISSING)
        self._tracker.read(self._tok, key, value)
        return value is not MISSING

    def _all(self) -> Mapping:
        self._tracker.read(self._tok, "*", self._raw)
        return self._raw

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self):
        return iter(self._all())

    def keys(self):
        return self._all().keys()

    def values(self):
        return [self._tracker.wrap(v) for v in self._all().values()]

    def items(self):
        return [(k, self._tracker.wrap(v)) for k, v in self._all().items()]

    def __bool__(self) -> bool:
        return bool(self._all())

    def __str__(self) -> str:
        return str(self._all())
