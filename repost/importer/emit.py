"""The post file: front matter in CONTRACT.md's order plus the Markdown body, and its hashes.

The file carries a hash of itself (`imported.output_sha256`, computed with that value blank), so a
later import can tell a post the curator edited by hand from one only the importer wrote.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

_OUTPUT_HASH_RE = re.compile(r'^(  output_sha256: )"[0-9a-f]*"$', re.M)
_BARE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
_YAML_WORDS = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def body_fingerprint(body: str) -> str:
    """Hash of the body's words only (markup and whitespace ignored): the same article twice."""
    text = unicodedata.normalize("NFKC", body)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[\s*_`#>\\|~-]+", "", text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scalar(value: Any, bare: bool = False) -> str:
    """One YAML scalar: null/bool/number, a bare token where safe, else a JSON (= YAML) string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    text = str(value)
    if bare and _BARE_OK.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def render_post(fm: dict[str, Any], body: str) -> str:
    """Front matter (nested one level, keys in the given order) + body; fills output_sha256."""
    lines = ["---"]
    for key, value in fm.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            for sub, subval in value.items():
                lines.append(f"  {sub}: {scalar(subval, bare=sub in _BARE_KEYS)}")
        else:
            lines.append(f"{key}: {scalar(value, bare=key in _BARE_KEYS)}")
    lines.append("---")
    text = "\n".join(lines) + "\n" + body
    return _OUTPUT_HASH_RE.sub(lambda m: f'{m.group(1)}"{sha256_text(text)}"', text, count=1)


def written_by_importer(text: str) -> bool | None:
    """True if the file is byte-for-byte what the importer wrote; None when it carries no hash."""
    m = _OUTPUT_HASH_RE.search(text)
    if not m:
        return None
    stored = re.search(r'"([0-9a-f]*)"', m.group(0)).group(1)
    blank = _OUTPUT_HASH_RE.sub(lambda mm: f'{mm.group(1)}""', text, count=1)
    return sha256_text(blank) == stored


# Keys whose values are identifiers or timestamps and read better unquoted.
_BARE_KEYS = {"slug", "date", "platform", "permission", "at", "encoding"}
