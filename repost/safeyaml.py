"""A YAML loader for untrusted text: no tags, no anchors or aliases, no duplicate keys.

Scalars resolve like YAML 1.2's core schema (`no`, `on` and `0123` stay strings; dates stay
strings and are parsed by the schema that knows the site's timezone). Every value keeps its
line so that schema errors can name it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from repost.errors import ContentError

MAX_EVENTS = 100_000


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?(?:0|[1-9][0-9]*))$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


@dataclass
class YamlDoc:
    """Plain Python data plus the 1-based line of every key path."""

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, *path: Any) -> int | None:
        """The line of the deepest known prefix of `path`."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())


def load(text: str, path: Any = None, first_line: int = 1) -> YamlDoc:
    """Parse `text` safely; `first_line` is the file line where `text` starts."""
    offset = first_line - 1
    if _CParser is not None and not _unusual(text):
        try:
            return _load_fast(text, offset)
        except _Undecided:
            pass  # the careful path below gives the exact error (or the same data)
    try:
        _refuse_tags_and_aliases(text, path, offset)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark else None
        msg = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ContentError(path, line, f"invalid YAML: {msg}") from None
    except yaml.YAMLError as exc:
        raise ContentError(path, None, f"invalid YAML: {exc}") from None
    doc = YamlDoc(None)
    if node is not None:
        doc.data = _build(node, (), doc.lines, path, offset)
    return doc


# ---- fast path: libyaml events -> data, same rules ------------------------------------------
# Any document it is unsure about (an error, a tag, an anchor, a duplicate key, too many events)
# goes to the pure-Python path above, so messages and lines come from one place.

try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None


# Where PyYAML and libyaml disagree (found by fuzzing both): tabs and unusual line breaks, a
# comment glued to a block scalar header, and '?' inside a flow collection.
# (Three searches: the last two only when their '#' or '?' is in the text at all.)
_UNUSUAL_CHAR = re.compile("[\t\r\x85\u2028\u2029\ufeff]")
_HEADER_COMMENT = re.compile("[|>][-+0-9]*#")
_FLOW_QUESTION = re.compile("[\\[{][^\\]}]*[?]")


def _unusual(text: str) -> bool:
    return bool(_UNUSUAL_CHAR.search(text) or ("#" in text and _HEADER_COMMENT.search(text))
                or ("?" in text and _FLOW_QUESTION.search(text)))


class _Undecided(Exception):
    """The fast path leaves this document to the careful one."""


def _load_fast(text: str, offset: int) -> YamlDoc:
    try:
        parser = _CParser(text)
    except Exception:
        raise _Undecided from None
    try:
        events = _counted(parser)
        doc = YamlDoc(None)
        next(events)  # stream start
        event = next(events)
        if isinstance(event, yaml.StreamEndEvent):
            return doc
        if not isinstance(event, yaml.DocumentStartEvent):
            raise _Undecided
        doc.data = _fast_node(events, next(events), (), doc.lines, offset)
        if not isinstance(next(events), yaml.DocumentEndEvent) or not isinstance(next(events), yaml.StreamEndEvent):
            raise _Undecided  # more than one document: the careful path says so
        return doc
    except Exception:  # a libyaml error or anything unusual: the careful path decides
        raise _Undecided from None
    finally:
        parser.dispose()


def _counted(parser):
    """The parser's events, at most MAX_EVENTS of them."""
    get = parser.get_event
    for _ in range(MAX_EVENTS):
        event = get()
        if event is None:
            return
        yield event
    if get() is not None:
        raise _Undecided


def _fast_node(events, event, key: tuple, lines: dict, offset: int, value_of_key: bool = False) -> Any:
    if event.anchor is not None or type(event) is yaml.AliasEvent or event.tag is not None:  # an alias has an anchor
        raise _Undecided
    lines[key] = event.start_mark.line + 1 + offset
    kind = type(event)
    if kind is yaml.ScalarEvent:
        if not event.value and not value_of_key:
            raise _Undecided  # libyaml marks an empty scalar elsewhere; only a key's line hides that
        return _resolve(event.value) if event.implicit[0] else event.value
    if kind is yaml.SequenceStartEvent:
        items = []
        while type(event := next(events)) is not yaml.SequenceEndEvent:
            items.append(_fast_node(events, event, key + (len(items),), lines, offset))
        return items
    if kind is yaml.MappingStartEvent:
        result: dict = {}
        while type(kev := next(events)) is not yaml.MappingEndEvent:
            if type(kev) is not yaml.ScalarEvent or kev.anchor is not None or kev.tag is not None:
                raise _Undecided
            name = _resolve(kev.value) if kev.implicit[0] else kev.value
            if not isinstance(name, (str, int)) or isinstance(name, bool):
                name = kev.value
            if name in result:
                raise _Undecided
            result[name] = _fast_node(events, next(events), key + (name,), lines, offset, True)
            lines[key + (name,)] = kev.start_mark.line + 1 + offset
        return result
    raise _Undecided


def _resolve(value: str) -> Any:
    """A plain scalar as the careful path's resolver and `_scalar` would read it."""
    resolvers = _Loader.yaml_implicit_resolvers.get(value[:1], [])
    for tag, regexp in resolvers:
        if regexp.match(value):
            return _convert(tag, value)
    return value


def _refuse_tags_and_aliases(text: str, path: Any, offset: int) -> None:
    for count, event in enumerate(yaml.parse(text, Loader=_Loader)):
        line = event.start_mark.line + 1 + offset
        if count > MAX_EVENTS:
            raise ContentError(path, line, "YAML document too large")
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ContentError(path, line, "YAML anchors and aliases are not allowed")
        if getattr(event, "tag", None) is not None and not isinstance(event, yaml.DocumentStartEvent):
            raise ContentError(path, line, f"YAML tags are not allowed ({event.tag})")


def _build(node: yaml.Node, key: tuple, lines: dict, path: Any, offset: int) -> Any:
    lines[key] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                raise ContentError(path, knode.start_mark.line + 1 + offset, "mapping keys must be plain scalars")
            name = _scalar(knode)
            if not isinstance(name, (str, int)) or isinstance(name, bool):
                name = knode.value
            if name in result:
                raise ContentError(path, knode.start_mark.line + 1 + offset, f"duplicate key '{name}'")
            result[name] = _build(vnode, key + (name,), lines, path, offset)
            lines[key + (name,)] = knode.start_mark.line + 1 + offset
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, key + (i,), lines, path, offset) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    return _convert(node.tag, node.value)


def _convert(tag: str, value: str) -> Any:
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        return int(value)
    if tag == "tag:yaml.org,2002:float":
        low = value.lower()
        if low.endswith("inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low.endswith("nan"):
            return float("nan")
        return float(value)
    return value


def dump(data: Any) -> str:
    """Deterministic, human-friendly YAML (keys in given order, Unicode kept)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
