"""Messages and progress on the terminal: errors to stderr, one line each, through rich."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator


class _LazyConsole:
    """A rich Console made on first use: a run that prints nothing (-q) does not load rich."""

    def __init__(self, **options: Any):
        self._options, self._console = options, None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


def escape(msg: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(msg)


@dataclass
class UI:
    """What a command may say. Tests construct one with `quiet=True` or read `UI.lines`."""

    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    out: Any = field(default_factory=lambda: _LazyConsole(highlight=False, soft_wrap=True))
    err: Any = field(default_factory=lambda: _LazyConsole(stderr=True, highlight=False, soft_wrap=True))

    def info(self, msg: str) -> None:
        if not self.quiet:
            self.out.print(escape(msg))

    def detail(self, msg: str) -> None:
        """Only with -v: stage timings, each file."""
        if self.verbose and not self.quiet:
            self.out.print(escape(msg), style="dim")

    def warn(self, msg: str) -> None:
        if not self.quiet:
            self.err.print(f"[yellow]warning:[/] {escape(msg)}")

    def error(self, msg: str) -> None:
        self.err.print(f"[red]error:[/] {escape(msg)}")

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a pipeline stage; logged with -v."""
        start = time.perf_counter()
        yield
        self.detail(f"{name}: {(time.perf_counter() - start) * 1000:.0f} ms")

    @property
    def interactive(self) -> bool:
        return not self.quiet and sys.stderr.isatty()


def quiet_ui() -> UI:
    return UI(quiet=True)
