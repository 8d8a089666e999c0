"""Text -> numbered lines, each with a plain form that rules match against.

Rules see the words a reader sees: Markdown markup (`**`, links, image syntax, heading and
quote markers) is stripped from the plain form, while the raw line is what the body keeps.
Lines inside code fences are protected: no rule may remove or restructure them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK_RE = re.compile(r"\[([^\]]*)\]\(\s*<?[^)\s>]*>?(?:\s+\"[^\"]*\")?\s*\)")
_MD_SIGNALS = (
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),
    re.compile(r"\[[^\]]+\]\((?:https?:|/|#)[^)]*\)"),
    re.compile(r"^\s{0,3}(?:```|~~~)", re.M),
    re.compile(r"\*\*[^*\n]+\*\*"),
    re.compile(r"^#{1,6} \S", re.M),
    re.compile(r"^> ", re.M),
)
_URL_RE = re.compile(r"https?://[^\s<>\"'）)\]]+")
_SPACES = str.maketrans({"\u00a0": " ", "\u3000": " ", "\t": " ", "\u2002": " ", "\u2003": " ", "\u2009": " "})


@dataclass(frozen=True)
class Line:
    """One source line: 1-based number in the decoded text, raw text, plain text for matching."""

    no: int
    raw: str
    plain: str
    protected: bool = False  # inside a code fence (or a fence line itself)
    image: bool = False      # only image syntax, no words

    @property
    def blank(self) -> bool:
        return not self.raw.strip()


def looks_like_markdown(text: str) -> bool:
    """Copied-as-Markdown text (images as ![](url), **bold**, fences): keep its markup."""
    return sum(1 for rx in _MD_SIGNALS if rx.search(text)) >= 2


def split_lines(text: str, markdown: bool) -> list[Line]:
    """Number the lines and compute their plain forms; fences protect their content."""
    lines: list[Line] = []
    fence: str | None = None
    for no, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip()
        match = _FENCE_RE.match(raw) if markdown else None
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            lines.append(Line(no, raw, raw.strip(), protected=True))
            continue
        if match:
            fence = match.group(1)
            lines.append(Line(no, raw, raw.strip(), protected=True))
            continue
        plain = plain_text(raw) if markdown else raw.translate(_SPACES).strip()
        image = markdown and bool(_IMAGE_RE.search(raw)) and not plain
        lines.append(Line(no, raw, plain, image=image))
    return lines


def plain_text(raw: str) -> str:
    """What a reader sees of one Markdown line (good enough for matching, not for output)."""
    text = raw.translate(_SPACES)
    urls: list[str] = []

    def hide(m: re.Match) -> str:
        urls.append(m.group(0))
        return f"\x00{len(urls) - 1}\x00"

    text = _IMAGE_RE.sub(lambda m: m.group(1) if m.group(1).strip() not in ("", "image", "图片") else "", text)
    text = _LINK_RE.sub(lambda m: m.group(1), text)
    text = _URL_RE.sub(hide, text)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text)
    text = re.sub(r"^\s{0,3}(?:>\s?)+", "", text)
    text = re.sub(r"(\*\*|__|~~)", "", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|>~<])", r"\1", text)
    text = re.sub("\x00(\\d+)\x00", lambda m: urls[int(m.group(1))], text)
    return text.strip()


def image_urls(raw: str) -> list[str]:
    return [m.group(2) for m in _IMAGE_RE.finditer(raw)]
