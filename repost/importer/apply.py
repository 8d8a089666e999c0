"""Apply composed rule packs to a dump's lines: lift metadata, cut chrome, keep every body line.

A line leaves the body only when a named rule claims it, and every claim is recorded with its
rule and line span for the report. The stages, in order:

1. `meta`: metadata lifted by named groups (the matched lines go unless `keep: true`);
2. `drop`: lines and multi-line blocks (login bars, recommendation lists) wherever they stand;
3. `footer_start` / `end`: the earliest marker (claimed or not) that is near the end cuts
   everything after it;
4. the title (a metadata `title`, a Markdown `# ` line, or the first line left), then
   `header_end`: the last marker in the head cuts everything before it;
5. `after_title`-style confirmations and title repeats.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from repost.importer.blocks import Line
from repost.importer.packs import Pack, Rule

_SENTENCE_END = "。！？!?….;；"


@dataclass(frozen=True)
class Removal:
    rule: str
    first: int
    last: int
    text: str
    lifted: bool = False   # the lines went into the front matter (title, byline, notice), not away


@dataclass(frozen=True)
class MetaHit:
    value: str
    rule: str
    line: int


@dataclass
class Applied:
    body: list[Line]
    meta: dict[str, MetaHit]
    removals: list[Removal]
    title: MetaHit | None = None
    notes: list[str] = field(default_factory=list)


class _Doc:
    """The lines plus who claimed which; `free` lists the unclaimed lines that have words."""

    def __init__(self, lines: list[Line]):
        self.lines = lines
        self.claimed: dict[int, str] = {}
        self.removals: list[Removal] = []
        self.meta: dict[str, MetaHit] = {}
        self.anchors: list[tuple[int, int, Rule]] = []  # bylines that say where the title is, pack order

    def free(self) -> list[int]:
        return [i for i, ln in enumerate(self.lines)
                if i not in self.claimed and not ln.blank and not ln.protected and not ln.image]

    def worded(self) -> list[int]:
        """Every line with words, claimed or not: markers still mark where chrome starts."""
        return [i for i, ln in enumerate(self.lines) if not ln.blank and not ln.protected and not ln.image]

    def claim(self, first: int, last: int, rule: str, *, include_protected: bool = False, lifted: bool = False) -> None:
        """Claim the unclaimed lines of a span; the report gets one entry per contiguous run."""
        run: list[int] = []
        for i in range(first, last + 2):
            free = i <= last and i not in self.claimed and (include_protected or not self.lines[i].protected)
            if free:
                self.claimed[i] = rule
                run.append(i)
            elif run:
                self._record(run, rule, lifted)
                run = []

    def _record(self, run: list[int], rule: str, lifted: bool = False) -> None:
        words = [self.lines[i].plain for i in run if self.lines[i].plain]
        if not words and all(self.lines[i].blank for i in run):
            return
        text = words[0] if words else self.lines[run[0]].raw.strip()
        self.removals.append(Removal(rule, self.lines[run[0]].no, self.lines[run[-1]].no, text[:80], lifted))

    def chars(self, idxs: list[int]) -> int:
        return sum(len(self.lines[i].plain) for i in idxs)


def _match(rule: Rule, doc: _Doc, free: list[int], k: int) -> tuple[int, re.Match] | None:
    """Match `rule` at free position k; returns (number of free lines covered, match)."""
    if rule.lines == 1:
        m = rule.regex.fullmatch(doc.lines[free[k]].plain)
        return (1, m) if m else None
    window = [doc.lines[i].plain for i in free[k:k + rule.lines]]
    m = rule.regex.match("\n".join(window))
    if not m or m.end() == 0:
        return None
    end = m.end()
    if end < len("\n".join(window)) and "\n".join(window)[end] != "\n":
        return None
    return m.group(0).count("\n") + 1, m


def _in_zone(rule: Rule, k: int, n: int) -> bool:
    if rule.zone == "head":
        return k < max(30, int(n * 0.4))
    if rule.zone == "tail":
        return k >= n - max(30, int(n * 0.5))
    return True


def _scan(rule: Rule, doc: _Doc):
    """Every non-overlapping match of a rule over the unclaimed lines: (first idx, last idx, match)."""
    free = doc.free()
    k = 0
    while k < len(free):
        hit = _match(rule, doc, free, k) if _in_zone(rule, k, len(free)) else None
        if hit:
            count, m = hit
            yield free[k], free[k + count - 1], m
            k += count
        else:
            k += 1


def _drop_stage(packs: list[Pack], doc: _Doc) -> None:
    for pack in packs:
        for rule in pack.drop:
            for first, last, _ in list(_scan(rule, doc)):
                doc.claim(first, last, rule.name)


def _set_meta(doc: _Doc, m: re.Match, rule: Rule, line_no: int) -> None:
    for name, value in m.groupdict().items():
        value = (value or "").strip()
        if value and name not in doc.meta:
            doc.meta[name] = MetaHit(value, rule.name, line_no)


def _meta_stage(packs: list[Pack], doc: _Doc) -> None:
    worded = doc.worded()
    head = [doc.lines[i].plain for i in worded[:max(30, int(len(worded) * 0.4))]]
    for pack in packs:
        for rule in pack.meta:
            if rule.unless is not None and any(rule.unless.fullmatch(text) for text in head):
                continue
            for first, last, m in list(_scan(rule, doc)):
                if rule.same_as and not _confirms(doc, m, rule.same_as):
                    continue
                _set_meta(doc, m, rule, doc.lines[first].no)
                if rule.title:
                    doc.anchors.append((first, last, rule))
                if not rule.keep:
                    doc.claim(first, last, rule.name, lifted=True)


def _confirms(doc: _Doc, m: re.Match, field_name: str) -> bool:
    """Every value the match captured equals the value already found for `field_name`."""
    known = doc.meta.get(field_name)
    squash = lambda s: re.sub(r"\s+", "", s or "")
    values = [v for v in m.groupdict().values() if v and v.strip()]
    return known is not None and bool(values) and all(squash(v) == squash(known.value) for v in values)


def _head_end(doc: _Doc) -> int:
    """Index of the first line that reads like body prose: bylines and titles stand before it."""
    worded = doc.worded()
    k = _first_prose(doc, worded)
    return worded[k] if k < len(worded) else len(doc.lines)


def _near_end(doc: _Doc, idxs: list[int], k: int) -> bool:
    """A marker ends the body only when less unclaimed text follows it than precedes it."""
    free = set(doc.free())
    before = [i for i in idxs[:k] if i in free]
    after = [i for i in idxs[k + 1:] if i in free]
    return doc.chars(after) < doc.chars(before)


def _after_body(doc: _Doc, idxs: list[int], k: int) -> bool:
    """Unmistakable UI markers (`anywhere: true`) only need some body text before them."""
    free = set(doc.free())
    return doc.chars([i for i in idxs[:k] if i in free]) >= 40 or _near_end(doc, idxs, k)


def _footer_stage(packs: list[Pack], doc: _Doc) -> None:
    free = doc.worded()
    best: tuple[int, int, Rule] | None = None  # (free position, last idx of marker, rule)
    for pack in packs:
        for rule in pack.end + pack.footer_start:
            for k in range(len(free)):
                if best is not None and k >= best[0]:
                    break
                hit = _match(rule, doc, free, k)
                if hit and (_after_body(doc, free, k) if rule.anywhere else _near_end(doc, free, k)):
                    best = (k, free[k + hit[0] - 1], rule)
                    break
    if best is None:
        return
    k, marker_last, rule = best
    doc.claim(free[k], marker_last, rule.name)
    if marker_last + 1 < len(doc.lines):
        doc.claim(marker_last + 1, len(doc.lines) - 1, f"{rule.name}:after", include_protected=True)


def _header_stage(packs: list[Pack], doc: _Doc, keep_first: int | None) -> None:
    free = doc.worded()
    limit = _first_prose(doc, free)
    last: tuple[int, str] | None = None
    for pack in packs:
        for rule in pack.header_end:
            for k in range(min(limit, len(free))):
                hit = _match(rule, doc, free, k)
                if hit and k + hit[0] - 1 >= limit:
                    continue
                if hit and (last is None or free[k + hit[0] - 1] > last[0]):
                    last = (free[k + hit[0] - 1], rule.name)
    if last is None:
        return
    start = 0 if keep_first is None else keep_first + 1
    if start <= last[0]:
        doc.claim(start, last[0], last[1])


def _first_prose(doc: _Doc, free: list[int]) -> int:
    """Free position of the first line that reads like body prose; headers end before it."""
    for k, i in enumerate(free):
        if i in doc.claimed:
            continue
        if _prose(doc.lines[i].plain):
            return k
    return len(free)


def _prose(text: str) -> bool:
    return len(text) >= 60 or (len(text) >= 25 and text[-1] in _SENTENCE_END)


def _opens_page(doc: _Doc, anchor: tuple[int, int, Rule]) -> bool:
    """A byline counts only above the body: no prose before it but the title itself (which may be long)."""
    first, _, rule = anchor
    before = [i for i in doc.free() if i < first]
    if rule.title == "before":
        before = before[:-1]
    return not any(_prose(doc.lines[i].plain) for i in before)


def _title_stage(primary: Pack, packs: list[Pack], doc: _Doc, markdown: bool, title_hint: str | None) -> MetaHit | None:
    hint = doc.meta.get("title")
    if title_hint:
        hint = MetaHit(title_hint, "html.title", 0)
    if hint is None:
        anchor = next((a for a in doc.anchors if _opens_page(doc, a)), None)  # once the chrome is gone
        hint = _anchored_title(doc, anchor) if anchor else None
    if hint is not None and hint.line > 0 and hint.line - 1 <= _head_end(doc):
        _claim_before(doc, hint.line - 1)
    free = doc.free()
    title: MetaHit | None = hint
    first_idx: int | None = None
    if free:
        first = doc.lines[free[0]]
        is_h1 = markdown and re.match(r"^\s{0,3}#\s", first.raw) is not None
        looks_title = len(first.plain) <= 150 and first.plain
        if title is None and looks_title and (is_h1 or primary.title == "first_line"):
            title = MetaHit(first.plain, "title.first-line", first.no)
            first_idx = free[0]
        elif title is not None and _same_title(first.plain, title.value):
            first_idx = free[0]
    if first_idx is not None:
        doc.claim(first_idx, first_idx, "title", lifted=True)
    _header_stage(packs, doc, first_idx)
    if title is None:
        free = doc.free()
        if free and len(doc.lines[free[0]].plain) <= 150:
            i = free[0]
            title = MetaHit(doc.lines[i].plain, "title.first-line", doc.lines[i].no)
            doc.claim(i, i, "title", lifted=True)
    if title is not None:
        _drop_title_repeats(doc, title.value)
    return title


def _anchored_title(doc: _Doc, anchor: tuple[int, int, Rule]) -> MetaHit | None:
    """The line right before (or after) the byline is the title; it leaves the body here."""
    first, last, rule = anchor
    free = doc.free()
    near = [i for i in free if i < first][-1:] if rule.title == "before" else [i for i in free if i > last][:1]
    if not near or len(doc.lines[near[0]].plain) > 150:
        return None
    i = near[0]
    doc.claim(i, i, f"{rule.name}:title", lifted=True)
    return MetaHit(doc.lines[i].plain, f"{rule.name}:title", doc.lines[i].no)


def _claim_before(doc: _Doc, idx: int) -> None:
    """Everything above the title (or above a byline the title follows) is the page's header."""
    if any(i < idx for i in doc.free()):
        doc.claim(0, idx - 1, "header.before-title")


