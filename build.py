#!/usr/bin/env python3
"""`python build.py ARGS` is `repost ARGS`; with no arguments it means `repost build`."""
import sys

from repost.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build"]))
