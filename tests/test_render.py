"""Templates: autoescape, the |safe lint, overrides, template errors, the output plan and collisions."""
from __future__ import annotations

import re

import pytest

from conftest import FIXTURES, REPO, build, load, make_site, post
from repost.content import load_site
from repost.errors import ContentError, ErrorList
from repost.render import make_env, paginate, plan_outputs, theme_dir

SAFE_FIELDS = ("body_html", "summary_html")


def test_autoescape_is_on_for_html_and_xml(tmp_path):
    env = make_env(load(make_site(tmp_path)))
    assert env.autoescape("post.html") and env.autoescape("atom.xml") and env.autoescape("sitemap.xml")
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"


TRICKY = """{% macro m(v) %}<i>{{ v }}</i>{% endmacro %}{% macro c(v) %}<i>{{ v }}</i>{{ caller() }}{% endmacro %}
{{ s }} {{ n }} {{ none }} {{ safe }} {{ obj }} {{ s ~ safe }} {{ [s, safe] }} {{ s | e }} {{ s | safe }}
{% set block %}<b>{{ s }}</b>{{ safe }}{% endset %}{{ block }} {{ block | upper }}
{{ m(s) }} {% call c(safe) %}{{ s }}{% endcall %} {% filter upper %}{{ s }}{{ safe }}{% endfilter %}
{% autoescape false %}{{ s }}{% endautoescape %} {% autoescape true %}{{ s }}{% endautoescape %}
{% for x in [s, safe, n] %}{{ loop.index }}{{ x }}{% endfor %} {{ (s if n else safe) }} {{ m(s) ~ s }}"""


def test_printed_values_escape_exactly_as_jinja_escapes_them(tmp_path):
    """Our templates print through a lighter escape (render._Template); macros, set blocks,
    filters, calls and autoescape blocks must come out as Jinja's own would make them."""
    import jinja2
    from markupsafe import Markup

    class Obj:
        def __str__(self):
            return "<obj & 'q'>"

    class Html:
        def __html__(self):
            return "<u>ok</u>"

    env = make_env(load(make_site(tmp_path)))
    plain = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    values = dict(s="<a href=\"x\">'&'</a>", n=3, none=None, safe=Markup("<em>&amp;</em>"), obj=Obj(), html=Html())
    ours = env.from_string(TRICKY + " {{ html }}").render(**values)
    assert ours == plain.from_string(TRICKY + " {{ html }}").render(**values)
    assert "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;" in ours and "<u>ok</u>" in ours
    assert "&amp;lt;" not in ours  # nothing escaped twice


def _template_files():
    for folder in (theme_dir() / "templates", REPO / "layouts", FIXTURES / "site" / "layouts"):
        if folder.is_dir():
            yield from sorted(p for p in folder.rglob("*") if p.is_file())


def test_templates_mark_only_the_sanitised_body_safe():
    offenders = []
    for path in _template_files():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\{\{([^}]*?)\|\s*safe\b", text):
            if not match.group(1).strip().endswith(SAFE_FIELDS):
                offenders.append(f"{path}: {match.group(0)}")
        if "Markup(" in text or "autoescape false" in text:
            offenders.append(f"{path}: disables escaping")
    assert offenders == []


def test_site_layouts_override_theme_templates_by_name(tmp_path):
    root = make_site(tmp_path, {
        "content/posts/a.md": post("A"),
        "layouts/partials/footer.html": "<footer><p>custom {{ config.title }}</p></footer>\n",
    })
    build(root)
    html = (root / "site/index.html").read_text(encoding="utf-8")
    assert "<p>custom Test Site</p>" in html and 'class="site-footer"' not in html


def test_template_syntax_error_names_the_file_and_line(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A"), "layouts/post.html": "line one\n{% if %}\n"})
    with pytest.raises(ContentError) as info:
        build(root)
    assert info.value.path.endswith("layouts/post.html") and info.value.line == 2
    assert not (root / "site").exists()


def test_template_runtime_error_names_the_file_and_line(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A"),
                                "layouts/post.html": "{% extends 'base.html' %}\n{% block content %}\n{{ post.nope.deeper }}\n{% endblock %}\n"})
    with pytest.raises(ContentError) as info:
        build(root)
    assert info.value.path.endswith("layouts/post.html") and info.value.line == 3
    assert "nope" in info.value.message


def test_content_is_never_template_source(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("{{ 7*7 }}", body="{{ 7*7 }} {% if true %}x{% endif %}")})
    build(root)
    html = (root / "site/posts/7-7/index.html").read_text(encoding="utf-8")
    assert "49" not in html and "{{ 7*7 }}" in html and "{% if true %}" in html


def test_paginate_urls_and_paths():
    pages = paginate(tuple(range(5)), 2, "/tags/x/", "tags/x/")
    assert [(p, u, items) for p, u, items, _ in pages] == [
        ("tags/x/index.html", "/tags/x/", (0, 1)), ("tags/x/page/2/index.html", "/tags/x/page/2/", (2, 3)),
        ("tags/x/page/3/index.html", "/tags/x/page/3/", (4,))]
    second = pages[1][3]
    assert (second.prev_url, second.next_url, second.total) == ("/tags/x/", "/tags/x/page/3/", 3)
    assert paginate((), 2, "/", "/")[0][0] == "index.html"  # an empty site still has a home page


