"""check_rules: what the rules compare (original URLs normalised, bodies fingerprinted by their words)."""
from __future__ import annotations

from repost.check_rules import body_fingerprint, normalise_url


def test_normalise_url_and_body_fingerprint():
    assert normalise_url("HTTPS://WWW.Example.com:443/a/b/?b=2&utm_medium=x&a=1&fbclid=z#frag") == "example.com/a/b?a=1&b=2"
    assert normalise_url("http://example.com/a%2Fb") != normalise_url("http://example.com/a/c")
    assert normalise_url("https://mp.weixin.qq.com/s?__biz=M&mid=1&idx=1&sn=s&chksm=c&scene=21") == \
        normalise_url("http://mp.weixin.qq.com/s?sn=s&idx=1&mid=1&__biz=M")
    assert normalise_url("https://example.com:8080/x") == "example.com:8080/x"
    assert body_fingerprint("<p>" + "word " * 20 + "</p>") == body_fingerprint("<h1>WORD</h1>" + "<em>word</em>, " * 19)
    assert body_fingerprint("<p>short</p>") is None
    assert [normalise_url(u) for u in ("https://x.example:abc/", " http://[::1/ ", "https://x.example:99999/")] == [
        "https://x.example:abc/", "http://[::1/", "https://x.example:99999/"]  # no crash: compared as written
