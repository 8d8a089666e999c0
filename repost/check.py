"""`repost check`: lint the site so a curated blog stays honest.

A check run reads like a pipeline: load every content file as the build does (collected the same
way, each file's record taken from the build cache or parsed by the build's own loader,
`content.parse_post`; a file that fails to parse gets every front matter error at once: the
schema check), run the rules of `check_rules.py` over the loaded files, then sort the findings
by file and line and print them (`path:line: level: message`). The files and the report are
`check_files.py`'s; what a build cached is taken from its cache, and what check derives per file
is kept in its own (`check_cache.py`), so checking an unchanged site reads almost nothing.
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from repost import content, model, parallel
from repost.check_cache import LOST, Facts, Memory
from repost.check_files import LEVELS, Recorder, Report, SourceFile
from repost.check_rules import (check_attribution, check_duplicates, check_links, check_outputs, check_permission,
                                 check_provenance, derive_facts)
from repost.config import Config
from repost.errors import ErrorList, RepostError
from repost.ui import UI, quiet_ui

_WARNING_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+|None): (?P<msg>.*)$", re.S)


# ---- load -----------------------------------------------------------------------------------

def parse(config: Config, f: SourceFile) -> model.Post | model.Page:
    """The build's per-file parser (the one whose records the build cache keeps)."""
    fn = content.parse_post if f.kind == "post" else content.parse_page
    return fn(config, f.path, f.rel, f.read())


def load(config: Config, report: Report, memory: Memory) -> list[SourceFile]:
    """Collect like the build does; take each file's record from the build cache or parse it, and
    turn every problem into findings; then each file's facts (from the check cache or derived)."""
    notes: list[str] = []
    post_files, page_files = content.collect(config, Recorder(notes))
    for note in notes:
        path, _, msg = note.rpartition(": ")
        report.add(_rel(config, Path(path)) if path else "content", None, "warning", msg, "files")
    files = ([SourceFile(p, _rel(config, p), "post") for p in post_files]
             + [SourceFile(p, _rel(config, p), "page") for p in page_files])
    for f in files:
        f.digest, f.data = memory.identify(f.kind, f.path, f.rel)
    cached = memory.records({f.digest: f.path for f in files if f.digest})
    base_path = urlsplit(config.base_url).path or "/"
    for f in files:
        f.record = cached.get(f.digest) if f.digest else None
        f.facts = memory.facts.get(f.digest) if f.record is not None else None
    _prepare(config, [f for f in files if f.facts is None], base_path)
    for f in files:
        if f.record is None and f.failure is None:  # a cached record lost meanwhile: parse it here
            try:
                f.record = parse(config, f)
            except RepostError as exc:
                f.failure = _failure(exc)
        if f.failure is not None:
            _schema_errors(config, f, f.failure, report)
            f.facts = derive_facts(f, None, base_path)
            continue
        for warning in f.record.warnings:
            _add_warning(report, f, warning)
        if f.facts is None:
            f.facts = derive_facts(f, f.record, base_path)
        if f.digest and f.digest not in memory.facts:
            memory.remember(f.digest, f.facts)
    return files


def _prepare(config: Config, todo: list[SourceFile], base_path: str) -> None:
    """Parse the files the build cache does not have and derive the facts the check cache does not
    have: on every core when there are many (the build's parse pool). A cached record whose HTML
    the build cache lost meanwhile (another build pruned it) is dropped: `load` parses the file."""
    def job(i: int) -> tuple[int, model.Post | model.Page | None, Facts | None, list | None]:
        f = todo[i]
        record = f.record
        try:
            if record is None:
                record = parse(config, f)
            return i, record if f.record is None else None, derive_facts(f, record, base_path), None
        except RepostError as exc:
            return i, None, None, _failure(exc)
        except LOST:
            return i, None, None, None

    many = parallel.worth_it(len(todo), parallel.MIN_PARSE)
    for i, record, facts, failure in parallel.run(job, list(range(len(todo))), parallel=many):
        f = todo[i]
        f.record, f.facts, f.failure = record or (f.record if facts else None), facts, failure


