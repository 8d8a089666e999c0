"""Bytes -> clean text: BOM, strict UTF-8, strict GB18030, then the detector; never a guess in silence.

The order matters for Chinese dumps: a short GBK text is valid GB18030 but charset-normalizer
may call it something else, so the detector is only consulted when both strict decodes fail.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

from repost.errors import ContentError

# Encodings that are subsets of GB18030: decode them as GB18030 (a superset, never worse).
_GB_ALIASES = {"gbk", "gb2312", "gb_2312", "gb_2312-80", "cp936", "x-gbk", "euc-cn", "hz-gb-2312", "gb18030"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le-bom"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be-bom"),
)
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_ENC_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.I)
# Zero-width, bidi controls, BOM; other C0/C1 controls except tab and newline.
_INVISIBLE_RE = re.compile(
    "[\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u180e\ufffe\uffff"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]"
)
_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"%PDF", b"\x7fELF", b"\x1f\x8b", b"BM")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    warnings: tuple[str, ...] = field(default=())


def decode(data: bytes, path: str | None = None, *, html: bool = False, lossy: bool = False,
           max_size: int = 5 * 1024 * 1024) -> Decoded:
    """Decode a raw dump; raises ContentError for empty, binary, oversized or undecodable input."""
    if len(data) > max_size:
        raise ContentError(path, None, f"file is {len(data):,} bytes, over the import size cap of {max_size:,} bytes (import.max_size)")
    if not data.strip():
        raise ContentError(path, None, "file is empty (nothing to import)")
    warnings: list[str] = []
    text, encoding = _decode_bom(data)
    if text is None:
        _refuse_binary(data, path)
        text, encoding = _decode_declared(data, warnings) if html else (None, "")
    if text is None:
        text, encoding = _decode_guess(data, path, lossy, warnings)
    text = clean_text(text)
    if not text.strip():
        raise ContentError(path, None, "file has no visible text (nothing to import)")
    return Decoded(text, encoding, tuple(warnings))


def clean_text(text: str) -> str:
    """LF line ends, NFC, and no invisible or control characters (they break titles, feeds and XML)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = text.replace("\u0085", "\n")
    text = _INVISIBLE_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def _decode_bom(data: bytes) -> tuple[str | None, str]:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), name
            except UnicodeDecodeError:
                return None, ""
    return None, ""


def _refuse_binary(data: bytes, path: str | None) -> None:
    head = data[:4096]
    controls = sum(head.count(bytes([b])) for b in (0, 1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27))
    if head.startswith(_MAGIC) or controls > max(4, len(head) // 100):
        raise ContentError(path, None, "file looks binary (not a text or HTML dump): not imported")
    if head.count(b"\xff") > len(head) // 4:
        raise ContentError(path, None, "file looks binary (mostly 0xFF bytes): not imported")


def _decode_declared(data: bytes, warnings: list[str]) -> tuple[str | None, str]:
    """HTML: try the declared charset first; a strict failure is a declared/actual mismatch."""
    head = data[:4096]
    match = _CHARSET_RE.search(head) or _XML_ENC_RE.search(head)
    if not match:
        return None, ""
    declared = match.group(1).decode("ascii", "ignore").lower()
    codec = "gb18030" if declared in _GB_ALIASES else declared
    try:
        codecs.lookup(codec)
    except LookupError:
        warnings.append(f"unknown declared charset {declared!r}; detecting instead")
        return None, ""
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as exc:
        warnings.append(f"declared/actual mismatch: the page declares {declared} but is not valid {declared} "
                        f"(byte {exc.start}); detecting instead")
        return None, ""


def _decode_guess(data: bytes, path: str | None, lossy: bool, warnings: list[str]) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if not _mostly_utf8(data):
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
        guess = _detector(data)
        if guess:
            return guess
    if lossy:
        text = data.decode("utf-8", "replace")
        count = text.count("\ufffd")
        warnings.append(f"{count} undecodable byte sequence(s) replaced with U+FFFD (--lossy)")
        return text, "utf-8 (lossy)"
    raise ContentError(path, None, f"not valid UTF-8 or GB18030: undecodable byte 0x{data[utf8_error.start]:02x} "
                                   f"at offset {utf8_error.start} (re-save as UTF-8, or use --lossy)")


def _mostly_utf8(data: bytes) -> bool:
    """A UTF-8 file with a few stray bytes: refuse to read it as GB18030 mojibake."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return good >= 8 and bad * 10 < good


def _detector(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    encoding = "gb18030" if best.encoding.lower() in _GB_ALIASES else best.encoding
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return None
