"""`repost build`: the pipeline in one readable function.

load config -> collect -> parse -> model -> plan outputs -> render -> write (only what changed)
-> prune -> report. Parse and render are pure per-file functions; collect, write and prune touch
the disk. The build cache (`.repost-cache/`) may only skip work: a source is parsed again when
its bytes change (`sources.py`), a page is rendered again when anything it read changes
(`incremental.py`, `track.py`); `--clean` starts the cache over. Big batches run on every core
(`parallel.py`).
"""
from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import jinja2

from repost import content, incremental, model, parallel, render, shape, slug
from repost.cache import BuildCache
from repost.config import Config
from repost.errors import RepostError
from repost.incremental import output_key
from repost.records import CacheLost
from repost.sources import parse_sources, stat_inputs
from repost.track import Reads, Tracker, template_digests
from repost.ui import UI, quiet_ui
from repost.write import Writer, check_output_dir, stage


@dataclass
class BuildResult:
    changed: list[str] = field(default_factory=list)  # output-relative POSIX paths whose bytes changed
    removed: list[str] = field(default_factory=list)
    errors: list[RepostError] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0
    output: Path | None = None
    rendered: int = 0  # pages rendered this time (the rest were up to date)
    reused: bool = False  # the last build's model and plan held (an edit that moved nothing)


def build_site(config: Config, *, drafts: bool = False, output: Path | None = None, ui: UI | None = None,
               clean: bool = False, later: Callable[[Callable[[], None]], None] | None = None) -> BuildResult:
    """Build the whole site atomically; raises ContentError/ErrorList and leaves the old output as it was.
    `later` runs what nobody needs to wait for (deleting replaced files); a server passes a thread."""
    ui = ui or quiet_ui()
    try:
        return _build(config, drafts, output, ui, clean, later)
    except CacheLost as exc:  # damaged, or pruned by a build into another folder: start the cache over
        ui.detail(f"{exc}: building without it")
        return _build(config, drafts, output, ui, True, later)


def _build(config: Config, drafts: bool, output: Path | None, ui: UI, clean: bool, later: Callable | None) -> BuildResult:
    start = time.perf_counter()
    out_dir = check_output_dir(Path(output) if output else config.paths.output, config.root, source_dirs(config))
    cache = BuildCache(config, out_dir, enabled=not clean)
    collecting = gc.isenabled()
    gc.disable()  # a build makes many long-lived objects and few cycles: collecting mid-way is waste
    try:
        with ui.stage("collect"):
            post_files, page_files = content.collect(config, ui)
            statics = static_files(config, ui)
            inputs = stat_inputs(config, post_files, page_files, statics, drafts)
            current = incremental.up_to_date(cache, out_dir, inputs.stamp)
        if current is not None:  # nothing changed since the last build into this folder
            ui.detail("up to date")
            _replay(current, ui)
            return BuildResult(pages=current["pages"], seconds=time.perf_counter() - start, output=out_dir)
        with ui.stage("parse"):
            # while workers parse, the parent loads what the model will need for tag slugs (a thread
            # doing more, compiling the templates say, starves the parent's reading of results)
            sources = parse_sources(config, cache, inputs, meanwhile=slug.preload if config.slug == "pinyin" else None)
            last = incremental.LastBuild(cache, out_dir, sources)
            saved = last.reuse(config, sources, inputs.env)  # an edit that moves nothing: same model and plan
            if saved is None:
                ui.detail(f"model and plan made again: {last.why}")
                sources.load(config, cache)
            warnings, warned = sources.warnings(last.warned if saved else None)
            for warning in warnings:
                ui.warn(warning)
        if saved is not None:
            ui.detail("model and plan: as the last build's")
            site, plan, paths, due, updated = saved.site, saved.plan, saved.plan.paths, saved.due, saved.updated
        else:
            with ui.stage("model"):
                due = incremental.next_due(sources.posts, config)
                site = model.build_model(config, sources.posts, sources.pages, drafts=drafts)
                updated = render.newest(site)
            with ui.stage("plan"):
                plan = render.plan_outputs(site, [(rel, config.rel(src)) for rel, src in statics.items()])
                paths = [out.path for out in plan]
        content.report_skipped(site, ui)
        with ui.stage("render"):
            env = render.make_env(config)
            env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(cache.folder))  # compiled templates, by source checksum
            hashes = {rel: render.asset_digest(src.read_bytes()) for rel, src in statics.items() if rel.endswith((".css", ".js"))}
            shared = render.shared_context(site, hashes, updated)
            tracker = Tracker(site, sources.posts, sources.pages, shared, hashes, sources.digests)
            tracker.attach(env)
            last.compare(tracker)
            writer = Writer(out_dir, known=last.files, later=later)
            try:
                if saved is not None:  # same plan, same keys
                    todo = last.to_render(paths, None)
                    keys = {i: last.key(paths[i]) for i in todo}
                    cache.fill(_records(plan[i].context for i in todo))  # what they list, in one read
                else:
                    digests = template_digests(env, {o.template for o in plan}, cache.template_refs)
                    keys = [output_key(tracker, o, digests[o.template]) for o in plan]
                    todo = last.to_render(paths, keys)
                writer.expect(len(todo))
                rendered = render_pages(config, env, tracker, plan, todo, keys, writer)
                writer.keep_all(path for path in paths if path not in rendered)
                for rel, src in sorted(statics.items()):
                    writer.put_file(rel, src)
            except BaseException:
                writer.abort()
                raise
        with ui.stage("write+prune"):
            try:
                changed, removed = writer.commit()
            except BaseException:
                writer.abort()
                raise
            blob = shape.dump(site, plan, updated, due) if saved is None and inputs.env else None
            last.save(writer, paths, statics, rendered, sources,
                      {"stamp": inputs.stamp, "pages": len(plan), "next": due, "warnings": warnings, "skipped": site.skipped},
                      inputs.env, warned, blob)
    finally:
        cache.close()
        if collecting:
            gc.enable()
    seconds = time.perf_counter() - start
    return BuildResult(changed=changed, removed=removed, pages=len(plan), seconds=seconds, output=out_dir,
                       rendered=len(todo), reused=saved is not None)


