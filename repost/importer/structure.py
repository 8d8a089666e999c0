"""Body lines -> Markdown: structure where the source marks it or the heuristics are confident.

Markdown-flavoured dumps keep their markup verbatim. Plain text becomes one block per line:
headings (numbered `一、`/`（一）`/`1.1`, or a short stand-alone line between long paragraphs),
lists (`1、`, `1.`, `•`, `-`), indented code, bare image URLs; every other character is escaped
so the rendered page shows exactly the dump's words.
"""
from __future__ import annotations

import re
import textwrap

from repost.importer.blocks import Line

_CN_NUM = "一二三四五六七八九十百零〇"
_HEAD_CN = re.compile(rf"^[{_CN_NUM}]+[、．.]\s*\S")
_HEAD_CN_SUB = re.compile(rf"^[（(][{_CN_NUM}]+[）)]\s*\S")
_HEAD_CHAPTER = re.compile(rf"^第[{_CN_NUM}\d]+[章节部分篇回]")
_HEAD_DOTTED = re.compile(r"^(\d+(?:\.\d+)+)\s+\S")
_ENUM_START = re.compile(rf"^(?:[（(]?\d+[）)]|\d+[、.．,，]|[（(][{_CN_NUM}]+[）)]|[{_CN_NUM}]+、|[a-zA-Z][.)]\s)")
_BULLET = re.compile(r"^[•·●▪◦‣∙]\s*(?=\S)")
_MD_BULLET = re.compile(r"^[-+*]\s+(?=\S)")
_ORDERED = re.compile(r"^(\d{1,3})[.)]\s+(?=\S)")
_CN_ORDERED = re.compile(r"^(\d{1,3})、(?=\S)")
_IMAGE_URL = re.compile(r"^https?://\S+?\.(?:png|jpe?g|gif|webp|bmp|svg)(?:[?#]\S*)?$|^https?://[^\s/]*(?:mmbiz\.qpic\.cn|pstatp\.com|byteimg\.com|cdn\.nlark\.com|upload-images\.jianshu\.io)/\S+$", re.I)
_URL = re.compile(r"^https?://[^\s<>\"]+$")
_NO_HEAD_END = "。！？!?.;；：:，,、…~～"
_ATX = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_CODE_LIKE = re.compile(r"[=;{}()<>$\\]|^[a-z][\w.-]*(?:\s|$)|\w\.\w+\s*$")
_HR = re.compile(r"^\s*(?:[-*_]\s*){3,}$")


def to_markdown(body: list[Line], markdown: bool) -> str:
    """The Markdown body, ending with one newline ('' when nothing is left)."""
    text = _keep_markdown(body) if markdown else _from_plain(body)
    return (text.strip("\n") + "\n") if text.strip() else ""


def _keep_markdown(body: list[Line]) -> str:
    """Verbatim, with runs of blank lines collapsed and ATX headings set apart (same rendering)."""
    out: list[str] = []
    for line in body:
        if line.blank and not line.protected:
            if out and out[-1] == "":
                continue
            out.append("")
        elif not line.protected and _ATX.match(line.raw):
            if out and out[-1] != "":
                out.append("")
            out.extend([line.raw, ""])
        else:
            out.append(line.raw)
    return "\n".join(out)


def _from_plain(body: list[Line]) -> str:
    """One block per non-blank line; consecutive list items form one list."""
    items = [ln.raw for ln in body if not ln.blank]
    texts = [t.strip() for t in items]
    kinds = _classify(items, texts)
    blocks: list[str] = []
    prev_kind = None
    for raw, text, kind in zip(items, texts, kinds):
        rendered = _render(raw, text, kind)
        if kind == prev_kind and kind in ("ul", "ol", "cn", "code"):
            blocks[-1] += "\n" + rendered
        else:
            blocks.append(rendered)
        prev_kind = kind
    fenced = []
    for block, kind in zip(blocks, _kinds_of_blocks(kinds)):
        fenced.append(_fence(textwrap.dedent(block)) if kind == "code" else block)
    return "\n\n".join(fenced)


def _kinds_of_blocks(kinds: list[str]) -> list[str]:
    out, prev = [], None
    for kind in kinds:
        if not (kind == prev and kind in ("ul", "ol", "cn", "code")):
            out.append(kind)
        prev = kind
    return out


def _fence(block: str) -> str:
    ticks = "```"
    while ticks in block:
        ticks += "`"
    return f"{ticks}\n{block}\n{ticks}"


def _classify(items: list[str], texts: list[str]) -> list[str]:
    kinds = []
    for raw, text in zip(items, texts):
        if raw.startswith(("\t", "    ")):
            kinds.append("code")
        elif _IMAGE_URL.match(text):
            kinds.append("image")
        elif _BULLET.match(text) or _MD_BULLET.match(text):
            kinds.append("ul")
        else:
            kinds.append(_heading_level(text) or "p")
    for i in range(len(kinds) - 1):  # "def f(x):" / "if (x) {" just before indented code belongs to it
        if kinds[i] == "p" and kinds[i + 1] == "code" and re.search(r"[:{]$", texts[i]) and not re.search(r"[\u4e00-\u9fff]", texts[i]):
            kinds[i] = "code"
    _runs(texts, kinds, _ORDERED, "ol")
    _runs(texts, kinds, _CN_ORDERED, "cn")
    for i, text in enumerate(texts):
        if kinds[i] == "p" and _standalone_heading(texts, kinds, i):
            kinds[i] = "h2"
    # a code "block" of one line that is just indented prose is prose
    return kinds


