"""RELIABILITY B1 row 11, the part the importer's own tests leave out: a saved page whose `_files/`
folder holds symlinks to files outside the dump folder, imported and then built. Rows 1-10 are in
test_import_decode.py, test_import_rules.py and test_import_batch.py."""
from __future__ import annotations


from conftest import build, load, make_site, tree
from repost.importer import import_paths

SENTINEL = "SENTINEL-OUTSIDE-THE-DUMP-FOLDER"
PAGE = """<html><head><title>页面 – 某站</title></head><body><article><h1>保存的页面</h1>
<p>正文第一段，足够长的文字内容在这里，用来确认文字被保留。</p>
<img src="page_files/a.png"><img src="page_files/secret.png"><img src="../../outside/secret.txt">
<p>正文第二段。<a href="page_files/frame.html">框架</a></p></article></body></html>"""


def test_symlinks_in_a_saved_pages_files_folder_are_never_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SENTINEL, encoding="utf-8")
    (outside / "secret.html").write_text(f"<html><body><article><h1>Secret</h1><p>{SENTINEL} " * 20 + "</p></article></body></html>",
                                         encoding="utf-8")
    root = make_site(tmp_path / "site", {"content/raw/page.html": PAGE, "content/raw/page_files/a.png": b"\x89PNG\r\n"})
    files = root / "content/raw/page_files"
    (files / "secret.png").symlink_to(outside / "secret.txt")
    (files / "frame.html").symlink_to(outside / "secret.html")
    (root / "content/raw/linked_dir").symlink_to(outside)

    summary = import_paths(load(root), None)
    assert [o.path.name for o in summary.outcomes if o.status == "imported"] == ["page.html"]
    warnings = " ".join(summary.warnings)
    assert "linked_dir: symlinked folder not followed" in warnings
    assert "page_files" not in warnings  # a saved page's asset folder is not walked at all

    post = next((root / "content/posts").glob("*.md")).read_text(encoding="utf-8")
    assert "正文第一段" in post and SENTINEL not in post and "page_files" not in post and "outside" not in post
    build(root)
    for rel in tree(root / "site"):
        assert SENTINEL.encode() not in (root / "site" / rel).read_bytes(), rel
    assert not any("secret" in rel for rel in tree(root / "site"))
    assert (outside / "secret.txt").read_text(encoding="utf-8") == SENTINEL


def test_files_in_a_saved_pages_asset_folder_are_not_dumps(tmp_path):
    root = make_site(tmp_path / "site", {
        "content/raw/page.html": PAGE,
        "content/raw/page_files/ad.htm": "<html><body><article><h1>广告</h1><p>" + "广告正文。" * 40 + "</p></article></body></html>",
        "content/raw/notes_files/real.txt": "一篇标题\n\n" + "这是正文段落。" * 20 + "\n",
    })
    summary = import_paths(load(root), None)
    imported = sorted(o.path.name for o in summary.outcomes if o.status == "imported")
    # page_files/ sits beside page.html: assets; notes_files/ has no notes.html beside it: a plain folder
    assert imported == ["page.html", "real.txt"]
