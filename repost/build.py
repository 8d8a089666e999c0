"""`repost build`: the pipeline in one readable function.

load config -> collect -> parse -> model -> plan outputs -> render -> write (only what changed)
-> prune -> report. Parse and render are pure per-file functions; collect, write and prune touch
the disk. Nothing is kept between calls, so the preview server may call `build_site` repeatedly.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from repost import content, render
from repost.config import Config
from repost.errors import ContentError, RepostError
from repost.ui import UI, quiet_ui
from repost.write import Writer, check_output_dir


@dataclass
class BuildResult:
    changed: list[str] = field(default_factory=list)  # output-relative POSIX paths whose bytes changed
    removed: list[str] = field(default_factory=list)
    errors: list[RepostError] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    output: Path | None = None


def build_site(config: Config, *, drafts: bool = False, output: Path | None = None, ui: UI | None = None) -> BuildResult:
    """Build the whole site atomically; raises ContentError/ErrorList and leaves the old output as it was."""
    ui = ui or quiet_ui()
    start = time.perf_counter()
    out_dir = check_output_dir(Path(output) if output else config.paths.output, config.root, source_dirs(config))
    with ui.stage("collect"):
        post_files, page_files = content.collect(config, ui)
        statics = static_files(config, ui)
    with ui.stage("parse"):
        posts, pages = content.parse_files(config, post_files, page_files, ui)
    with ui.stage("model"):
        site = content.build_model(config, posts, pages, drafts=drafts)
        content.report_skipped(site, ui)
    with ui.stage("plan"):
        plan = render.plan_outputs(site)
        render.check_collisions([(o.path, o.source) for o in plan] + [(rel, config.rel(src)) for rel, src in statics.items()])
    with ui.stage("render"):
        env = render.make_env(config)
        hashes = {rel: render.asset_digest(src.read_bytes()) for rel, src in statics.items() if rel.endswith((".css", ".js"))}
        shared = render.shared_context(site, hashes)
        try:
            rendered = [(out.path, render.render_output(env, out, shared)) for out in plan]
        except ContentError as exc:
            if exc.path:  # show site templates relative to the root, like content files
                exc.path = config.rel(Path(exc.path))
            raise
    with ui.stage("write+prune"):
        writer = Writer(out_dir)
        try:
            for rel, data in rendered:
                writer.put(rel, data)
            for rel, src in sorted(statics.items()):
                writer.put_file(rel, src)
            changed, removed = writer.commit()
        except BaseException:
            writer.abort()
            raise
    seconds = time.perf_counter() - start
    return BuildResult(changed=changed, removed=removed, pages=len(plan), seconds=seconds, output=out_dir)


def source_dirs(config: Config) -> list[Path]:
    return [config.paths.content, config.paths.layouts, config.paths.static, config.paths.raw]


def static_files(config: Config, ui: UI) -> dict[str, Path]:
    """Theme static files overlaid by the site's `static/` (same relative path wins)."""
    files: dict[str, Path] = {}
    for folder in (render.theme_dir() / "static", config.paths.static):
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):  # does not follow symlinked folders
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if _visible(d) and not _symlink(here / d, config, ui))
            for name in sorted(filter(_visible, filenames)):
                path = here / name
                if not _symlink(path, config, ui) and path.is_file():
                    files[path.relative_to(folder).as_posix()] = path
    return dict(sorted(files.items()))


def _visible(name: str) -> bool:
    return not name.startswith(".") or name == ".well-known"


def _symlink(path: Path, config: Config, ui: UI) -> bool:
    if path.is_symlink():
        ui.warn(f"{config.rel(path)}: symlink not followed")
        return True
    return False


def command(config: Config, args, ui: UI) -> int:
    """CLI entry: import new raw dumps (when the importer exists), then build."""
    try:
        from repost.importer import import_paths  # type: ignore[attr-defined]
    except ImportError:
        import_paths = None
    if import_paths is not None:
        import_paths(config, None, ui=ui)
    output = Path(args.output) if getattr(args, "output", None) else None
    result = build_site(config, drafts=getattr(args, "drafts", False), output=output, ui=ui)
    where = config.rel(result.output) if result.output else "site"
    ui.info(f"built {result.pages} pages into {where}/ in {result.seconds:.2f} s "
            f"({len(result.changed)} changed, {len(result.removed)} removed)")
    return 0
