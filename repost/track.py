"""What a rendered page read, and whether a later build must render it again.

While a page renders, the model objects its templates and helpers see are thin proxies
(`proxies.py`) that note every attribute read: (object token, attribute, value). Stored with the
page as fingerprints, these reads say exactly when the page is stale: when one of those values
differs in a later build. Nothing is declared by hand, so a site's own templates are tracked like
the theme's. A page's template counts too: `template_digests` digests everything it can pull in.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from types import BuiltinMethodType, FunctionType
from typing import Any, Callable, Iterable

import jinja2
from jinja2 import meta
from jinja2.runtime import Context
from jinja2.utils import missing

from repost.config import Config
from repost.model import Page, Post, Site, Tag
from repost.proxies import AS_IS, MISSING, OBJ_OWN, Map, Obj, Seq, canon, fingerprint, holds_model, token, whole

VOLATILE = frozenset({"updated"})  # template variables computed from the posts
SOURCE_KINDS = ("post", "page")
# Fields of a post or page that its source alone makes (config and code are in every cache key):
# their fingerprint is the source's digest, so a long body is never hashed (a third of what noting
# a post page's reads cost) and a later build's check never reads one back from the cache. Only
# the body: listing pages read summaries, which an edit of the rest of the body leaves as they are.
FROM_SOURCE = frozenset({"body_html"})
_DICT_OWN = frozenset(dir(dict))  # a dict's own attributes, which Jinja's getattr finds before its items


@dataclass(frozen=True)
class Reads:
    """What one page read, by object: marshalled [(object id (`tok_id`), packed [(token, ((name,
    fingerprint), ...))])]; and its reads of derived objects (site, tags...) for the build's table
    of facts. One blob per page, so that a big build does not hold a million small objects; the
    cache stores each packed part in the row of its (object, page), so that a later build checks
    a page against a changed object without reading anything else the page read."""

    touched: bytes
    facts: tuple[tuple, ...]


def pack(value: Any) -> bytes:
    """marshal (fast) for the plain tuples and strings reads are made of, else pickle."""
    try:
        return b"M" + marshal.dumps(value)
    except ValueError:
        return b"P" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> Any:
    return marshal.loads(blob[1:]) if blob[:1] == b"M" else pickle.loads(blob[1:])


def tok_id(tok: tuple) -> int:
    """A token's number in the touches table (a rare collision only makes a page a candidate)."""
    text = repr(tok).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


