"""Decoding untrusted dumps (RELIABILITY.md B1 rows 1-9): encodings, line ends, invisibles, junk."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from repost.config import parse_config
from repost.errors import ContentError
from repost.importer import import_dump, load_packs
from repost.importer.decode import clean_text, decode

SEED = Path(__file__).resolve().parents[1] / "content" / "raw" / "jianshu-12306.txt"
SEED_TEXT = SEED.read_bytes().decode("utf-8")
NOW = datetime(2026, 11, 27, 5, 20, tzinfo=timezone.utc)


def _import(data: bytes, tmp_path: Path, name: str = "seed.txt", **kw):
    config = parse_config("timezone: Asia/Shanghai\n", tmp_path)
    return import_dump(data, load_packs(config), config, name=name, now=NOW, origin="raw/seed.txt", **kw)


@pytest.mark.parametrize("encoding, data, recorded", [
    ("utf-8", SEED_TEXT.encode("utf-8"), "utf-8"),
    ("utf-8-sig", b"\xef\xbb\xbf" + SEED_TEXT.encode("utf-8"), "utf-8-sig"),
    ("gb18030", SEED_TEXT.encode("gb18030"), "gb18030"),
    ("utf-16-le", b"\xff\xfe" + SEED_TEXT.encode("utf-16-le"), "utf-16-le-bom"),
    ("utf-16-be", b"\xfe\xff" + SEED_TEXT.encode("utf-16-be"), "utf-16-be-bom"),
])
def test_seed_in_every_encoding_imports_identically(encoding, data, recorded, tmp_path):
    """B1-1: same Markdown body whatever the encoding; the BOM is stripped; the encoding recorded."""
    baseline = _import(SEED_TEXT.encode("utf-8"), tmp_path)
    result = _import(data, tmp_path)
    assert result.body == baseline.body
    assert result.front_matter["title"] == baseline.front_matter["title"] == "12306接入微信支付了,背后更大的故事是什么?"
    assert result.front_matter["imported"]["encoding"] == recorded
    assert result.report.encoding == recorded
    assert "\ufeff" not in result.text


def test_gbk_body_decodes_as_gb18030():
    """B1-1: GBK (the seed's body has no character outside GBK) is read as GB18030."""
    body = SEED_TEXT.split("•END•")[0]
    decoded = decode(body.encode("gbk"))
    assert decoded.encoding == "gb18030"
    assert decoded.text == body


def test_short_gbk_title_skips_the_detector(monkeypatch):
    """B1-2: strict UTF-8 fails, strict GB18030 succeeds, charset-normalizer is never asked."""
    import charset_normalizer

    def boom(*a, **k):
        raise AssertionError("detector consulted")

    monkeypatch.setattr(charset_normalizer, "from_bytes", boom)
    text = "微信支付接入铁路\nplain ascii words follow here and nothing else\n"
    decoded = decode(text.encode("gbk"))
    assert decoded.encoding == "gb18030" and decoded.text == text


def test_corrupt_utf8_is_an_error_with_offset_or_lossy_warning(tmp_path):
    """B1-3: a UTF-8 file with stray GBK bytes: a clear error with the offset; --lossy counts U+FFFD."""
    data = SEED_TEXT.encode("utf-8")
    cut = data.index("派爷".encode("utf-8"))
    bad = data[:cut] + "中文".encode("gbk") + data[cut:]
    with pytest.raises(ContentError) as exc:
        decode(bad, "raw/bad.txt")
    assert f"offset {cut}" in str(exc.value) and "raw/bad.txt" in str(exc.value)
    result = _import(bad, tmp_path, lossy=True)
    assert "\ufffd" in result.body
    assert any("replaced with U+FFFD" in w for w in result.report.warnings)


def test_html_declared_charset_is_tried_first():
    """B1-4: a page declaring gbk decodes as GB18030; one declaring UTF-8 but GBK warns of a mismatch."""
    page = "<html><head><meta charset=gbk><title>标题</title></head><body><p>正文内容</p></body></html>"
    ok = decode(page.encode("gbk"), html=True)
    assert ok.encoding == "gb18030" and not ok.warnings
    lying = page.replace("charset=gbk", 'charset="utf-8"').encode("gbk")
    decoded = decode(lying, html=True)
    assert decoded.text.count("正文内容") == 1
    assert any("declared/actual mismatch" in w for w in decoded.warnings)


@pytest.mark.parametrize("sep", ["\r\n", "\r", "\u2028", "\u2029"])
def test_line_endings_become_lf(sep, tmp_path):
    """B1-5: CRLF, CR and Unicode separators: LF Markdown, front matter still detected."""
    result = _import(SEED_TEXT.replace("\n", sep).encode("utf-8"), tmp_path)
    assert "\r" not in result.text and "\u2028" not in result.text
    assert result.text.startswith("---\ntitle:")
    md = "---\ntitle: 手写标题\n---\n正文第一段。\n".replace("\n", sep).encode("utf-8")
    assert _import(md, tmp_path, name="post.md").front_matter["title"] == "手写标题"


def test_control_bidi_and_zero_width_characters_are_removed(tmp_path):
    """B1-6: no control, bidi-override or zero-width character survives into title or body."""
    title = "危险\u202e标题\x00\x0b\x10\x1f\u200b"
    data = (title + "\n\n正文\u200d第一段，\u2066内容\u2069完整。\n").encode("utf-8")
    result = _import(data, tmp_path)
    assert result.front_matter["title"] == "危险标题"
    for ch in "\u202e\x00\x0b\x10\x1f\u200b\u200d\u2066\u2069":
        assert ch not in result.text
    assert "正文第一段，内容完整。" in result.body


def test_same_input_gives_byte_identical_output(tmp_path):
    """B1-7: deterministic; the seed's trimming is covered by the golden test below."""
    assert _import(SEED.read_bytes(), tmp_path).text == _import(SEED.read_bytes(), tmp_path).text


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"  \n\t\r\n \xe3\x80\x80\n", "no visible text"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    (b"\xff" * 4096, "binary"),
])
def test_junk_files_are_refused_clearly(data, reason, tmp_path):
    """B1-8: empty, whitespace-only, PNG and 0xFF files: a clear message, no partial article."""
    with pytest.raises(ContentError) as exc:
        _import(data, tmp_path, name="junk.txt")
    assert reason in str(exc.value) and "junk.txt" in str(exc.value)


def test_size_cap(tmp_path):
    """B1-9: above import.max_size the file is refused before it is decoded."""
    config = parse_config("import:\n  max_size: 1000\n", tmp_path)
    with pytest.raises(ContentError, match="over the import size cap"):
        import_dump(b"a" * 1001, load_packs(config), config, name="big.txt")
    big = "".join(f"第{i}段文字。" * 20 + "\n\n" for i in range(4000))  # ~1.6 MB, below the default cap
    result = _import(big.encode("utf-8"), tmp_path, name="big.txt")
    assert result.report.paragraphs >= 3999


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")), min_size=1))
def test_decode_roundtrips_utf8_and_gb18030(text):
    """B12: decode(encode(text)) == text for UTF-8 and GB18030 (after the same cleaning)."""
    want = clean_text(text)
    if not want.strip():
        return
    assert decode(want.encode("utf-8")).text == want
    gb = want.encode("gb18030")
    try:
        gb.decode("utf-8")
    except UnicodeDecodeError:  # bytes that are also valid UTF-8 are UTF-8 by rule (strict UTF-8 first)
        assert decode(gb).text == want
