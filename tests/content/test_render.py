"""Markdown rendering: the features lessons use, and an XSS corpus that must come out harmless."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from cbt.content.render import find_references, render_inline, render_markdown


def resolve(path: str) -> str | None:
    """The app's resolver, as tests see it: only files under media/ exist."""
    return f"/media/42/{path}" if path.startswith("media/") and "missing" not in path else None


def test_commonmark_tables_and_footnotes() -> None:
    out = render_markdown("**bold** _em_\n\n| a | b |\n|--:|:-:|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: Here.\n")
    assert "<strong>bold</strong>" in out and "<em>em</em>" in out
    assert '<th class="align-right">a</th>' in out and '<td class="align-center">2</td>' in out
    assert "style=" not in out
    assert 'href="#fn1"' in out and 'id="fn1"' in out and 'class="footnotes"' in out


def test_media_paths_resolve_relative_to_the_file() -> None:
    out = render_markdown("![Truck](../media/truck.svg)", resolve, base="01-documents")
    assert '<img src="/media/42/media/truck.svg" alt="Truck" loading="lazy">' in out


def test_raw_html_images_resolve_too() -> None:
    out = render_markdown('<img src="../media/a.png" alt="A" onerror="x()">', resolve, base="m")
    assert 'src="/media/42/media/a.png"' in out and "onerror" not in out and 'loading="lazy"' in out


@pytest.mark.parametrize(
    "source",
    [
        "![Gone](../media/missing.png)",
        "![Up](../../etc/passwd)",
        "![Abs](/etc/passwd)",
        "![Proto](//evil.example/x.png)",
        '<img src="../media/missing.png" alt="x>y">',
        "![Data](data:image/png;base64,AAAA)",
    ],
)
def test_unresolved_images_are_removed(source: str) -> None:
    out = render_markdown(source, resolve, base="m")
    assert "<img" not in out


def test_without_resolver_relative_media_are_dropped() -> None:
    assert "<img" not in render_markdown("![a](../media/a.png)")


def test_links() -> None:
    source = "[site](https://example.org) [mail](mailto:a@b.c) [doc](../media/a.pdf) [gone](x.md)"
    out = render_markdown(source, resolve, base="m")
    assert '<a href="https://example.org" rel="noopener noreferrer">site</a>' in out
    assert 'href="mailto:a@b.c"' in out
    assert 'href="/media/42/media/a.pdf"' in out
    assert "x.md" not in out and "gone" in out  # the link is removed, its text stays


def test_video_from_image_syntax() -> None:
    out = render_markdown("![Search pattern](../media/dogs.mp4)", resolve, base="m")
    assert (
        '<video controls="" preload="metadata" src="/media/42/media/dogs.mp4">Search pattern</video>' in out
    )
    missing = render_markdown("![Gone](../media/missing.webm)", resolve, base="m")
    assert "<video" not in missing


def test_render_inline_has_no_blocks() -> None:
    out = render_inline("Pick **one** of `a`\n\n- not a list")
    assert (
        "<p>" not in out and "<li>" not in out and "<strong>one</strong>" in out and "<code>a</code>" in out
    )


def test_find_references_lines() -> None:
    refs = find_references("Intro\n\n![a](../media/a.png)\n\ntext\nmore <img src='b.svg'>\n[c](c.md)\n")
    assert [(r.url, r.line, r.is_image) for r in refs] == [
        ("../media/a.png", 2, True),
        ("b.svg", 5, True),
        ("c.md", 6, False),
    ]


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<script\n>alert(1)</script\n>",
    "<img src=x onerror=alert(1)>",
    "<img src=x OnError=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<img/src=x/onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<div onmouseover='alert(1)'>hover</div>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](x.png"onerror="alert(1))',
    "[a][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><set attributeName=href to=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href='javascript:alert(1)'>x</math>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data='javascript:alert(1)'></object>",
    "<embed src='javascript:alert(1)'>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<p style='background:url(javascript:alert(1))'>x</p>",
    "<div style='x:expression(alert(1))'>x</div>",
    "<form action='javascript:alert(1)'><input type=submit></form>",
    "<button formaction='javascript:alert(1)'>x</button>",
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<video src=x onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<base href='javascript:alert(1)//'>",
    "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
    "<link rel=stylesheet href='javascript:alert(1)'>",
    "<img src=x onerror=alert(1)",
    "<a href='javascript:alert(1)'",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'>",
    "<template><script>alert(1)</script></template>",
    "<table background='javascript:alert(1)'><td>x</td></table>",
    "`<script>`alert(1)`</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<a href='#' onclick='alert(1)'>x</a>",
    "<abbr title='x' onmouseover=alert(1)>x</abbr>",
    "<img src='../media/a.png' onload=alert(1)>",
    "<a href='../media/a.png' onclick=alert(1)>x</a>",
    "<a href='https://ok.example' target=_blank onfocus=alert(1)>x</a>",
    "<div id='fn1' class='x' onclick=alert(1)>x</div>",
]

_URL_ATTRS = {"href", "src", "action", "formaction", "data", "background", "poster", "srcdoc", "xlink:href"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag.lower())
        self.attrs.extend((name.lower(), value or "") for name, value in attrs)


def _assert_harmless(out: str) -> None:
    assert "<script" not in out.lower()
    collector = _Collector()
    collector.feed(out)
    collector.close()
    assert not {"script", "iframe", "object", "embed", "style", "form", "base", "meta", "link"} & set(
        collector.tags
    )
    for name, value in collector.attrs:
        assert not re.match(r"on\w+", name), (name, out)
        assert name != "style", out
        compact = re.sub(r"[\s\x00-\x1f]+", "", html.unescape(value)).lower()
        for scheme in ("javascript:", "vbscript:", "data:"):
            assert scheme not in compact, (name, value, out)
    assert not re.search(r"<[^>]*\son\w+\s*=", out, re.I), out


def test_corpus_is_large_enough() -> None:
    assert len(XSS) >= 50


@pytest.mark.parametrize("payload", XSS)
def test_xss_render_markdown(payload: str) -> None:
    _assert_harmless(render_markdown(payload, resolve, base="m"))
    _assert_harmless(render_markdown(f"Some text\n\n{payload}\n\nmore *text*", resolve, base="m"))


@pytest.mark.parametrize("payload", XSS)
def test_xss_render_inline(payload: str) -> None:
    _assert_harmless(render_inline(payload, resolve, base="m"))
    _assert_harmless(render_inline(payload))


def test_xss_through_resolver_output() -> None:
    """Even a resolver that returned something hostile would not produce a script URL."""
    out = render_markdown("![a](../media/a.png)", lambda _p: "javascript:alert(1)", base="m")
    _assert_harmless(out)
