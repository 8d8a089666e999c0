"""Split a Markdown file into YAML front matter and body, failing loudly instead of guessing.

python-frontmatter silently returns empty metadata (and leaves the YAML in the body) when the
block is malformed; here a file that starts with `---` either parses or names its line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repost import safeyaml
from repost.errors import ContentError

# Characters that are invalid in XML 1.0 or dangerous in titles (bidi overrides, BOM inside text).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff\u200b\u202a-\u202e\u2066-\u2069]")
_DIRTY = re.compile(_BAD_CHARS.pattern[:-1] + "\r\u2028\u2029]")  # anything clean_text would change
_SURROGATE = re.compile("[\ud800-\udfff]")
_FENCE = re.compile(r"---[ \t]*$")  # matched against the first line alone
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """Front matter data (with line numbers) and the body text that follows it."""

    meta: dict[str, Any]
    yaml: safeyaml.YamlDoc
    body: str
    body_line: int  # 1-based file line where the body starts

    def line_of(self, *keys: Any) -> int | None:
        return self.yaml.line_of(*keys) if self.meta else 1


def clean_text(text: str) -> str:
    """Normalise line endings and drop characters no XML output may carry."""
    if _DIRTY.search(text) is None:  # the usual file: one scan instead of five
        return text
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _BAD_CHARS.sub("", text)


def split(text: str, path: str | Path | None = None) -> Document:
    """Parse `---`-delimited YAML front matter (optional) and return it with the body."""
    text = clean_text(text)
    first = text.find("\n")
    if not _FENCE.match(text, 0, first if first >= 0 else len(text)):
        return Document({}, safeyaml.YamlDoc({}), text, 1)
    end = _END.search(text, first) if first >= 0 else None
    if end is None:
        raise ContentError(path, 1, "front matter opened with '---' on line 1 is never closed (add a line '---' after it)")
    yaml_text = text[first + 1:end.start() - 1]
    doc = safeyaml.load(yaml_text, path, first_line=2)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ContentError(path, 2, f"front matter must be a mapping of keys to values, not a {type(doc.data).__name__}")
    if "\\" in yaml_text or _SURROGATE.search(yaml_text):  # only an escape or the text itself can hold one
        _check_strings(doc.data, (), doc, path)
    return Document(doc.data, doc, text[end.end() + 1:], text.count("\n", 0, end.start()) + 2)


def _check_strings(value: Any, key: tuple, doc: safeyaml.YamlDoc, path) -> None:
    """YAML escapes can smuggle lone surrogates ("\\ud800") that no file or URL can hold."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k, key, doc, path)
            _check_strings(v, key + (k,), doc, path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_strings(v, key + (i,), doc, path)
    elif isinstance(value, str) and _SURROGATE.search(value):
        raise ContentError(path, doc.line_of(*key), "text contains an invalid character (a lone UTF-16 surrogate escape)")
