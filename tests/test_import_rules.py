"""Rule packs and the body: tricky lines that look like boilerplate, escaping, HTML safety, properties."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import html as lxml_html

from repost.config import parse_config
from repost.errors import ConfigError, ErrorList
from repost.importer import import_dump, load_packs
from repost.importer.packs import parse_pack
from repost.importer.structure import escape_block

NOW = datetime(2026, 11, 27, 5, 20, tzinfo=timezone.utc)
CONFIG = parse_config("timezone: Asia/Shanghai\n", Path("/nonexistent-site"))
PACKS = load_packs(CONFIG)


def run(text: str, name: str = "dump.txt", **kw):
    return import_dump(text.encode("utf-8"), PACKS, CONFIG, name=name, now=NOW, **kw)


def _renderers():
    """The build's renderer (markdown-it-py, CommonMark) when present, and Python-Markdown."""
    out = [lambda body: markdown.markdown(body, extensions=["fenced_code"])]
    try:
        from repost.markup import render_markdown

        out.insert(0, lambda body: render_markdown(body, timeout=None))
    except ImportError:
        pass
    return out


RENDERERS = _renderers()


def page_text(body: str, render=None) -> str:
    """What a reader sees of the body; every renderer must agree."""
    texts = [lxml_html.fromstring(f"<div>{r(body)}</div>").text_content() for r in ([render] if render else RENDERERS)]
    assert all(" ".join(t.split()) == " ".join(texts[0].split()) for t in texts), texts
    return texts[0]


# -- tricky lines ---------------------------------------------------------------------------------

def test_body_lines_that_look_like_boilerplate_stay():
    text = ("一篇文章\n\n"
            "第一段讲的是 END 这个词在英文里的用法，以及项目的 end-to-end 测试。\n\n"
            "第二段说这篇文章欢迎转载，但请注明出处，这是作者在正文里说的话，并不是平台的声明。\n\n"
            "Thank you for reading this far, the next part is the important one.\n\n"
            "2017年以来，移动支付的格局发生了很大变化，这不是发布日期。\n\n"
            "最后一段。\n")
    result = run(text)
    body = result.body
    for line in text.split("\n")[2:]:
        if line:
            assert line in page_text(body), line
    assert result.front_matter["source"]["published"] is None
    assert result.front_matter["copyright"] is None


def test_end_marker_in_the_middle_does_not_cut_the_body():
    paras = [f"第{i}段正文，内容足够长，用来确认结束标记不会在文章中部截断正文的任何一行。" for i in range(8)]
    text = "标题\n\n" + "\n\n".join(paras[:2]) + "\n\n- END -\n\n" + "\n\n".join(paras[2:]) + "\n"
    body = run(text).body
    assert all(p in body for p in paras)


def test_sidebar_author_is_not_metadata():
    """A recommendation list's author names are not the article's author."""
    SEED_LIKE = Path(__file__).resolve().parents[1].joinpath("content/raw/jianshu-12306.txt").read_text(encoding="utf-8")
    result = run(SEED_LIKE)
    assert result.front_matter["source"]["author"] is None
    assert "沈念sama" not in result.text and "本文来源" not in result.body


def test_every_removal_is_named_with_its_line_span():
    result = run(Path(__file__).resolve().parents[1].joinpath("content/raw/jianshu-12306.txt").read_text(encoding="utf-8"))
    removed = {r.rule for r in result.report.removed}
    assert {"title", "generic.share-prompt", "jianshu.notice", "jianshu.recommendation"} <= removed
    assert any(r.rule.endswith("end-marker") and r.first == r.last == 33 for r in result.report.removed)
    assert result.report.platforms[:2] == ("jianshu", "wechat")


def test_numbered_lists_and_dates_keep_their_text():
    text = ("标题\n\n时间线：\n\n1.3日转发某华RCE漏洞poc\n\n1.7日号主注销账号\n\n"
            "1、第一点\n\n2、第二点\n\n1. one\n\n2. two\n\n# not a heading in plain text\n")
    body = run(text).body
    assert "1.3日转发某华RCE漏洞poc" in body and "1.7日号主注销账号" in body
    assert "- 1、第一点\n- 2、第二点" in body
    assert "1. one\n2. two" in body
    assert "\\# not a heading" in body
    assert "1.3日转发某华RCE漏洞poc" in page_text(body) and "# not a heading in plain text" in page_text(body)


def test_structure_of_plain_text():
    long_a = "这是一个足够长的段落，用来给中间的短行做上下文，长度超过了四十个字符的要求，句子也完整。"
    text = f"标题\n\n{long_a}\n\n短小的小标题\n\n{long_a}\n\n一、第一部分\n\n{long_a}\n\n（一）细节\n\n{long_a}\n\n• 要点一\n• 要点二\n"
    body = run(text).body
    assert "## 短小的小标题" in body and "## 一、第一部分" in body and "### （一）细节" in body
    assert "- 要点一\n- 要点二" in body


