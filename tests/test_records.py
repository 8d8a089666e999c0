"""Records as the build cache holds them: rows made in workers, HTML apart, stubs loaded on use."""
from __future__ import annotations

import pickle
import zlib

from conftest import load, make_site, post
from repost import content, records


def _post(tmp_path, body: str):
    root = make_site(tmp_path / "root", {"content/posts/a.md": post("A title", body)})
    path = root / "content/posts/a.md"
    return content.parse_post(load(root), path, "content/posts/a.md", path.read_text(encoding="utf-8"))


class _Reader:
    """A stand-in for `records.Reader`: a row's columns, and what was asked of it."""

    def __init__(self, row: tuple):
        self.row, self.asked = row, []

    def meta(self, digest: str) -> bytes:
        self.asked.append("meta")
        return self.row[1]

    def html(self, digest: str, column: str) -> str:
        self.asked.append(column)
        data, zipped = self.row[2:4] if column == "body" else self.row[4:6]
        return (zlib.decompress(data) if zipped else data).decode("utf-8")


def test_a_row_carries_the_html_as_utf8_and_compresses_only_long_html(tmp_path, monkeypatch):
    short = _post(tmp_path / "s", "Short “quoted” body.")
    row = records.record_row("d1", short)
    assert row[0] == "d1" and row[2:4] == (short.body_html.encode("utf-8"), False)
    assert records.row_summary(row) == short.summary_html
    monkeypatch.setattr(records, "ZIP_OVER", 40)
    long = _post(tmp_path / "l", "长文。" * 60)
    row = records.record_row("d2", long)
    assert row[3] is True and zlib.decompress(row[2]).decode("utf-8") == long.body_html
    assert records.row_summary(row) is None  # compressed: read from the cache when a page shows it
    kind, values = pickle.loads(row[1])
    assert kind == "post" and dict(zip(records.POST_FIELDS, values))["title"] == "A title"


def test_a_stub_loads_every_field_at_its_first_read_and_its_body_at_every_read(tmp_path):
    original = _post(tmp_path, "Some body.")
    reader = _Reader(records.record_row("d", original))
    stub = object.__new__(records.StubPost)
    stub.__dict__.update(rel=original.rel, path=original.path, _html=records.HtmlRef(reader, "d"))
    assert stub.rel == original.rel and reader.asked == []  # known by path alone
    assert stub.title == "A title" and type(stub) is records.CachedPost and reader.asked == ["meta"]
    assert stub.date == original.date and reader.asked == ["meta"]  # every field came at once
    assert stub.body_html == original.body_html and stub.body_html == original.body_html
    assert reader.asked.count("body") == 2  # bodies are not kept: a full build would hold them all
    assert stub.summary_html == original.summary_html and stub.summary_html == original.summary_html
    assert reader.asked.count("summary") == 1  # summaries are kept: every list page shows them
