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
_SURROGATE = re.compile("[\ud800-\udfff]")
_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")


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
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return _BAD_CHARS.sub("", text)


def split(text: str, path: str | Path | None = None) -> Document:
    """Parse `---`-delimited YAML front matter (optional) and return it with the body."""
    text = clean_text(text)
    lines = text.split("\n")
    if not lines or not _FENCE.match(lines[0]):
        return Document({}, safeyaml.YamlDoc({}), text, 1)
    for end in range(1, len(lines)):
        if _END.match(lines[end]):
            break
    else:
        raise ContentError(path, 1, "front matter opened with '---' on line 1 is never closed (add a line '---' after it)")
    doc = safeyaml.load("\n".join(lines[1:end]), path, first_line=2)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ContentError(path, 2, f"front matter must be a mapping of keys to values, not a {type(doc.data).__name__}")
    _check_strings(doc.data, (), doc, path)
    body = "\n".join(lines[end + 1:])
    return Document(doc.data, doc, body, end + 2)


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
