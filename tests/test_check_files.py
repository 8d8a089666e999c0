"""check_files: the per-file view `repost check` reads (its fast front matter line lookup)."""
from __future__ import annotations

from check_support import repost_post
from conftest import FIXTURES


def test_fast_line_lookup_agrees_with_the_yaml_parser(tmp_path):
    from repost.check_files import _scan_line
    from repost.frontmatter import split

    texts = [repost_post("A", imported={"from": "raw/a.txt", "sha256": "0" * 64}, tags=["x", "y"]),
             "---\r\ntitle: T\r\n# comment\r\nsource:\r\n    url: https://x.example/\r\n\r\n    author: B\r\npermission: pending\r\n---\r\nbody",
             "\ufeff---\ntitle: T\nsource: {platform: p, url: u}\nimported:\n  from: r\n---\n",
             *[p.read_text("utf-8") for p in (FIXTURES / "site/content/posts").glob("*.md")]]
    for text in texts:
        from repost.frontmatter import clean_text

        doc = split(text, "p.md")
        for path, line in doc.yaml.lines.items():
            if 1 <= len(path) <= 2 and all(isinstance(k, str) for k in path):
                found = _scan_line(clean_text(text), path)
                assert found in (line, None), (path, found, line, text)
                if "{" not in text.split("\n")[line - 1]:
                    assert found == line, (path, text)
