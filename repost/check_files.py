"""What one `repost check` run holds: each content file, and the findings reported about it.

`SourceFile` is check's view of one post or page: the digest that keys both caches, the text
(read only when a finding needs it), the parsed record, and the facts derived from it. Finding a
front matter key's line scans the indentation first, so a finding costs microseconds instead of
a YAML parse. `check.load` fills these in, the rules (`check_rules.py`) read them and add
`Finding`s to the `Report`, and `check.command` prints it. Both sides import them from here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from repost import content, frontmatter, model
from repost.check_cache import Facts
from repost.errors import ContentError

LEVELS = ("error", "warning", "note")
_FENCE = re.compile(r"^---[ \t]*$")
_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    level: str  # error | warning | note
    message: str
    check: str  # schema | attribution | permission | duplicate | links | provenance | files

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


@dataclass
class SourceFile:
    """One content file: its digest, its text (read on first use), the parsed record when it
    parsed, and the facts check derives from it."""

    path: Path
    rel: str
    kind: str  # post | page
    record: model.Post | model.Page | None = None
    digest: str | None = None
    data: bytes | None = field(default=None, repr=False)  # bytes read to hash them, until decoded
    facts: Facts | None = None
    failure: list[tuple[int | None, str]] | None = None  # (line, message) of each parse error
    _text: str | None = field(default=None, repr=False)
    _doc: frontmatter.Document | None = field(default=None, repr=False)
    _clean: str | None = field(default=None, repr=False)

    def read(self) -> str:
        """The text; raises ContentError (every time) when the file cannot be read or is not UTF-8."""
        if self._text is None:
            data = self.data
            self._text = content.decode(data, self.rel) if data is not None else content.read_text(self.path, self.rel)
            self.data = None
        return self._text

    @property
    def text(self) -> str:
        try:
            return self.read()
        except ContentError:
            return ""

    def line(self, *keys: str) -> int | None:
        """The line of a front matter key: found by indentation first (no YAML parse, so a
        finding costs microseconds), else through the front matter parser."""
        found = _scan_line(self.clean, keys)
        if found is not None:
            return found
        if self._doc is None:
            try:
                self._doc = frontmatter.split(self.text, self.rel)
            except ContentError:
                return None
        return self._doc.line_of(*keys) if keys else 1

    @property
    def clean(self) -> str:
        """The text as the parser numbers its lines (LF line ends, no BOM)."""
        if self._clean is None:
            self._clean = frontmatter.clean_text(self.text)
        return self._clean

    @property
    def body_line(self) -> int:
        """The first line after the closing `---` (1 without front matter)."""
        lines = self.clean.split("\n")
        if not lines or not _FENCE.match(lines[0]):
            return 1
        return next((i + 2 for i in range(1, len(lines)) if _END.match(lines[i])), 1)


def _scan_line(text: str, keys: tuple[str, ...]) -> int | None:
    """Line of `key:` at column 0, then of `sub:` indented beneath it, in the front matter."""
    lines = text.split("\n")
    if not keys or not _FENCE.match(lines[0]):
        return None
    depth, parent_indent = 0, -1
    for number, line in enumerate(lines[1:], 2):
        if _END.match(line):
            break
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if depth and indent <= parent_indent:
            return None  # left the parent mapping without finding the key
        if stripped.startswith(f"{keys[depth]}:") and (indent == 0 if depth == 0 else indent > parent_indent):
            if depth == len(keys) - 1:
                return number
            depth, parent_indent = depth + 1, indent
    return None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    posts: int = 0
    pages: int = 0

    def add(self, f: SourceFile | str, line: int | None, level: str, message: str, check: str) -> None:
        path = f.rel if isinstance(f, SourceFile) else f
        self.findings.append(Finding(path, line, level, message, check))

    def count(self, level: str) -> int:
        return sum(1 for f in self.findings if f.level == level)


class Recorder:
    """Stands in for the UI while collecting, so its warnings become findings."""

    def __init__(self, sink: list[str]):
        self.sink = sink

    def warn(self, msg: str) -> None:
        self.sink.append(msg)

    info = detail = lambda self, msg: None