def _same_title(text: str, title: str) -> bool:
    norm = lambda s: re.sub(r"\s+", "", s)
    return norm(text) == norm(title) or norm(text).startswith(norm(title) + "-") or norm(text).startswith(norm(title) + "|")


def _drop_title_repeats(doc: _Doc, title: str) -> None:
    free = doc.free()
    for k, i in enumerate(free[:8]):
        if "![" not in doc.lines[i].raw and _same_title(doc.lines[i].plain, title):
            doc.claim(i, i, "title.repeat")


def _after_title_stage(packs: list[Pack], doc: _Doc, title: MetaHit | None) -> None:
    """Byline rules that only hold right after the title and only when they confirm known metadata."""
    if title is None:
        return
    for pack in packs:
        for rule in pack.after_title:
            free = [i for i in doc.free() if doc.lines[i].no > title.line]
            if not free:
                return
            hit = _match(rule, doc, free, 0)
            if not hit:
                continue
            count, m = hit
            groups = {k: (v or "").strip() for k, v in m.groupdict().items() if v}
            known = doc.meta.get("site_name")
            if "site_name" in groups and (known is None or known.value != groups["site_name"]):
                continue
            _set_meta(doc, m, rule, doc.lines[free[0]].no)
            doc.claim(free[0], free[count - 1], rule.name, lifted=True)


