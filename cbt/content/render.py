"""Markdown to safe HTML, and the media references a Markdown text makes.

Course texts are written by trusted authors but travel between countries as zip files, so they
are treated as untrusted: markdown-it-py renders CommonMark (plus tables and footnotes, raw HTML
allowed), then nh3 (ammonia) keeps only an allow-list of tags, attributes and URL schemes.
Sanitizing the *output* is what makes this safe; nothing before nh3 is trusted to filter.

Relative URLs are media references. They are written relative to the file that contains them
(``../media/x.svg`` from a module folder), resolved against ``base`` (that file's folder,
relative to the course root) and handed to ``resolve_media``, which returns the URL to serve, or
``None`` to drop the reference.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

MediaResolver = Callable[[str], "str | None"]

#: Block and inline tags a lesson may use.
BLOCK_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr",
        "th", "td", "section", "figure", "figcaption", "details", "summary", "div",
    }
)  # fmt: skip
INLINE_TAGS = frozenset(
    {
        "a", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
        "code", "kbd", "abbr", "span", "br", "img", "video", "source",
    }
)  # fmt: skip

_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title", "width", "height"},
    "video": {"src", "controls", "preload", "width", "height", "title"},
    "source": {"src", "type"},
    "abbr": {"title"},
    "ol": {"start"},
    "li": {"id"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
_CLASSES: dict[str, set[str]] = {
    "th": {"align-left", "align-center", "align-right"},
    "td": {"align-left", "align-center", "align-right"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_FOOTNOTE_ID = re.compile(r"^fn(ref)?\d+(:\d+)?$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")
_VIDEO_SUFFIXES = (".mp4", ".webm")
# nh3 serializes attributes as name="value" with '"' escaped, so this matches a whole tag.
_IMG_TAG = re.compile(r"<img\b(?:\s+[^\s=>/]+(?:=\"[^\"]*\")?)*\s*/?>")
_VIDEO_ELEMENT = re.compile(r"<video\b(?:\s+[^\s=>/]+(?:=\"[^\"]*\")?)*\s*>(.*?)</video>", re.S)


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """CommonMark with tables and footnotes; raw HTML passes through to the sanitizer."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)


@lru_cache(maxsize=1)
def _reference_parser() -> MarkdownIt:
    """Like :func:`markdown_parser` but keeping links markdown-it would refuse (``javascript:``).

    The renderer drops those anyway; the validator wants to see them to tell the author.
    """
    md = MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin)
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def is_relative_reference(url: str) -> bool:
    """True for a path like ``../media/x.svg``; false for schemes, ``#frag``, ``/x``, ``//x``."""
    url = url.strip()
    return bool(url) and not url.startswith(("#", "/", "\\")) and not _SCHEME.match(url)


def reference_path(url: str) -> str:
    """The file part of a relative reference: query and fragment dropped, %-escapes decoded."""
    url = url.strip()
    for sep in ("#", "?"):
        url = url.split(sep, 1)[0]
    return unquote(url)


def resolve_relative(base: str, url: str) -> str | None:
    """``url`` relative to folder ``base`` as a path from the course root; ``None`` if it leaves it."""
    joined = posixpath.normpath(posixpath.join(base, reference_path(url)))
    if joined in ("", ".") or joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


@dataclass(frozen=True)
class Reference:
    """A URL found in Markdown (``![..](url)``, ``[..](url)`` or a raw HTML ``src``/``href``)."""

    url: str
    #: 0-based line within the Markdown text.
    line: int
    is_image: bool


