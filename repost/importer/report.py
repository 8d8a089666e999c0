"""What the curator sees: per file, what was found, kept and removed; a summary table per batch."""
from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from repost.importer.batch import FileOutcome, ImportSummary
from repost.importer.convert import Report


def report_lines(report: Report) -> list[str]:
    """The per-file report as plain lines (also used by tests and --dry-run)."""
    out = [
        f"platforms: {', '.join(report.platforms)}   encoding: {report.encoding}   input: {report.kind}",
        f"title: {report.title}",
    ]
    for key, (value, where) in report.metadata.items():
        if key != "title":
            out.append(f"{key}: {value}   [{where}]")
    out.append(f"kept: {report.paragraphs} block(s)")
    for rem in report.removed:
        span = f"{rem.first}" if rem.first == rem.last else f"{rem.first}-{rem.last}"
        out.append(f"removed lines {span} by {rem.rule}: {rem.text}")
    for warning in report.warnings:
        out.append(f"warning: {warning}")
    return out


def print_outcome(ui: Any, outcome: FileOutcome, dry_run: bool) -> None:
    name = str(outcome.path)
    if outcome.status == "failed":
        ui.error(f"{name}: {outcome.message}")
        return
    if outcome.status == "unchanged":
        ui.detail(f"{name}: unchanged ({outcome.message})")
        return
    if outcome.status == "skipped":
        ui.warn(f"{name}: skipped: {outcome.message}")
        return
    ui.info(f"{name}: {outcome.message}")
    if outcome.result is None:
        return
    for line in report_lines(outcome.result.report):
        if line.startswith("warning: "):
            ui.warn(f"{name}: {line[9:]}")
        elif line.startswith("removed "):
            ui.detail("  " + line)
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