_EMPTY_MARKUP = re.compile(r"^\s*(?:\*\*|__|\*|_|~~)+\s*$")


def _cleanup_stage(packs: list[Pack], doc: _Doc) -> None:
    """Markup with no words (`****` from an empty bold), and banner images before the first words."""
    for i, ln in enumerate(doc.lines):
        if i not in doc.claimed and not ln.protected and _EMPTY_MARKUP.match(ln.raw):
            doc.claim(i, i, "empty-markup")
    if any(p.drop_leading_images for p in packs):
        rule = next(p.id for p in packs if p.drop_leading_images) + ".leading-image"
        for i, ln in enumerate(doc.lines):
            if i in doc.claimed or ln.blank:
                continue
            if not ln.image:
                break
            doc.claim(i, i, rule)


def apply_packs(lines: list[Line], packs: list[Pack], *, markdown: bool, title_hint: str | None = None) -> Applied:
    """Run the stages over the lines; `packs` best first (the first names the platform)."""
    doc = _Doc(lines)
    _meta_stage(packs, doc)
    _drop_stage(packs, doc)
    _footer_stage(packs, doc)
    title = _title_stage(packs[0], packs, doc, markdown, title_hint)
    _after_title_stage(packs, doc, title)
    _cleanup_stage(packs, doc)
    body = [ln for i, ln in enumerate(lines) if i not in doc.claimed]
    while body and body[0].blank:
        body.pop(0)
    while body and (body[-1].blank or re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})\s*", body[-1].raw)):
        if not body[-1].blank:
            doc.removals.append(Removal("trailing-rule", body[-1].no, body[-1].no, body[-1].raw.strip()))
        body.pop()
    doc.removals.sort(key=lambda r: (r.first, r.last))
    return Applied(body, doc.meta, doc.removals, title)