def _runs(texts: list[str], kinds: list[str], rx: re.Pattern, kind: str) -> None:
    """Numbered lines form a list only as a run of two or more counting up by one."""
    i = 0
    while i < len(texts):
        m = rx.match(texts[i]) if kinds[i] in ("p", "h2", "h3") else None
        if not m:
            i += 1
            continue
        j, n = i, int(m.group(1))
        while j + 1 < len(texts) and kinds[j + 1] in ("p", "h2", "h3"):
            m2 = rx.match(texts[j + 1])
            if not m2 or int(m2.group(1)) != n + 1:
                break
            j, n = j + 1, n + 1
        if j > i:
            for k in range(i, j + 1):
                kinds[k] = kind
        i = j + 1


def _heading_level(text: str) -> str | None:
    if len(text) > 40 or text[-1] in "。！？!?;；，,":
        return None
    if _HEAD_CN.match(text) or _HEAD_CHAPTER.match(text):
        return "h2"
    if _HEAD_CN_SUB.match(text):
        return "h3"
    m = _HEAD_DOTTED.match(text)
    if m:
        return "h3" if m.group(1).count(".") == 1 else "h4"
    return None


def _standalone_heading(texts: list[str], kinds: list[str], i: int) -> bool:
    """A short line without sentence punctuation between two long paragraphs."""
    text = texts[i]
    if i == 0 or i + 1 >= len(texts) or kinds[i - 1] != "p" or kinds[i + 1] != "p":
        return False
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    limit = 30 if wide * 2 >= len(text) else 70
    if not 4 <= len(text) <= limit or text[-1] in _NO_HEAD_END or _ENUM_START.match(text) or _URL.match(text):
        return False
    if re.search(r"[。！？!?]", text) or _CODE_LIKE.search(text):
        return False
    need = max(40, 2 * len(text))
    return len(texts[i - 1]) >= need and len(texts[i + 1]) >= need


def _render(raw: str, text: str, kind: str) -> str:
    if kind == "code":
        return raw.replace("\t", "    ")
    if kind == "image":
        return f"![]({text})"
    if kind in ("h2", "h3", "h4"):
        title = escape_inline(text)
        return "#" * int(kind[1]) + " " + (title[:-1] + "\\#" if title.endswith("#") else title)
    if kind == "ul":
        m = _BULLET.match(text) or _MD_BULLET.match(text)
        return "- " + escape_inline(text[m.end():])
    if kind == "ol":
        m = _ORDERED.match(text)
        return f"{m.group(1)}. " + escape_inline(text[m.end():])
    if kind == "cn":
        return "- " + escape_inline(text)
    if _URL.match(text):
        return f"<{text}>"
    return escape_block(text)


# -- escaping -------------------------------------------------------------------------------------

def escape_block(text: str) -> str:
    """Escape a paragraph's text, including what is only special at the start of a line."""
    return escape_line_start(escape_inline(text))


def escape_line_start(text: str) -> str:
    """Escape what is special only at the start of a line (headings, quotes, list markers, rules)."""
    if _HR.match(text) or re.match(r"^-+\s*$", text):
        return "\\" + text
    m = re.match(r"^(#|>|[-+*](?=\s|$)|\d+(?=[.)](?:\s|$)))", text)
    if m:
        if m.group(1)[0].isdigit():
            return m.group(1) + "\\" + text[m.end():]
        return "\\" + text
    return text


def escape_inline(text: str) -> str:
    """Escape only what Markdown would interpret, so plain words survive byte for byte."""
    text = re.sub(r"\\(?=[!-/:-@\[-`{-~])", r"\\\\", text)  # before ASCII punctuation (CommonMark)
    if text.count("*") >= 2:
        text = text.replace("*", "\\*")
    if text.count("_") >= 2 and re.search(r"(?<!\w)_|_(?!\w)", text):
        text = text.replace("_", "\\_")
    if text.count("`") >= 2:
        text = text.replace("`", "\\`")
    text = re.sub(r"\[(?=[^\]]*\][(\[:])", r"\\[", text)
    text = re.sub(r"\[(?=\^)", r"\\[", text)
    text = re.sub(r"!(?=\\\[)", r"\\!", text)
    text = re.sub(r"&(?=#|[A-Za-z]{2,})", "&amp;", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
    text = re.sub(r"\{(?=[:#.])", r"\\{", text)
    if "~~" in text:  # strikethrough in GFM; Python-Markdown has no `\~`, so an entity
        text = text.replace("~", "&#126;")
    return text
