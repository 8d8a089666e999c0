#!/usr/bin/env python3
"""`python build.py ARGS` is `repost ARGS`; without a command it means `repost build`
(so `python build.py`, `python build.py -v` and `python build.py --drafts` all build)."""
import sys

from repost.cli import COMMANDS, run


def _with_default_command(argv: list[str]) -> list[str]:
    if any(arg in COMMANDS for arg in argv) or any(arg in ("-h", "--help", "--version") for arg in argv):
        return argv
    return ["build", *argv]


if __name__ == "__main__":
    run(_with_default_command(sys.argv[1:]))
