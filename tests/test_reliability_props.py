"""RELIABILITY B12: Hypothesis properties, about 200 examples each in CI.

Set REPOST_HYPOTHESIS_EXAMPLES (e.g. 5000) for a longer nightly run. Properties already in other
files: render+sanitise never emits script or handlers (test_markup), any title gives a path inside
the root (test_content), decode(encode(text)) for UTF-8 and GB18030 (test_import_decode).
"""
from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from lxml import html as lxml_html

from repost import safeyaml
from repost.check_rules import normalise_url
from repost.config import parse_config
from repost.content import POST_KEYS, SOURCE_KEYS, front_matter_errors, parse_page, parse_post
from repost.errors import ContentError, ErrorList
from repost.frontmatter import clean_text, split
from repost.links import allowed
from repost.sanitize import sanitize
from repost.slug import MAX_SLUG_BYTES, check_slug, safe_join, slugify

EXAMPLES = int(os.environ.get("REPOST_HYPOTHESIS_EXAMPLES", "200"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path("/srv/site-root")
SENTINEL = Path(__file__).resolve().parent / "hypothesis-pwned"
CONFIG = parse_config("timezone: Asia/Shanghai\nbase_url: https://example.com/\n", ROOT)

# ---- the YAML loader never executes anything ----------------------------------------------------

_yaml_bits = st.sampled_from([
    "a", "b", "title", ":", ": ", "- ", "\n", "\n  ", "  ", "[", "]", "{", "}", ",", "'", '"', "#", "&a ", "*a", "&b ",
    "*b", "<<: *a", "!!python/object/apply:os.system ", f"['touch {SENTINEL}']", "!!python/name:os.system", "!foo ",
    "!!str ", "!!binary ", "? ", "|", ">", "---", "...", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "~", "null", "yes", "no",
    "0123", "2017-11-22", "1e3", ".inf", "\\", "\t", "中文", "\u202e", "\x00", "\ufeff",
])


@pytest.mark.timeout(120)
@PROPS
@given(st.lists(st.one_of(_yaml_bits, st.text(max_size=6)), max_size=40))
def test_yaml_loader_only_returns_data_or_a_content_error(parts):
    text = "".join(parts)
    try:
        doc = safeyaml.load(text, "p.md")
    except ContentError as exc:
        assert exc.path == "p.md" and exc.message
        return
    finally:
        assert not SENTINEL.exists()
    _plain(doc.data)


def _plain(value) -> None:
    """Only the types a YAML 1.2 core schema yields: no objects, no bytes, no dates."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (str, int)) and not isinstance(k, bool)
            _plain(v)
    elif isinstance(value, list):
        for v in value:
            _plain(v)
    else:
        assert value is None or isinstance(value, (str, int, float, bool)), type(value)


@pytest.mark.timeout(120)
@PROPS
@given(st.lists(st.one_of(_yaml_bits, st.text(max_size=6)), max_size=30), st.text(max_size=40))
def test_front_matter_split_parses_or_names_the_file(parts, body):
    text = "---\n" + "".join(parts) + "\n---\n" + body
    try:
        doc = split(text, "p.md")
    except ContentError as exc:
        assert exc.path == "p.md" and (exc.line is None or exc.line >= 1)
        return
    assert isinstance(doc.meta, dict) and doc.body_line >= 1


# ---- untrusted front matter: the build and `check` agree and never crash ----------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False), st.text(max_size=12),
                     st.sampled_from(["2026-01-02T10:00:00+08:00", "2017-11-22", "https://e.example/p", "pending",
                                      "../x", "中文 标题", "", " "]))
_values = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
    st.sampled_from(sorted(SOURCE_KEYS)) | st.text(max_size=5), kids, max_size=3), max_leaves=6)


@pytest.mark.timeout(300)
@PROPS
@given(st.dictionaries(st.sampled_from(sorted(POST_KEYS)) | st.text(max_size=6), _values, max_size=8),
       st.booleans(), st.booleans())
def test_any_front_matter_is_a_post_or_content_errors_and_check_agrees(meta, with_title, with_date):
    if with_title:
        meta.setdefault("title", "A title")
    if with_date:
        meta.setdefault("date", "2026-01-02T10:00:00+08:00")
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\nPlain body.\n"
    errors, warnings = front_matter_errors(CONFIG, "p.md", text)
    try:
        record = parse_post(CONFIG, ROOT / "p.md", "p.md", text)
    except (ContentError, ErrorList):
        assert errors, text  # `repost check` names at least one error wherever the build refuses
        return
    assert errors == [], (text, errors)  # and none where the build accepts
    assert record.title and record.output.endswith("/index.html")
    assert safe_join(ROOT / "site", record.output).is_relative_to(ROOT / "site")
    assert all(w.startswith("p.md:") for w in warnings)


# ---- content-derived paths stay inside their folder ---------------------------------------------

@PROPS
@given(st.text(max_size=60))
def test_any_explicit_slug_is_refused_or_one_safe_segment(text):
    try:
        slug = check_slug(text, "p.md", 4)
    except ContentError as exc:
        assert exc.line == 4
        return
    assert "/" not in slug and "\\" not in slug and slug not in (".", "..") and not slug.startswith(".")
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES
    out = ROOT / "site"
    target = safe_join(out, f"posts/{slug}/index.html")
    assert target.parent.parent == (out / "posts").resolve()


@PROPS
@given(st.text(max_size=80), st.sampled_from(["pinyin", "unicode", "ascii"]))
def test_slugify_always_gives_a_slug_check_slug_accepts(title, style):
    slug = slugify(title, style, fallback_seed=title)
    assert check_slug(slug) == slug and len(slug.encode("utf-8")) <= MAX_SLUG_BYTES


_segment = st.one_of(st.sampled_from(["", ".", "..", "~", ".git", "a", "中文", "%2e%2e", "C:", "a\\b", "con"]),
                     st.text(max_size=8))


@PROPS
@given(st.lists(_segment, max_size=5), st.booleans(), st.booleans())
def test_any_page_permalink_is_refused_or_stays_inside(segments, lead, trail):
    permalink = ("/" if lead else "") + "/".join(segments) + ("/" if trail else "")
    text = f"---\ntitle: P\npermalink: {json.dumps(permalink, ensure_ascii=False)}\n---\n"
    try:
        page = parse_page(CONFIG, ROOT / "p.md", "p.md", text)
    except ContentError:
        return
    out = (ROOT / "site").resolve()
    assert safe_join(out, page.output).is_relative_to(out)
    assert page.url.startswith("/") and not page.url.startswith("//")
    assert all(part not in ("", ".", "..") for part in page.output.split("/"))


# ---- sanitising raw HTML, and the checker's scheme rule ------------------------------------------

_tags = st.sampled_from(["a", "img", "p", "div", "script", "svg", "iframe", "span", "math", "form", "details", "style",
                         "object", "base", "meta", "video", "noscript", "template", "textarea"])
_attrs = st.sampled_from(["href", "src", "onclick", "onerror", "ONLOAD", "style", "srcdoc", "formaction", "action",
                          "xlink:href", "data", "poster", "title", "id", "class", "target", "http-equiv"])
_urls = st.one_of(st.sampled_from(["javascript:alert(1)", " JaVaScRiPt:x", "java\tscript:x", "&#106;avascript:x",
                                   "data:text/html,<script>x</script>", "vbscript:x", "https://ok.example/", "/ok/", "#f",
                                   "mailto:a@b.c", "\x01javascript:x", "jav&#x0A;ascript:x", "file:///etc/passwd"]),
                  st.text(max_size=12))


@st.composite
def _element(draw):
    tag = draw(_tags)
    attrs = " ".join(f'{draw(_attrs)}="{html.escape(draw(_urls), quote=True)}"'
                     for _ in range(draw(st.integers(0, 3))))
    inner = draw(st.one_of(st.text(max_size=10), st.just("<script>alert(1)</script>")))
    return f"<{tag} {attrs}>{inner}</{tag}>"


@PROPS
@given(st.lists(st.one_of(_element(), st.text(max_size=10)), max_size=8))
def test_sanitised_raw_html_has_no_script_handlers_or_bad_schemes(parts):
    out = sanitize(clean_text("".join(parts)))  # as render_markdown does
    root = lxml_html.fragment_fromstring(out or "<p></p>", create_parent="div")
    assert not root.xpath("//script|//style|//svg|//math|//iframe|//object|//base|//meta|//form|//template")
    for el in root.iter():
        assert not [a for a in el.attrib if a.lower().startswith("on") or a in ("style", "srcdoc", "formaction")]
        for attr in ("href", "src"):
            if el.get(attr) is not None:
                assert allowed(el.get(attr)), el.get(attr)


@PROPS
@given(st.one_of(_urls, st.from_regex(r"\A[ \x01\t]{0,2}[a-zA-Z][a-zA-Z0-9+.\t-]{0,8}:[a-z/()]{0,10}\Z")))
def test_every_url_check_calls_disallowed_is_dropped_by_the_sanitiser(url):
    assume(not allowed(url))
    out = sanitize(f'<a href="{html.escape(url, quote=True)}">x</a><img src="{html.escape(url, quote=True)}" alt="">')
    root = lxml_html.fragment_fromstring(out, create_parent="div")
    assert root.xpath("//@href | //img/@src") == []


# ---- duplicate detection keys -------------------------------------------------------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


@PROPS
@given(st.lists(_words, min_size=1, max_size=4), st.dictionaries(_words, _words, max_size=3),
       st.sampled_from(["http", "https"]), st.booleans(), st.booleans(),
       st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "fbclid", "from", "spm", "scene"]), _words, max_size=3))
def test_the_same_article_url_normalises_to_one_key(path, query, scheme, www, slash, tracking):
    assume(not any(k.startswith("utm") or k in ("fbclid", "from", "spm", "scene") for k in query))
    base = "/".join(path)
    plain = f"https://example.com/{base}" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    noisy_query = list(query.items())[::-1] + list(tracking.items())
    noisy = (f"{scheme}://{'www.' if www else ''}Example.COM/{base}{'/' if slash else ''}"
             + ("?" + "&".join(f"{k}={v}" for k, v in noisy_query) if noisy_query else "") + "#section")
    assert normalise_url(noisy) == normalise_url(plain)
