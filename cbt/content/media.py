"""Checks on media files: type by content, size limits, SVG safety, image dimensions.

Files are judged by their bytes, not their names: a ``.png`` that is really an HTML page, or an
SVG with a ``<script>``, would otherwise be served from our origin to every trainee. SVG is parsed
with expat with the DOCTYPE refused outright, so entity tricks (billion laughs, external
entities) never get a chance to expand. PNG, JPEG and WebP sizes are read from their headers,
which is all the hotspot check needs, so no imaging library is required.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import struct
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ERROR, N_, Problem
from .schema import MEDIA_TYPES

MiB = 1024 * 1024
#: Size limits per kind (README, "Media").
SIZE_LIMITS: dict[str, int] = {"image": 5 * MiB, "video": 200 * MiB}

#: An image's coordinate box: ``(min_x, min_y, width, height)``.
Box = tuple[float, float, float, float]

_FORMAT_NAMES = {
    ".svg": "SVG",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WebP",
    ".mp4": "MP4",
    ".webm": "WebM",
}


@dataclass
class MediaInfo:
    """What the checks learned about one media file."""

    kind: str | None = None
    size: int = 0
    sha256: str = ""
    #: Coordinate box for hotspot regions; ``None`` for video or when unknown.
    box: Box | None = None
    problems: list[Problem] = field(default_factory=list)


def sniff(data: bytes) -> str | None:
    """The format the bytes really are (``"PNG"``, ``"SVG"``...), or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp":
        return "MP4"
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return "WebM"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "SVG"
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Read the frame header (SOFn) that carries the pixel size."""
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            index += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


class _Refused(Exception):
    """Raised from inside expat handlers to stop parsing a hostile document at once."""


_SAFE_DATA_URL = re.compile(r"^data:image/(png|jpeg|gif|webp)[;,]")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]*)""", re.I)
_SVG_NS = "http://www.w3.org/2000/svg"
_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler"}
_ANIMATION_ELEMENTS = {"animate", "set", "animatemotion", "animatetransform"}


def _compact(value: str) -> str:
    """Lowercase with whitespace and control characters removed, as browsers read URLs."""
    return re.sub(r"[\s\x00-\x1f]+", "", value).lower()


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(px)?\s*", text, re.I)
    return float(match.group(1)) if match else None


@dataclass
class SvgReport:
    root: str | None = None
    box: Box | None = None
    #: ``(msgid, params, line)`` for each unsafe construct.
    issues: list[tuple[str, dict[str, object], int]] = field(default_factory=list)