# -- packs ----------------------------------------------------------------------------------------

def test_title_stands_next_to_its_byline_and_the_header_above_it_goes():
    """Unknown chrome above a page's title (nav words, a site name) is not the title: the byline anchors it."""
    result = run("首页\n沸点\n课程\n某个新栏目\n\n一篇讲缓存的文章\n\n张三IP属地: 北京\n\n"
                 "正文第一段，写得足够长，是一句完整的话，讲的是缓存失效的问题。\n\n正文第二段。\n"
                 "©著作权归作者所有,转载或内容合作请联系作者\n")
    assert result.front_matter["title"] == "一篇讲缓存的文章"
    assert result.front_matter["source"]["author"] == "张三"
    assert result.body.startswith("正文第一段"), result.body
    assert {r.rule for r in result.report.removed} >= {"header.before-title", "jianshu.author-ip:title"}
    dev = run("Skip to content\nDEV Community\nClose\nLena\nPosted on Jan 5, 2023\n\nThe title after the byline\n"
              "# rust # beginners\n\nA first paragraph that is long enough to read as prose, with a full stop.\n"
              "Top comments (0)\n")
    assert dev.front_matter["title"] == "The title after the byline" and dev.front_matter["source"]["author"] == "Lena"
    assert dev.body.startswith("A first paragraph"), dev.body


def test_a_long_question_title_that_reads_like_prose_still_anchors():
    long_title = "如何评价 2023 年 B 站出品的《三体》动画版，它和原著相比差在哪里？"
    result = run(f"首页\n会员\n发现\n等你来答\n\n{long_title}\n\n陈默\n科幻迷 / 动画从业者\n\n2,351 人赞同了该回答\n\n"
                 "先说结论：制作诚意是有的，但叙事节奏问题很大，值得一看。\n\n编辑于 2023-01-20 11:02・浙江\n赞同 2351328 条评论\n")
    assert result.front_matter["title"] == long_title and result.front_matter["source"]["author"] == "陈默"
    assert result.body.startswith("先说结论"), result.body

def test_a_byline_inside_the_body_does_not_move_the_title():
    text = ("真正的标题\n\n第一段是正文，足够长，讲的是一个完整的故事，以句号结尾。\n\n"
            "引用的一行\n张三IP属地: 北京\n\n最后一段正文。\n©著作权归作者所有,转载或内容合作请联系作者\n")
    result = run(text)
    assert result.front_matter["title"] == "真正的标题"
    assert "第一段是正文" in result.body and "引用的一行" in result.body


def test_csdn_repost_names_no_author_but_an_original_names_the_blogger():
    head = "标题\n最新推荐文章于 2024-12-01 10:11:12 发布\n\n运维小王\n最新推荐文章于 2024-12-01 10:11:12 发布\n\n{badge}\n\n阅读量3.4k\n"
    body = "正文第一段，讲的是端口占用的排查方法，这是完整的一句话。\n\n运维小王\n\n关注\n关注\n\n5\n\n点赞\n"
    repost = run(head.format(badge="转载") + "原文链接：https://www.cnblogs.com/x/p/1.html\n" + body)
    original = run(head.format(badge="原创") + body)
    assert repost.front_matter["source"]["author"] is None
    assert repost.front_matter["source"]["url"] == "https://www.cnblogs.com/x/p/1.html"
    assert original.front_matter["source"]["author"] == "运维小王"


def test_source_urls_lose_only_utm_tracking():
    from repost.importer.meta import clean_url

    assert clean_url("https://segmentfault.com/q/1010000023206213?utm_source=tag-newest") == "https://segmentfault.com/q/1010000023206213"
    assert clean_url("https://a.example/p?id=3&utm_medium=x&b=2#top") == "https://a.example/p?id=3&b=2#top"
    assert clean_url("https://mp.weixin.qq.com/s?__biz=Mz==&mid=1&idx=1&sn=ab") == "https://mp.weixin.qq.com/s?__biz=Mz==&mid=1&idx=1&sn=ab"


@pytest.mark.parametrize("key,value,says", [
    ("title", "above", "title must be before or after"),
    ("same_as", "colour", "same_as must be one of"),
    ("unless", "(", "bad regular expression"),
])
def test_meta_rule_options_are_validated(key, value, says):
    text = f"id: x\nmeta:\n  - pattern: '(?P<author>.+)'\n    {key}: '{value}'\n"
    with pytest.raises((ConfigError, ErrorList)) as info:
        parse_pack(text, "rules/x.yaml")
    assert says in str(info.value) and "rules/x.yaml:4" in str(info.value)


