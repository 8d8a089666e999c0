"""What HTML a post body may carry: an allowlist, applied by nh3 (and, for HTML markdown-it made
of a source without HTML of its own, by `markdown_only`, which gives nh3's output for a tenth of
its cost)."""
from __future__ import annotations

import re
from functools import lru_cache

# The checked-in allowlist: tags, attributes per tag, URL schemes (relative URLs also pass).
ALLOWED_TAGS = frozenset("""
a abbr b blockquote br caption cite code col colgroup dd del details dfn div dl dt em figcaption
figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q rp rt ruby s samp small span strong
sub summary sup table tbody td tfoot th thead time tr u ul var
""".split())
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "id"},
    "img": {"src", "alt", "width", "height"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "code": {"class"}, "pre": {"class"}, "span": {"class"}, "div": {"class"},
    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "reversed"}, "li": {"value"}, "time": {"datetime"},
    "abbr": {}, "details": {"open"}, "q": {"cite"}, "blockquote": {"cite"}, "del": {"cite"}, "ins": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select", "math", "svg"})


_IMG = re.compile(r'<img((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*/?>')


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags/attributes/URL schemes; links get rel=noopener; images get alt."""
    cleaned = _cleaner().clean(fragment)
    return _IMG.sub(_with_alt, cleaned) if "<img" in cleaned else cleaned


@lru_cache(maxsize=1)
def _cleaner():
    """Built once: the allowlist does not change while a build runs."""
    import nh3  # the Markdown libraries load on first use: a rebuild with nothing to parse skips them

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
    )


def _with_alt(match: re.Match) -> str:
    """vnu requires alt on every img; raw HTML images without one get an empty alt."""
    names = re.findall(r'\s+([\w:-]+)(?:="[^"]*")?', match.group(1))
    return match.group(0) if "alt" in names else f'<img alt=""{match.group(1)}>'


# A source without "<" has no HTML of its own: its HTML is markdown-it's, made of the tags and
# attributes below, every value escaped (& < > " in text and attributes). What nh3 makes of that
# is fixed: html5ever writes text escaping & < > and U+00A0, attributes escaping & " and U+00A0;
# void tags lose their " /"; links get rel, images loading="lazy"; style (table alignment) goes.
# `markdown_only` does just that, at a tenth of nh3's cost, and gives up (None: nh3 then) on
# anything else: another tag or attribute, a URL with a scheme but http, https or mailto, an
# entity nh3 would write back differently inside a tag, a control character.
# tests/test_sanitize.py checks it against nh3 on the bench corpus and on random documents.
_MD_UNKNOWN_TAG = re.compile(r"<(?!/?(?:p|h[1-6]|ul|ol|li|blockquote|pre|code|em|strong|a|img|hr|br|table|thead|"
                             r"tbody|tr|th|td|s)[ >])")
_MD_UNKNOWN_ATTR = re.compile(r' (?!(?:href|title|src|alt|start|class|id|style)=")[^ >]*="')
_MD_URL = re.compile(r' (?:href|src)="([^"]*)"')
_MD_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_MD_SCHEMES_KEPT = tuple(f"{scheme}:" for scheme in sorted(URL_SCHEMES))  # as written: "HTTP:" goes to nh3
_MD_REWRITTEN_IN_TAG = re.compile(r"<[^>]*&(?:quot|lt|gt);")
_MD_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MD_STYLE = re.compile(r' style="[^"]*"')
_MD_LINK = re.compile(r"(<a [^>]*)>")
_MD_IMAGE = re.compile(r"(<img [^>]*)>")


def markdown_only(html: str) -> str | None:
    """nh3's output for HTML that markdown-it made of a source without "<", or None (see above)."""
    if _MD_UNKNOWN_TAG.search(html) or _MD_UNKNOWN_ATTR.search(html) or _MD_CONTROL.search(html) \
            or _MD_REWRITTEN_IN_TAG.search(html):
        return None
    for url in _MD_URL.findall(html):
        if _MD_SCHEME.match(url) and not url.startswith(_MD_SCHEMES_KEPT):
            return None
    html = html.replace(" />", ">")
    if " style=\"" in html:
        html = _MD_STYLE.sub("", html)
    if "<a " in html:
        html = _MD_LINK.sub(r'\1 rel="noopener noreferrer">', html)
    if "<img " in html:
        html = _MD_IMAGE.sub(r'\1 loading="lazy">', html)
    if "&quot;" in html:
        html = html.replace("&quot;", '"')
    if "\xa0" in html:
        html = html.replace("\xa0", "&nbsp;")
    return html