_HTML_URL = re.compile(r"""\b(src|href|poster)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _walk(tokens: list[Token]) -> Iterator[tuple[Token, int]]:
    line = 0
    for token in tokens:
        if token.map:
            line = token.map[0]
        yield token, line
        if token.children:
            child_line = line
            for child in token.children:
                yield child, child_line
                if child.type in ("softbreak", "hardbreak"):
                    child_line += 1


def find_references(text: str) -> list[Reference]:
    """Every URL a Markdown text refers to, with its line, for the validator."""
    found: list[Reference] = []
    for token, line in _walk(_reference_parser().parse(text)):
        if token.type == "image":
            found.append(Reference(str(token.attrGet("src") or ""), line, True))
        elif token.type == "link_open":
            found.append(Reference(str(token.attrGet("href") or ""), line, False))
        elif token.type in ("html_inline", "html_block"):
            for match in _HTML_URL.finditer(token.content):
                url = match.group(2) or match.group(3) or match.group(4) or ""
                found.append(Reference(url, line, match.group(1).lower() != "href"))
    return found


def _prepare(tokens: list[Token]) -> None:
    """Token-level rewrites that HTML sanitizing cannot express.

    Table alignment becomes a class (``style`` is never allowed), and an image whose file is a
    video becomes a ``<video>`` element, so lessons embed clips with the same ``![..](..)`` syntax.
    """
    for token, _line in _walk(tokens):
        if token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "")
            token.attrs.pop("style", None)
            match = re.search(r"text-align:\s*(left|center|right)", style)
            if match:
                token.attrSet("class", f"align-{match.group(1)}")
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            if reference_path(src).lower().endswith(_VIDEO_SUFFIXES):
                alt = nh3.escape(token.content or "")
                token.type = "html_inline"
                token.tag = ""
                token.children = None
                token.content = f'<video controls preload="metadata" src="{nh3.escape(src)}">{alt}</video>'


def _safe_url(url: str) -> bool:
    """True unless ``url`` names a scheme other than http, https or mailto."""
    compact = re.sub(r"[\s\x00-\x1f]+", "", url)
    match = _SCHEME.match(compact)
    return match is None or match.group(0)[:-1].lower() in _URL_SCHEMES


def _cleaner(tags: frozenset[str], resolve_media: MediaResolver | None, base: str) -> nh3.Cleaner:
    def url_relative(url: str) -> str | None:
        if url.startswith("#"):
            return url
        if resolve_media is None or not is_relative_reference(url):
            return None
        path = resolve_relative(base, url)
        if path is None:
            return None
        resolved = resolve_media(path)
        return resolved if resolved is None or _safe_url(resolved) else None

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr == "id":
            return value if _FOOTNOTE_ID.match(value) else None
        if attr in ("href", "src") and not _safe_url(value):
            return None
        return value

    attributes = {tag: set(attrs) for tag, attrs in _ATTRIBUTES.items() if tag in tags}
    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=attributes,
        attribute_filter=attribute_filter,
        url_schemes=set(_URL_SCHEMES),
        allowed_classes={tag: set(c) for tag, c in _CLASSES.items() if tag in tags},
        set_tag_attribute_values={"img": {"loading": "lazy"}} if "img" in tags else None,
        url_relative=url_relative,
        link_rel="noopener noreferrer",
    )


def _drop_unresolved_media(html: str) -> str:
    """Remove images (and unwrap videos) whose ``src`` did not resolve."""
    html = _IMG_TAG.sub(lambda m: m.group(0) if ' src="' in m.group(0) else "", html)

    def video(match: re.Match[str]) -> str:
        opening = match.group(0)[: match.group(0).index(">") + 1]
        return match.group(0) if (' src="' in opening or "<source" in match.group(1)) else ""

    return _VIDEO_ELEMENT.sub(video, html)


def render_markdown(text: str, resolve_media: MediaResolver | None = None, *, base: str = "") -> str:
    """Render a lesson body (or any block of Markdown) to sanitized HTML.

    ``base`` is the folder of the file the text comes from, relative to the course root (the
    module folder for lessons and questions, ``""`` for course.yaml). Images get
    ``loading="lazy"``; links get ``rel="noopener noreferrer"``; references that do not resolve
    are removed.
    """
    md = markdown_parser()
    tokens = md.parse(text)
    _prepare(tokens)
    html = md.renderer.render(tokens, md.options, {})
    clean = _cleaner(BLOCK_TAGS | INLINE_TAGS, resolve_media, base).clean(html)
    return _drop_unresolved_media(clean)


def render_inline(text: str, resolve_media: MediaResolver | None = None, *, base: str = "") -> str:
    """Render a short text (prompt, option, label) as inline HTML: no paragraphs, no blocks.

    Without ``resolve_media`` relative images and links are dropped, which suits option labels.
    """
    md = markdown_parser()
    tokens = md.parseInline(text)
    _prepare(tokens)
    html = md.renderer.render(tokens, md.options, {})
    clean = _cleaner(INLINE_TAGS, resolve_media, base).clean(html)
    return _drop_unresolved_media(clean)