def test_html_page_text_keeps_inline_elements_on_their_line_and_survives_deep_nesting():
    from repost.importer.html import page_text_lines, parse

    doc = parse("<html><body><div class=c>版权声明：本文为博主原创文章，遵循<a href='#'> CC 4.0 BY-SA </a>版权协议。<!-- x -->尾"
                "<p>a<br>b</p><script>no</script></div>" + "<div>" * 200 + "深处" + "</div>" * 200 + "</body></html>")
    lines = page_text_lines(doc)
    assert lines == ["版权声明：本文为博主原创文章，遵循 CC 4.0 BY-SA 版权协议。尾", "a", "b", "深处"]
    deep = parse("<html><body>" + "<div><span>" * 5000 + "x" + "</span></div>" * 5000 + "</body></html>")
    assert isinstance(page_text_lines(deep), list)  # no RecursionError, whatever the parser kept


def test_html_images_behind_source_tags_and_code_lines_in_br():
    page = ("<html><head><meta property='og:site_name' content='Medium'>"
            "<script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":\"T\",\"publisher\":{\"name\":\"Pub\"}}</script>"
            "</head><body><article><h1>T</h1><p>A paragraph long enough to be the article body, with words.</p>"
            "<figure><picture><source srcset='https://miro.medium.com/x.webp 640w'><img src='https://miro.medium.com/x.png'>"
            "</picture></figure><pre><span># one<br>two()</span></pre></article>"
            "<p>Written by Somebody</p><p>No responses yet</p><p>Medium Logo</p></body></html>")
    result = run(page, name="page.html")
    assert "![](https://miro.medium.com/x.png)" in result.body
    assert "# one\ntwo()" in result.body
    assert result.front_matter["source"]["platform"] == "medium"
    assert result.front_matter["source"]["site_name"] == "Pub"  # og:site_name names the platform, not the site


def test_pack_errors_name_file_and_line(tmp_path):
    bad = "id: mypack\nname: x\ndetect:\n  - pattern: '(unclosed'\nmeta:\n  - pattern: 'no groups'\nbogus: 1\n"
    with pytest.raises(ErrorList) as exc:
        parse_pack(bad, "rules/mypack.yaml")
    text = exc.value.format()
    assert "rules/mypack.yaml:4: bad regular expression" in text
    assert "rules/mypack.yaml:6: meta patterns need named groups" in text
    assert "rules/mypack.yaml:7: unknown key 'bogus'" in text


def test_site_pack_from_import_rules(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "myblog.yaml").write_text(
        "id: myblog\nname: My Blog\nsite_name: 我的博客\n"
        "detect:\n  - {pattern: '^本文首发于我的博客$', weight: 3}\n"
        "drop:\n  - {name: first-seen, pattern: '本文首发于我的博客'}\n"
        "meta:\n  - {name: by, pattern: '署名[:：](?P<author>\\S+)'}\n", encoding="utf-8")
    config = parse_config("import:\n  rules: [rules]\n", tmp_path)
    packs = load_packs(config)
    assert "myblog" in packs.ids
    result = import_dump("标题\n\n正文一段。\n\n署名：小李\n\n本文首发于我的博客\n".encode(), packs, config, name="a.txt", now=NOW)
    assert result.front_matter["source"]["platform"] == "myblog"
    assert result.front_matter["source"]["author"] == "小李"
    assert result.front_matter["source"]["site_name"] == "我的博客"
    assert "首发" not in result.body