def test_plan_is_deterministic_and_covers_the_site(tmp_path):
    root = make_site(tmp_path, {f"content/posts/{i}.md": post(f"P{i}", tags=["t"]) for i in range(3)})
    site = load_site(load(root))
    first, second = plan_outputs(site), plan_outputs(site)
    assert [o.path for o in first] == [o.path for o in second]
    assert {"index.html", "page/2/index.html", "tags/t/index.html", "tags/t/page/2/index.html"} <= {o.path for o in first}


@pytest.mark.parametrize("files", [
    {"content/posts/a.md": post("A", slug="Foo"), "content/posts/b.md": post("B", slug="foo")},
    {"content/posts/a.md": post("乐"), "content/posts/b.md": post("了")},
])
def test_case_and_transliteration_collisions_fail_naming_both(tmp_path, files):
    root = make_site(tmp_path, files)
    with pytest.raises((ContentError, ErrorList)) as info:
        build(root)
    text = info.value.format()
    assert "content/posts/a.md" in text and "content/posts/b.md" in text and "collision" in text


@pytest.mark.parametrize("slug,clash", [("tags", "tags/index.html"), ("archive", "archive/index.html"),
                                        ("page", None), ("404.html", "/404.html is a file")])
def test_slug_equal_to_a_generated_page_collides(tmp_path, slug, clash):
    config = "title: T\nbase_url: https://example.com/\npermalink: /{slug}/\n"
    root = make_site(tmp_path, {"content/posts/a.md": post("A", slug=slug)}, config=config)
    if clash is None:
        build(root)  # /page/index.html sits beside /page/2/: no clash
        return
    with pytest.raises(ContentError) as info:
        build(root)
    assert "content/posts/a.md" in info.value.format() and clash in info.value.format()


def test_page_colliding_with_a_post_fails(tmp_path):
    config = "title: T\nbase_url: https://example.com/\npermalink: /{slug}/\n"
    root = make_site(tmp_path, {"content/posts/about.md": post("About", slug="about"),
                                "content/pages/about.md": "---\ntitle: About\n---\nx\n"}, config=config)
    with pytest.raises(ContentError) as info:
        build(root)
    assert "content/posts/about.md" in info.value.format() and "content/pages/about.md" in info.value.format()


def test_static_file_colliding_with_a_generated_file_fails(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A"), "static/rss.xml": "<rss/>"})
    with pytest.raises(ContentError) as info:
        build(root)
    assert "rss.xml" in info.value.format() and "static" in info.value.format()


def test_site_static_overrides_theme_static(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A"), "static/favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"})
    build(root)
    assert (root / "site/favicon.svg").read_text() == "<svg xmlns='http://www.w3.org/2000/svg'/>"


def test_stylesheet_link_carries_a_content_hash(tmp_path):
    root = make_site(tmp_path, {"content/posts/a.md": post("A")})
    build(root)
    html = (root / "site/index.html").read_text(encoding="utf-8")
    assert re.search(r'href="/assets/style\.css\?v=[0-9a-f]{10}"', html)


def test_base_url_path_prefixes_every_internal_link(tmp_path):
    config = "title: T\nbase_url: https://example.com/blog/\n"
    root = make_site(tmp_path, {"content/posts/a.md": post("A", tags=["x"])}, config=config)
    build(root)
    html = (root / "site/index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'(?:href|src)="([^"]+)"', html)
    internal = [h for h in hrefs if not h.startswith(("http", "#"))]
    assert internal and all(h.startswith("/blog/") for h in internal), internal


def test_date_filters_format_each_value_once_and_as_before(tmp_path):
    from datetime import datetime, timedelta, timezone

    from repost import feeds
    from repost.render import _datefmt, _once

    seen = []
    fmt = _once(lambda value, *args, **kwargs: seen.append(value) or f"{value.day}{args}{kwargs}")
    one, same_day = datetime(2026, 1, 2), datetime(2026, 1, 2)
    assert fmt(one) == fmt(one) == "2(){}" and len(seen) == 1
    assert fmt(same_day) == "2(){}" and len(seen) == 2  # an equal value, another object: computed (by identity)
    assert fmt(one, "short") == "2('short',){}" and fmt(one, style="x") == "2(){'style': 'x'}" and len(seen) == 4

    config = load(make_site(tmp_path))
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=8)))
    out = make_env(config).from_string("{{ d | datefmt }} {{ d | datefmt('short') }} {{ d | rfc3339 }} {{ d | rfc822 }}")
    expected = f"{_datefmt(config)(when)} {_datefmt(config)(when, 'short')} {feeds.rfc3339(when)} {feeds.rfc822(when)}"
    assert out.render(d=when) == out.render(d=when) == expected
