"""Unit tests of what the browser gets; served over HTTP (and in a real browser) in test_serve_http.py,
test_serve.py and test_browser.py."""
from __future__ import annotations

from repost.errors import ContentError, ErrorList, RepostError
from repost.livereload import EVENTS_PATH, describe, inject, overlay


def test_inject_goes_before_the_last_closing_body_tag_whatever_its_case():
    page = b"<html><body><p>a</p></body><!-- </BODY> --></BODY></html>"
    out = inject(page, "tok.1", ())
    assert out.startswith(b"<html><body><p>a</p></body><!-- </BODY> --><script data-repost>")
    assert out.endswith(b"</script></BODY></html>")
    assert b'let version = "tok.1"' in out and EVENTS_PATH.encode() in out


def test_inject_appends_to_a_page_without_a_body_tag():
    out = inject(b"<p>bare</p>", "tok.0", ())
    assert out.startswith(b"<p>bare</p><script data-repost>") and out.endswith(b"</script>")


def test_inject_adds_the_overlay_only_after_a_failed_build():
    assert b"repost-error-overlay" not in inject(b"<body></body>", "t.0", ())
    out = inject(b"<body></body>", "t.1", (("a.md:2", "bad"),))
    assert out.index(b'id="repost-error-overlay"') < out.index(b"<script data-repost>")


def test_overlay_escapes_places_and_messages():
    html = overlay((("x<y>.md:3", "bad <script>"), ("", "no place & no line")))
    assert "<b>x&lt;y&gt;.md:3</b>: bad &lt;script&gt;" in html
    assert "<li>no place &amp; no line</li>" in html and "<script>" not in html


def test_describe_flattens_error_lists_and_places_each_error():
    errors = ErrorList([ContentError("a.md", 3, "one"), ContentError("b.md", None, "two"),
                        ContentError(None, None, "three"), RepostError("four")])
    assert describe(errors) == [("a.md:3", "one"), ("b.md", "two"), ("", "three"), ("", "four")]
