"""Errors are values with a file, a line and a message; only the CLI turns them into exit codes."""
from __future__ import annotations

from pathlib import Path


class RepostError(Exception):
    """Base of every error the CLI reports as one line (exit 1) instead of a traceback."""

    exit_code = 1

    def format(self) -> str:
        return str(self)


class ContentError(RepostError):
    """Something wrong in one input file; `line` is 1-based, or None when unknown."""

    def __init__(self, path: str | Path | None, line: int | None, message: str):
        super().__init__(message)
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = message

    def format(self) -> str:
        where = self.path or "<input>"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"

    def __str__(self) -> str:
        return self.format()


class ConfigError(ContentError):
    """An error in config.yaml (or in a rule pack or deploy target it names)."""


class TargetError(RepostError):
    """A deploy target is wrong or failed; names the target."""


class UsageError(RepostError):
    """Wrong command-line usage (exit 2)."""

    exit_code = 2


class ErrorList(RepostError):
    """Several errors reported at once (config validation, a build with many bad posts)."""

    def __init__(self, errors: list[RepostError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = list(errors)

    def format(self) -> str:
        return "\n".join(e.format() for e in self.errors)

    def __str__(self) -> str:
        return self.format()


def raise_all(errors: list[RepostError]) -> None:
    """Raise nothing, the one error, or an ErrorList of all of them."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)
