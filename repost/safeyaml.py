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
    value = node.value
    tag = node.tag
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
        return float(value)
    return value


def dump(data: Any) -> str:
    """Deterministic, human-friendly YAML (keys in given order, Unicode kept)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000)
