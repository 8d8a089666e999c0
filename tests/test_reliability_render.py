"""RELIABILITY B5 (rows 29, 30, 33) through the build: what reaches a page *and* its feed entry.

The sanitiser itself is unit-tested in test_markup.py; here the same probes go through
`repost build`, and every page and feed entry is parsed (never regexed) for URLs and handlers.
"""
from __future__ import annotations

import time

import feedparser
import pytest
from lxml import html

from conftest import build, make_site, post, tree
from repost import markup
from repost.cli import main
from repost.errors import ContentError, ErrorList
from repost.links import scheme_of

SAFE = {None, "http", "https", "mailto"}
LINK_PROBES = [
    "[a](javascript:alert(1))", "[b](JaVaScRiPt:alert(1))", "[c](javascript&#58;alert(1))", "[d](java\tscript:alert(1))",
    "[e](data:text/html;base64,PHNjcmlwdD4=)", "[f](vbscript:msgbox(1))", "[g](\n javascript:alert(1))",
    "![h](javascript:alert(1))", "[i](&#x6A;avascript:alert(1))", "[j](%6Aavascript:alert(1))",
    "<a href=\"&#106;&#97;vascript:alert(1)\">k</a>", "<a href=\"\x01javascript:alert(1)\">l</a>",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">", "[m](file:///etc/passwd)",
    "<a href=\"java&#x09;script:alert(1)\">n</a>", "<a href=\"jav&#x0A;ascript:alert(1)\">o</a>",
]
RAW_PROBES = [
    "<script>alert(1)</script>", "<style>body{display:none}</style>", "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>", '<a href="https://x.example/" target="_blank">t</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>', '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">', '<object data="x"></object>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', "<details open ontoggle=alert(1)>d</details>",
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">b</button></form>',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<!--><img src=x onerror=alert(1)>-->", "<a href=\"/ok/\" style=\"position:fixed\">s</a>",
]


def _check_fragment(root, where: str) -> None:
    assert not root.xpath("//script[not(@type='application/ld+json')]|//style|//iframe|//object|//embed|//svg|//math"
                          "|//base|//form|//button|//input|//noscript"), where
    assert not root.xpath("//meta[@http-equiv]"), where
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        bad = [a for a in el.attrib if a.lower().startswith("on") or a.lower() in ("srcdoc", "formaction", "style")]
        assert not bad, (where, el.tag, bad)
        for attr in ("href", "src", "action", "xlink:href"):
            value = el.get(attr)
            if value is not None:
                assert scheme_of(value) in SAFE, (where, el.tag, value)
        if el.tag == "a" and el.get("href", "").startswith("http"):
            assert "noopener" in el.get("rel", ""), (where, html.tostring(el))


def test_hostile_links_and_raw_html_never_reach_a_page_or_a_feed(tmp_path):
    body = "\n\n".join(LINK_PROBES + RAW_PROBES) + "\n\nThe visible text stays.\n"
    root = make_site(tmp_path, {"content/posts/x.md": post("X", body, slug="x")})
    build(root)
    out = root / "site"
    for rel in sorted(r for r in tree(out) if r.endswith(".html")):
        _check_fragment(html.fromstring((out / rel).read_bytes()), rel)
    page = html.fromstring((out / "posts/x/index.html").read_bytes())
    assert "The visible text stays." in page.text_content()
    for name in ("atom.xml", "rss.xml"):
        feed = feedparser.parse((out / name).read_bytes())
        assert feed.bozo == 0
        entry_html = feed.entries[0].content[0].value if name == "atom.xml" else feed.entries[0].description
        _check_fragment(html.fragment_fromstring(entry_html, create_parent="div"), name)


ADVERSARIAL = {
    "brackets": "[" * 20000, "cdata": "<![" * 5000, "comment": "<!-- x -- >" * 2000 + "\n\n-- >",
    "quotes": ">" * 5000 + " deep", "line": "x" * 100_000, "lists": "".join("  " * i + "- x\n" for i in range(1000)),
    "emphasis": "*a **" * 5000, "links": "[a](" * 5000, "entities": "&#" * 20000, "tables": "|a" * 5000 + "\n|-\n",
}


@pytest.mark.timeout(120)
def test_adversarial_markdown_builds_or_fails_per_file(tmp_path):
    files = {f"content/posts/{name}.md": post(name, text, slug=name) for name, text in ADVERSARIAL.items()}
    files["content/posts/fine.md"] = post("fine", "Just text.", slug="fine")
    root = make_site(tmp_path, files)
    try:
        build(root)
    except (ContentError, ErrorList) as exc:
        errors = exc.errors if isinstance(exc, ErrorList) else [exc]
        assert all(e.path.startswith("content/posts/") and "fine.md" not in e.path for e in errors)
        return
    out = root / "site"
    assert {f"posts/{name}/index.html" for name in [*ADVERSARIAL, "fine"]} <= tree(out)
    for name in ADVERSARIAL:
        html.fromstring((out / f"posts/{name}/index.html").read_bytes())


def test_a_render_over_budget_is_one_files_error_and_the_cli_says_which(tmp_path, capsys, monkeypatch):
    real_to_html, real_render = markup._to_html, markup.render_parts

    def slow_to_html(text, fast):
        if "PATHOLOGICAL" in text:
            time.sleep(3)
        return real_to_html(text, fast)

    monkeypatch.setattr(markup, "_to_html", slow_to_html)
    monkeypatch.setattr(markup, "render_parts", lambda text, timeout=None: real_render(text, timeout=0.3))
    root = make_site(tmp_path, {"content/posts/slow.md": post("slow", "PATHOLOGICAL input"),
                                "content/posts/ok.md": post("ok", "fine")})
    code = main(["--config", str(root / "config.yaml"), "build"])
    err = capsys.readouterr().err
    assert code == 1
    assert "content/posts/slow.md:5: Markdown rendering took longer than 0.3 s" in err and "Traceback" not in err, err
    assert "ok.md" not in err and not (root / "site").exists()


def test_a_recursion_error_in_the_renderer_is_a_file_error(tmp_path, monkeypatch):
    def deep(text, fast):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(markup, "_to_html", deep)
    root = make_site(tmp_path, {"content/posts/deep.md": post("deep", "> > > deep")})
    with pytest.raises(ContentError) as info:
        build(root)
    assert info.value.format() == "content/posts/deep.md:5: Markdown nested too deeply to render"