def _schema_errors(config: Config, f: SourceFile, failure: list[tuple[int | None, str]], report: Report) -> None:
    """All front matter errors of a file that failed to parse, not only the first."""
    errors, warnings = content.front_matter_errors(config, f.rel, f.text, page=f.kind == "page") if f.text else ([], [])
    seen = set()
    for line, msg in [*_failure(errors), *failure]:
        if (line, msg) not in seen:
            seen.add((line, msg))
            report.add(f, line, "error", msg, "schema")
    for warning in warnings:
        _add_warning(report, f, warning)


def _failure(exc: RepostError | list) -> list[tuple[int | None, str]]:
    """(line, message) of each error a parse raised: plain values, so a worker can send them back."""
    errors = exc if isinstance(exc, list) else exc.errors if isinstance(exc, ErrorList) else [exc]
    return [(getattr(err, "line", None), getattr(err, "message", None) or str(err)) for err in errors]


def _add_warning(report: Report, f: SourceFile, text: str) -> None:
    match = _WARNING_LINE.match(text)
    if match and match.group("path") == f.rel:
        line = match.group("line")
        report.add(f, int(line) if line.isdigit() else None, "warning", match.group("msg"), "schema")
    else:
        report.add(f, None, "warning", text, "schema")


def _rel(config: Config, path: Path) -> str:
    """Like config.rel, without resolving (a symlink is named where it is, not where it points)."""
    text, root = os.path.abspath(path), str(config.root)
    if text.startswith(root + os.sep):
        return text[len(root) + 1:].replace(os.sep, "/")
    return config.rel(path)


# ---- the command ----------------------------------------------------------------------------

def run_checks(config: Config, *, drafts: bool = False, cache: bool = True) -> Report:
    """Every check over the site; findings sorted by file and line. `cache=False` neither reads
    nor writes any cache (the same findings, slower)."""
    report = Report()
    memory = Memory(config, enabled=cache)
    try:
        files = load(config, report, memory)
        parsed = [f for f in files if f.record is not None and (drafts or not f.record.draft)]
        posts = [f for f in parsed if f.kind == "post"]
        report.posts, report.pages = len([f for f in files if f.kind == "post"]), len([f for f in files if f.kind == "page"])
        check_attribution(config, posts, report)
        check_permission(config, posts, report)
        check_duplicates(config, parsed, report)
        outputs = check_outputs(config, parsed, drafts, report)
        check_links(config, [f for f in files if f.facts.has_text and (f.record is None or drafts or not f.record.draft)],
                    outputs, report)
        check_provenance(config, posts, report, memory)
    except BaseException:
        memory.close(None)
        raise
    memory.close({f.digest for f in files if f.digest})
    report.findings.sort(key=lambda x: (x.path, x.line or 0, LEVELS.index(x.level), x.message))
    return report


def command(config: Config, args, ui: UI) -> int:
    """Print the findings; exit 1 on any error (or any warning with --strict)."""
    ui = ui or quiet_ui()
    strict = bool(getattr(args, "strict", False))
    report = run_checks(config, drafts=bool(getattr(args, "drafts", False)))
    errors, warnings = report.count("error"), report.count("warning")
    if getattr(args, "format", "text") == "json":
        sys.stdout.write(json.dumps([asdict(f) for f in report.findings], ensure_ascii=False, indent=2) + "\n")
    else:
        shown = [finding.format() for finding in report.findings if finding.level == "error" or not ui.quiet]
        if shown:  # one print: rich costs ~0.1 ms a call
            ui.out.print("\n".join(shown), markup=False, emoji=False, highlight=False)
        ui.info(f"checked {report.posts} posts and {report.pages} pages: {errors} error(s), {warnings} warning(s)"
                + (" (--strict: warnings count as errors)" if strict and warnings else ""))
    return 1 if errors or (strict and warnings) else 0