class Tracker:
    """One build's model as the page renderer sees it: proxies out, fingerprints in."""

    def __init__(self, site: Site, posts: Iterable[Post], pages: Iterable[Page], shared: Mapping[str, Any],
                 hashes: Mapping[str, str], digests: Mapping[tuple, str]):
        self.site, self.shared, self.hashes, self.digests = site, shared, hashes, digests
        self.objects: dict[tuple, Any] = {("site",): site}
        for record in [*posts, *pages]:
            self.objects[token(record)] = record
        for tag in site.tags:
            self.objects[token(tag)] = tag
        self.reads: dict[tuple, Any] | None = None
        self._fps: dict[tuple, bytes] = {}
        self._intern: dict[tuple, tuple] = {}
        self._ids: dict[tuple, int] = {}
        self._holding: dict[int, tuple] = {}
        self._proxies: dict[int, tuple] = {}  # id -> (value, its proxy)
        self.memo: dict[int, tuple] = {}  # canon texts of model objects and long lists, this build

    def key(self, template: str, digest: bytes, url: str, context: Mapping[str, Any]) -> bytes:
        """A planned file's identity apart from what its template reads (one per file, every build)."""
        h = hashlib.blake2b(digest, digest_size=12)
        h.update(f"{template}\0{url}\0".encode("utf-8", "surrogatepass"))
        for name, value in context.items():
            h.update(f"{name}\0{canon(value, self.memo)}\1".encode("utf-8", "surrogatepass"))
        return h.digest()

    # -- recording one page

    def begin(self) -> None:
        self.reads = {}

    def end(self) -> "Reads":
        """What the page just rendered read, ready to store."""
        reads, self.reads = self.reads or {}, None
        fps, by_tok = self._fps, {}
        for key, value in reads.items():  # a page reads about a hundred values: this loop is lean
            fp = fps.get(key)
            if fp is None:
                fp = self._fp(key[0], key[1], value)
            pairs = by_tok.get(key[0])
            if pairs is None:
                by_tok[key[0]] = [(key[1], fp)]
            else:
                pairs.append((key[1], fp))
        ids, by_id = self._ids, {}
        for tok, pairs in by_tok.items():
            i = ids.get(tok)
            if i is None:
                i = ids[tok] = tok_id(tok)
            by_id.setdefault(i, []).append((tok, tuple(pairs)))
        facts = tuple((tok, name, fp) for tok, pairs in by_tok.items() if tok[0] not in SOURCE_KINDS for name, fp in pairs)
        return Reads(marshal.dumps([(i, pack(entries)) for i, entries in by_id.items()]), facts)

    def read(self, tok: tuple, name: Any, value: Any) -> None:
        if self.reads is not None and (tok, name) not in self.reads:
            self.reads[(tok, name)] = value

    def wrap(self, value: Any, tok: tuple | None = None, name: Any = None) -> Any:
        """Model objects, and containers holding them, as proxies; other values as they are.
        A proxy holds nothing of the page being rendered, so each one is made once per build."""
        if type(value) in AS_IS:
            return value
        found = self._proxies.get(id(value))
        if found is not None and (type(found[1]) is not Map or found[1]._tok == ("map", tok, name)):
            return found[1]
        proxy = self._wrap(value, tok, name)
        if proxy is not value:
            self._proxies[id(value)] = (value, proxy)  # the value kept alive: its id stays its own
        return proxy

    def _wrap(self, value: Any, tok: tuple | None, name: Any) -> Any:
        if isinstance(value, (Post, Page, Tag, Site)):
            tok = token(value)
            return Obj(value, self, self._intern.setdefault(tok, tok))  # one tuple per object: small pickles
        if isinstance(value, (list, tuple)):
            return Seq(value, self) if self._holds(value) else value
        if isinstance(value, Mapping) and not isinstance(value, Config) and self._holds(value):
            return Map(value, self, ("map", tok, name))
        return value

    def _holds(self, value: Any) -> bool:
        """Whether a container holds model objects, asked once per container (kept alive here)."""
        found = self._holding.get(id(value))
        if found is None:
            found = self._holding[id(value)] = (value, holds_model(list(value.values()) if isinstance(value, Mapping) else value))
        return found[1]

    def asset(self, helper: Callable[[str], str]) -> Callable[[str], str]:
        def asset(name: str) -> str:
            self.read(("asset",), name, self.hashes.get(name.lstrip("/")))
            return helper(name)
        return asset

    def attach(self, env: jinja2.Environment) -> None:
        """Make `env` note what its templates read: template variables through the context, and
        attributes of proxies straight through `env.getattr`, without the failed lookup on the
        proxy's own class that Python makes before calling `__getattr__`."""
        env.context_class = self.context_class()
        fallback = env.getattr

        def getattr_(obj: Any, attribute: str) -> Any:
            if type(obj) is Obj and attribute not in OBJ_OWN:
                try:
                    value = getattr(obj._raw, attribute)
                except AttributeError:
                    # undefined, as Jinja makes it (a model object has no items), named for the
                    # template's author: "post has no attribute 'x'", not a proxy's or cache's class
                    return env.undefined(hint=f"{obj._tok[0]} has no attribute {attribute!r}", obj=obj._raw, name=attribute)
                if type(value) in AS_IS and attribute[:2] != "__":  # most reads: Obj.__getattr__'s first case
                    reads = self.reads
                    if reads is not None:
                        reads.setdefault((obj._tok, attribute), value)
                    return value
                return obj._noted(attribute, value)
            if type(obj) is dict and attribute not in _DICT_OWN:  # `t.home`: Jinja's getattr fails first
                value = obj.get(attribute, missing)
                if value is not missing:
                    return value
            return fallback(obj, attribute)

        env.getattr = getattr_  # type: ignore[method-assign]

    def context_class(self) -> type:
        """A Jinja Context that notes reads of the template variables computed from the posts."""
        tracker = self

        class TrackingContext(Context):
            def resolve_or_missing(self, key: str) -> Any:
                if key in VOLATILE:
                    tracker.read(("shared",), key, tracker.shared.get(key, MISSING))
                if key in self.vars:  # Context.resolve_or_missing, inlined: templates call it for every name
                    return self.vars[key]
                if key in self.parent:
                    return self.parent[key]
                return missing

            def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's own signature)
                """Context.call without its two failed attribute lookups per call, for the plain
                functions and built-in methods a template calls (helpers like `url`); anything that
                may take the context or environment goes through Jinja's own."""
                kind = type(__obj)
                if kind is BuiltinMethodType or (kind is FunctionType and "jinja_pass_arg" not in __obj.__dict__):
                    kwargs.pop("_block_vars", None)
                    kwargs.pop("_loop_vars", None)
                    try:
                        return __obj(*args, **kwargs)
                    except StopIteration:
                        return __self.environment.undefined(
                            "value was undefined because a callable raised a StopIteration exception")
                return super().call(__obj, *args, **kwargs)

        return TrackingContext

    # -- checking a stored page against this build

    def stale(self, tok: tuple, entries: list[tuple]) -> bool:
        """True when a page's reads of `tok` (its `Reads.touched` entries for tok's id) now give a
        different value."""
        return any(t == tok and any(self.current(tok, name) != fp for name, fp in pairs) for t, pairs in entries)

    def current(self, tok: tuple, name: Any) -> bytes:
        """The fingerprint `name` of `tok` has in this build."""
        key = (tok, name)
        if key not in self._fps:
            value = None if name in FROM_SOURCE and tok[0] in SOURCE_KINDS else self._value(tok, name)
            self._fps[key] = self._fp(tok, name, value)
        return self._fps[key]

    def _value(self, tok: tuple, name: Any) -> Any:
        kind = tok[0]
        if kind == "shared":
            return self.shared.get(name, MISSING)
        if kind == "asset":
            return self.hashes.get(str(name).lstrip("/"))
        obj = self._resolve(tok)
        if obj is MISSING or name == "*":
            return obj
        if kind == "map":
            return obj.get(name, MISSING) if isinstance(obj, Mapping) else MISSING
        try:
            return getattr(obj, name)
        except AttributeError:
            return MISSING

    def _resolve(self, tok: tuple) -> Any:
        if tok[0] == "map":
            parent = self._resolve(tok[1])
            return MISSING if parent is MISSING else getattr(parent, tok[2], MISSING)
        return self.objects.get(tok, MISSING)

    def _fp(self, tok: tuple, name: Any, value: Any) -> bytes:
        key = (tok, name)
        found = self._fps.get(key)
        if found is None:
            if name in FROM_SOURCE and tok[0] in SOURCE_KINDS:
                found = fingerprint((self.digests.get(tok, MISSING), name))
            elif name == "*" and tok[0] in SOURCE_KINDS:
                found = fingerprint(self.digests.get(tok, MISSING) if value is not MISSING else MISSING)
            elif name == "*" and value is not MISSING:
                found = fingerprint(whole(value), self.memo)
            else:
                found = fingerprint(value, self.memo)
            self._fps[key] = found
        return found