def test_bad_site_pack_is_a_config_error(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text("id: Broken Pack\ndrop: [1]\n", encoding="utf-8")
    with pytest.raises((ConfigError, ErrorList)) as exc:
        load_packs(parse_config("import:\n  rules: [rules]\n", tmp_path))
    assert "broken.yaml:1" in exc.value.format()


def test_every_builtin_pack_loads_and_has_markers():
    for pack_id in PACKS.ids:
        pack = PACKS.get(pack_id)
        assert pack_id == "generic" or pack.detect, pack_id


# -- HTML safety (B1 rows 10 and 11) --------------------------------------------------------------

def test_html_scripts_frames_handlers_and_local_files_do_not_survive(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("SENTINEL-CONTENT", encoding="utf-8")
    page = f"""<html><head><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">
<title>安全测试</title><script>document.write('pwn')</script></head><body><article>
<h1>安全测试</h1>
<p onmouseover="steal()">第一段正文，文字必须保留下来。<a href="javascript:alert(1)">链接文字</a></p>
<iframe srcdoc="<script>x</script>"></iframe><svg onload="x()"><text>svg</text></svg>
<p>第二段正文。<img src="../../../etc/passwd"><img src="file://{sentinel}"><img src="C:\\Windows\\x.png"></p>
</article></body></html>"""
    result = run(page, name="page.html")
    body = result.body
    for bad in ("<script", "document.write", "iframe", "onmouseover", "steal", "javascript", "evil.example", "etc/passwd",
                "file:", "SENTINEL", "svg", "C:"):
        assert bad not in body, bad
    assert "第一段正文，文字必须保留下来。链接文字" in page_text(body)
    warnings = " ".join(result.report.warnings)
    assert "../../../etc/passwd" in warnings and "file://" in warnings


def test_html_metadata_from_meta_tags_and_json_ld():
    page = """<html><head><title>Ignored – Site</title>
<meta property="og:title" content="真正的标题"><meta property="og:site_name" content="某站">
<link rel="canonical" href="https://example.com/p/1">
<script type="application/ld+json">{"@type":"Article","headline":"x","author":{"name":"张三"},"datePublished":"2024-05-06T07:08:09+08:00"}</script>
</head><body><div class="content"><p>正文第一段，足够长的内容，用来让提取器选中这个容器作为文章。</p><p>第二段，同样是正文，句子完整。</p></div>
<div class="sidebar"><p>侧栏推荐：另一篇文章的摘要，作者李四，不应出现在正文里。</p></div></body></html>"""
    fm = run(page, name="p.html").front_matter
    assert fm["title"] == "真正的标题"
    assert fm["source"] == {"platform": "unknown", "site_name": "某站", "author": "张三",
                            "url": "https://example.com/p/1", "published": "2024-05-06"}
    assert "李四" not in run(page, name="p.html").body


# -- properties -----------------------------------------------------------------------------------

_WORDS = st.text(alphabet=st.sampled_from(list("微信支付宝火车票交通场景竞争用户体验阿里腾讯的了是在和有")
                                          + list("abcdefghij klmnop*_#[]()<>`!&1234567890.,")), min_size=12, max_size=80)
_PARA = _WORDS.map(lambda s: s.strip()).filter(lambda s: len(s) >= 12 and re.search(r"[\u4e00-\u9fff]{3}", s)
                                                          and not re.fullmatch(r"[\s\W\d]*", s)
                                                          and not re.match(r"[-+*]\s", s))  # a bullet: a list item

WRAPPERS = {
    "jianshu": ("{title}\n\n", "\n\n•END•\n\n©著作权归作者所有,转载或内容合作请联系作者\n  • 序言:滨河连续发生了三起死亡事件...\n    沈念sama阅读 194,319评论 5 459\n\n推荐阅读更多精彩内容\n",
                ["©著作权", "沈念sama", "推荐阅读更多精彩内容", "•END•"]),
    "wechat": ("{title}\n原创 某作者  某公众号   2025-04-22 00:35\n\n", "\n\n·end·\n\n—如果喜欢，快分享给你的朋友们吧—\n\n预览时标签不可点\n微信扫一扫\n关注该公众号\n继续滑动看下一个\n",
               ["2025-04-22", "·end·", "如果喜欢", "预览时标签不可点", "微信扫一扫", "继续滑动看下一个"]),
    "csdn": ("{title}\n最新推荐文章于 2025-08-14 00:50:32 发布\n某博主\n最新推荐文章于 2025-08-14 00:50:32 发布\n阅读量1w\n收藏\n订阅专栏\n",
             "\n\n确定要放弃本次机会？\n福利倒计时\n参与评论\n", ["最新推荐文章于", "阅读量1w", "订阅专栏", "确定要放弃本次机会", "参与评论"]),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(pack=st.sampled_from(sorted(WRAPPERS)), paras=st.lists(_PARA, min_size=2, max_size=6, unique=True))
def test_random_paragraphs_in_boilerplate_survive_exactly_once(pack, paras):
    head, tail, boilerplate = WRAPPERS[pack]
    text = head.format(title="随机标题测试") + "\n\n".join(paras) + tail
    result = run(text)
    shown = page_text(result.body)
    flat = re.sub(r"\s+", " ", shown)
    for para in paras:
        want = re.sub(r"\s+", " ", para)
        assert flat.count(want) == 1 + sum(want in other for other in paras if other != para), (para, result.body)
    for junk in boilerplate:
        assert junk not in shown
    assert result.front_matter["source"]["platform"] == pack


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=60))
def test_escaped_text_renders_as_itself(text):
    from repost.frontmatter import clean_text

    line = " ".join(clean_text(text).split())  # less what every build drops: a BOM, bidi controls, zero-width space
    if not line:
        return
    shown = page_text(escape_block(line))
    assert " ".join(shown.split()) == line