def check_svg(data: bytes) -> SvgReport:
    """Parse an SVG safely and list everything that could run code or fetch from elsewhere.

    Raises :class:`xml.parsers.expat.ExpatError` for malformed XML.
    """
    report = SvgReport()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[str] = []

    def issue(message: str, **params: object) -> None:
        report.issues.append((message, params, parser.CurrentLineNumber))

    def check_reference(value: str, attr: str) -> None:
        compact = _compact(value)
        if compact.startswith(("javascript:", "vbscript:")):
            issue(N_("SVG has a javascript: link in %(attr)s"), attr=attr)
        elif compact.startswith("#") or _SAFE_DATA_URL.match(compact) or compact == "":
            return
        else:
            issue(N_("SVG refers to an external resource: %(url)s"), url=value.strip()[:200])

    def check_css(text: str, where: str) -> None:
        compact = _compact(text)
        if "javascript:" in compact or "expression(" in compact:
            issue(N_("SVG has a javascript: link in %(attr)s"), attr=where)
        if "@import" in compact:
            issue(N_("SVG refers to an external resource: %(url)s"), url="@import")
        for match in _CSS_URL.finditer(text):
            check_reference(match.group(1), where)

    def doctype(*_args: object) -> None:
        issue(N_("SVG has a DOCTYPE or ENTITY declaration: remove it, SVG does not need one"))
        raise _Refused

    def start(name: str, attrs: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        local_lower = local.lower()
        if report.root is None:
            report.root = f"{namespace} {local}" if namespace else local
            view_box = attrs.get("viewBox")
            try:
                numbers = [float(n) for n in re.split(r"[\s,]+", (view_box or "").strip()) if n]
            except ValueError:
                numbers = []
            if len(numbers) == 4 and numbers[2] > 0 and numbers[3] > 0:
                report.box = (numbers[0], numbers[1], numbers[2], numbers[3])
            else:
                width, height = _number(attrs.get("width")), _number(attrs.get("height"))
                if width and height:
                    report.box = (0.0, 0.0, width, height)
        stack.append(local_lower)
        if local_lower in _FORBIDDEN_ELEMENTS:
            issue(N_("SVG contains a <%(element)s> element"), element=local)
        for attr_name, value in attrs.items():
            attr = attr_name.rpartition(" ")[2]
            attr_lower = attr.lower()
            if attr_lower.startswith("on"):
                issue(N_("SVG has an event-handler attribute %(attr)s"), attr=attr)
            elif attr_lower in ("href", "src"):
                check_reference(value, attr)
            elif attr_lower == "style" or "url(" in value.lower() or "javascript:" in _compact(value):
                check_css(value, attr)
            if local_lower in _ANIMATION_ELEMENTS and attr_lower in ("attributename", "to", "values"):
                target = value.strip().lower()
                if attr_lower == "attributename" and (target.startswith("on") or target.endswith("href")):
                    issue(N_("SVG animates the attribute %(attr)s"), attr=value.strip())

    def end(_name: str) -> None:
        if stack:
            stack.pop()

    def text(content: str) -> None:
        if stack and stack[-1] == "style":
            check_css(content, "<style>")

    def instruction(target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            issue(N_("SVG refers to an external resource: %(url)s"), url="xml-stylesheet")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ExternalEntityRefHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.ProcessingInstructionHandler = instruction
    with contextlib.suppress(_Refused):
        parser.Parse(data, True)
    return report


def inspect_media(path: Path, rel: str) -> MediaInfo:
    """Check one file under ``media/``; ``rel`` is its course-relative path for problems."""
    info = MediaInfo()
    suffix = path.suffix.lower()

    def error(message: str, line: int | None = None, **params: object) -> None:
        info.problems.append(Problem(ERROR, rel, line, None, message, params))

    if suffix not in MEDIA_TYPES:
        error(
            N_("media type %(suffix)s is not allowed (allowed: %(allowed)s)"),
            suffix=suffix or path.name,
            allowed=", ".join(sorted(MEDIA_TYPES)),
        )
        return info
    kind = MEDIA_TYPES[suffix][0]
    info.kind = kind
    info.size = path.stat().st_size
    limit = SIZE_LIMITS[kind]
    if info.size > limit:
        message = (
            N_("image is %(size)s bytes, over the limit of %(limit)s bytes")
            if kind == "image"
            else N_("video is %(size)s bytes, over the limit of %(limit)s bytes")
        )
        error(message, size=info.size, limit=limit)
        return info
    if kind == "image":
        data = path.read_bytes()  # at most 5 MB, and SVG needs all of it
        info.sha256 = hashlib.sha256(data).hexdigest()
    else:
        # Videos can be 200 MB: hash them in chunks, sniff only the head.
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            data = handle.read(64 * 1024)
            digest.update(data)
            while chunk := handle.read(MiB):
                digest.update(chunk)
        info.sha256 = digest.hexdigest()
    expected = _FORMAT_NAMES[suffix]
    actual = sniff(data)
    if expected == "SVG":
        try:
            report = check_svg(data)
        except xml.parsers.expat.ExpatError as exc:
            error(N_("not well-formed SVG: %(error)s"), exc.lineno, error=str(exc))
            return info
        if report.root not in (f"{_SVG_NS} svg", "svg") and not report.issues:
            error(
                N_("content does not match the extension %(suffix)s (looks like %(actual)s)"),
                suffix=suffix,
                actual=actual or report.root or "unknown",
            )
            return info
        for message, params, line in report.issues:
            error(message, line, **params)
        info.box = report.box
        return info
    if actual != expected:
        error(
            N_("content does not match the extension %(suffix)s (looks like %(actual)s)"),
            suffix=suffix,
            actual=actual or "unknown",
        )
        return info
    size = {"PNG": png_size, "JPEG": jpeg_size, "WebP": webp_size}.get(expected)
    if size is not None:
        dims = size(data)
        if dims:
            info.box = (0.0, 0.0, float(dims[0]), float(dims[1]))
    return info
