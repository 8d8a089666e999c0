"""What the curator sees: per file, what was found, kept and removed; a summary table per batch."""
from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from repost.importer.batch import FileOutcome, ImportSummary
from repost.importer.apply import Removal
from repost.importer.convert import Report


def report_lines(report: Report, verbose: bool = False) -> list[str]:
    """The per-file report as plain lines: what was found, what moved into the front matter, what was
    stripped (grouped by rule, with counts and line spans); `verbose` adds every removal with its text."""
    out = [f"platforms: {', '.join(report.platforms)}   encoding: {report.encoding}   input: {report.kind}"
           f"   kept: {report.paragraphs} block(s)"]
    for key, (value, where) in report.metadata.items():
        out.append(f"{key}: {_short(value)}   [{where}]")
    lifted = [r for r in report.removed if r.lifted]
    stripped = [r for r in report.removed if not r.lifted]
    if lifted:
        out.append(f"into front matter: {_spans(lifted)}")
    if stripped:
        out.append("stripped: " + ", ".join(_groups(stripped)))
    if verbose:
        for rem in report.removed:
            out.append(f"removed {_span(rem)} by {rem.rule}: {rem.text}")
    for warning in report.warnings:
        out.append(f"warning: {warning}")
    return out


def _short(value: Any, limit: int = 70) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _span(rem: Removal) -> str:
    return f"line {rem.first}" if rem.first == rem.last else f"lines {rem.first}-{rem.last}"


def _spans(removals: list[Removal], most: int = 6) -> str:
    """'line 7', 'lines 36-69', 'lines 1-3, 9, 40-41, … (7 spans)'."""
    parts = [f"{r.first}" if r.first == r.last else f"{r.first}-{r.last}" for r in removals]
    word = "line" if len(parts) == 1 and removals[0].first == removals[0].last else "lines"
    if len(parts) > most:
        return f"{word} {', '.join(parts[:most])}, … ({len(parts)} spans)"
    return f"{word} {', '.join(parts)}"


def _groups(removals: list[Removal]) -> list[str]:
    """One entry per rule, in order of first appearance: 'jianshu.recommendation ×17 (lines 36-69)'."""
    by_rule: dict[str, list[Removal]] = {}
    for rem in removals:
        by_rule.setdefault(rem.rule, []).append(rem)
    out = []
    for rule, rems in by_rule.items():
        count = f" ×{len(rems)}" if len(rems) > 1 else ""
        first, last = min(r.first for r in rems), max(r.last for r in rems)
        span = f"line {first}" if first == last else f"lines {first}-{last}"
        out.append(f"{rule}{count} ({span})")
    return out


def print_outcome(ui: Any, outcome: FileOutcome, dry_run: bool) -> None:
    name = str(outcome.path)
    if outcome.status == "failed":
        ui.error(f"{name}: {outcome.message}")
        return
    if outcome.status == "skipped":
        ui.warn(f"{name}: skipped: {outcome.message}")
        return
    if outcome.status == "unchanged" and not (dry_run and outcome.result is not None):
        ui.detail(f"{name}: unchanged ({outcome.message})")
        return
    ui.info(f"{name}: {outcome.message}")
    if outcome.result is None:
        return
    for line in report_lines(outcome.result.report, verbose=bool(getattr(ui, "verbose", False))):
        if line.startswith("warning: "):
            ui.warn(f"{name}: {line[9:]}")
        else:
            ui.info("  " + line)
    if dry_run:
        ui.info("")
        if not ui.quiet:
            ui.out.print(outcome.result.text, markup=False, highlight=False, end="")


def summary_table(summary: ImportSummary) -> Table:
    table = Table(title="repost import", show_lines=False)
    for col in ("file", "status", "platform", "title / message"):
        table.add_column(col, overflow="fold")
    for o in summary.outcomes:
        platform = o.result.front_matter["source"]["platform"] if o.result else ""
        title = o.result.front_matter["title"] if o.result and o.status in ("imported", "dry-run") else o.message
        style = {"failed": "red", "skipped": "yellow", "unchanged": "dim"}.get(o.status, "green")
        table.add_row(escape(o.path.name), f"[{style}]{o.status}[/]", platform, escape(title))
    table.caption = (f"{summary.imported} imported, {summary.unchanged} unchanged, "
                     f"{summary.skipped} skipped, {summary.failed} failed")
    return table