def render_pages(config: Config, env: jinja2.Environment, tracker: Tracker, plan: Sequence[render.Output],
                 todo: list[int], keys: Sequence[bytes] | Mapping[int, bytes], writer: Writer) -> dict[str, tuple[bytes, Reads]]:
    """Render the planned files in `todo` (on every core when there are many), each straight to the
    writer; returns what each one read, for the cache."""
    # Helpers get model objects as arguments (tracked there); their closures only read the config.
    shared = {**tracker.shared, "site": tracker.wrap(tracker.site), "asset": tracker.asset(tracker.shared["asset"])}
    forked = parallel.worth_it(len(todo), parallel.MIN_RENDER)
    temp = writer.prepare() if forked else None
    if forked:
        _compile(env, {plan[i].template for i in todo})  # once, before the workers inherit them

    def job(i: int) -> tuple:
        out = plan[i]
        tracker.begin()
        try:
            data = render.render_output(env, replace(out, context={k: tracker.wrap(v) for k, v in out.context.items()}), shared)
        finally:
            reads = tracker.end()
        return i, (stage(writer, out.path, data) if temp is not None else data), reads

    done: dict[str, tuple[bytes, Reads]] = {}
    for result in parallel.run(job, sorted(todo, key=lambda i: -_weight(plan[i])), parallel=forked):
        if isinstance(result, parallel.Failure):
            error = result.error()
            if error.path:  # show site templates relative to the root, like content files
                error.path = config.rel(Path(error.path))
            raise error
        i, written, reads = result
        if temp is None:
            writer.put(plan[i].path, written)
        else:
            writer.adopt(plan[i].path, written)
        done[plan[i].path] = (keys[i], reads)
    return done


def _records(contexts: Iterable[Mapping]) -> list:
    """The posts and pages the given page contexts hold (in lists, tuples and pairs too)."""
    found, todo = [], [v for ctx in contexts for v in ctx.values()]
    while todo:
        value = todo.pop()
        if isinstance(value, (model.Post, model.Page)):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            todo.extend(value)
    return found


def _replay(last: dict, ui: UI) -> None:
    """The messages of the build whose output is still current: same input, same warnings."""
    for warning in last["warnings"]:
        ui.warn(warning)
    for line in last["skipped"]:  # as content.report_skipped says them
        ui.info(line) if "future" in line else ui.detail(line)


def _weight(out: render.Output) -> int:
    """Render the big listings first so that no worker is left with one at the end."""
    return sum(len(v) for v in out.context.values() if isinstance(v, (list, tuple)))


def _compile(env: jinja2.Environment, names: set[str]) -> None:
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            pass  # rendering reports it with the file and line


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


def _anything_in(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(True for _ in entries)
    except OSError:
        return os.path.lexists(folder)


def command(config: Config, args, ui: UI) -> int:
    """CLI entry: import new raw dumps (when the importer exists), then build."""
    if _anything_in(config.paths.raw):  # the importer (slow to load) only when there may be dumps
        try:
            from repost.importer import import_paths  # type: ignore[attr-defined]
        except ImportError:
            import_paths = None
        if import_paths is not None:
            import_paths(config, None, ui=ui)
    output = Path(args.output) if getattr(args, "output", None) else None
    if getattr(args, "exiting", False):
        gc.disable()  # the process ends with the build: a build leaves the collector as it found it,
        # and turning it back on would walk everything the build made (0.05 s at 10,000 posts)
    result = build_site(config, drafts=getattr(args, "drafts", False), output=output, ui=ui,
                        clean=getattr(args, "clean", False))
    where = config.rel(result.output) if result.output else "site"
    ui.info(f"built {result.pages} pages into {where}/ in {result.seconds:.2f} s "
            f"({result.rendered} rendered, {len(result.changed)} changed, {len(result.removed)} removed)")
    return 0