# ---- templates -----------------------------------------------------------------------------

def template_digests(env: jinja2.Environment, names: Iterable[str], known: dict[str, list | None] | None = None,
                     ) -> dict[str, bytes]:
    """For each page template, a digest of every template it can pull in (extends, include,
    import). A dynamic reference (a name computed at render time) brings in every template.
    `known` remembers each source's references (by source digest) from build to build."""
    sources: dict[str, tuple[str, list | None]] = {}
    known = {} if known is None else known

    def load(name: str) -> tuple[str, list | None]:
        if name not in sources:
            try:
                source, _, _ = env.loader.get_source(env, name)
                digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
                if digest not in known:
                    refs = list(meta.find_referenced_templates(env.parse(source)))
                    known[digest] = None if None in refs else refs
                sources[name] = (source, known[digest])
            except jinja2.TemplateError:
                sources[name] = (os.urandom(16).hex(), [])  # rendering will report it
        return sources[name]

    everything: bytes | None = None
    out: dict[str, bytes] = {}
    for name in names:
        seen, todo, dynamic = set(), [name], False
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            _, refs = load(current)
            if refs is None:
                dynamic = True
                break
            todo.extend(refs)
        if dynamic:
            if everything is None:
                everything = _digest({n: load(n)[0] for n in env.list_templates()})
            out[name] = everything
        else:
            out[name] = _digest({n: sources[n][0] for n in seen})
    return out


def _digest(sources: Mapping[str, str]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode("utf-8", "surrogatepass") + b"\0")
    return h.digest()
