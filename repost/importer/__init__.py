"""`repost import`: raw dumps (copied text, saved pages, Markdown) -> attributed Markdown posts.

A chain of pure functions (decode -> lines -> detect and apply rule packs -> structure -> emit)
behind `import_dump`, and one batch (`import_paths`) that decides what is written. The rule packs
are data: `repost/importer/packs/*.yaml`, plus the site's own folders from `import.rules`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from repost.importer.batch import FileOutcome, ImportSummary, import_paths
from repost.importer.convert import ImportResult, Report, import_dump
from repost.importer.packs import Pack, Packs, load_packs

__all__ = ["import_dump", "import_paths", "load_packs", "command", "ImportResult", "ImportSummary", "Report",
           "Pack", "Packs", "FileOutcome"]

PROGRESS_FROM = 10  # files; fewer than this get no progress bar


def command(config: Any, args: Any, ui: Any) -> int:
    """The CLI: import, print each file's report and a summary table; exit 1 if any file failed."""
    from repost.importer.report import print_outcome, summary_table

    paths = [Path(p) for p in (getattr(args, "paths", None) or [])] or None
    dry_run = bool(getattr(args, "dry_run", False))
    packs = load_packs(config)
    if getattr(args, "platform", None) and packs.get(args.platform) is None:
        from repost.errors import UsageError

        raise UsageError(f"unknown platform {args.platform!r} (known: {', '.join(packs.ids)})")
    kwargs = dict(platform=getattr(args, "platform", None), force=bool(getattr(args, "force", False)),
                  dry_run=dry_run, lossy=bool(getattr(args, "lossy", False)), ui=ui, packs=packs)
    progress = None
    if ui.interactive and not dry_run:
        from repost.importer.batch import collect

        files, _ = collect(config, paths, lambda msg: None)
        if len(files) >= PROGRESS_FROM:
            from rich.progress import Progress

            progress = Progress(console=ui.err, transient=True)
            task = progress.add_task("importing", total=len(files))
    if progress is not None:
        with progress:
            summary = import_paths(config, paths, on_file=lambda o: (progress.advance(task), print_outcome(ui, o, dry_run)), **kwargs)
    else:
        summary = import_paths(config, paths, on_file=lambda o: print_outcome(ui, o, dry_run), **kwargs)
    if not summary.outcomes:
        ui.info(f"nothing to import (no dumps in {config.rel(config.paths.raw)})")
        return 0
    if not ui.quiet and (len(summary.outcomes) > 1 or dry_run or summary.imported):
        ui.out.print(summary_table(summary))
    return 1 if summary.failed else 0
