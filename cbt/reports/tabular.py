"""CSV and XLSX writers that stream and that a spreadsheet cannot be tricked by. PURE: no Flask.

Formula injection: a trainee named ``=HYPERLINK(...)`` must not become a live formula on the administrator's
workstation. Every *text* cell starting with ``= + - @``, a tab, a carriage return or NUL gets a leading
single quote, in CSV and XLSX alike. Numbers and dates are written as such, so sums and charts still work on
them; XLSX cells are only ever inline strings, numbers or dates, never formulas.

Speed: an export of 100,000 attempts must take seconds, so callers say what each column holds (``kinds``:
:data:`TEXT`, :data:`SAFE_TEXT`, :data:`NUMBER` or :data:`DATETIME`) and the writers do the least per cell:
neutralise text columns, format date columns, pass numbers and already neutralised text through. Without
``kinds`` each cell's type is looked at (fine for short tables). Dates may come as aware datetimes or,
straight from SQL, as UTC text ``YYYY-MM-DD HH:MM:SS``.

Both writers yield ``bytes`` chunks as rows come in. XLSX is written by :func:`xlsx_chunks` itself: a minimal
SpreadsheetML package (workbook, one sheet of inline strings, a style sheet for bold headers and dates) in a
zip built on the fly with data descriptors, so nothing is held but the current chunk. For 23-column attempt
rows openpyxl's write-only mode managed about 850 rows a second here and XlsxWriter's constant-memory mode
about 2,500 (both spend tens of microseconds per cell); this writer does about 15,000 (see bench/README.md).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
TRIGGER_SET = frozenset(TRIGGERS)
BOM = "\ufeff"
ROWS_PER_CHUNK = 500
CHUNK_BYTES = 64 * 1024

#: Column kinds (see the module docstring). SAFE_TEXT: text the caller has already passed through
#: :func:`neutralize` (names from lookup tables, neutralised once rather than once per row). UTC_TEXT: a
#: moment the database already formatted as ``YYYY-MM-DD HH:MM:SS`` UTC (CSV writes it as is; XLSX as a date).
TEXT, SAFE_TEXT, NUMBER, DATETIME, UTC_TEXT = "text", "safe", "number", "datetime", "utc"


def neutralize(value: str) -> str:
    """Make a text cell inert in spreadsheets (ASVS 5.0 1.2.10)."""
    return "'" + value if value[:1] in TRIGGER_SET else value


def utc_text(value: datetime | str) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, from a datetime or from SQL text already in that form."""
    if type(value) is str:
        return value[:19]
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[union-attr]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    return neutralize(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]],
               kinds: Sequence[str] | None = None) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Cyrillic correctly), RFC 4180 quoting, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_csv_cell(h) for h in header])
    if kinds is not None and TEXT not in kinds and DATETIME not in kinds:
        yield buffer.getvalue().encode("utf-8")
        yield from _plain_csv_chunks(rows, len(kinds))
        return
    rows = iter(([_csv_cell(v) for v in row] for row in rows) if kinds is None else _typed_rows(rows, kinds))
    while chunk := list(islice(rows, ROWS_PER_CHUNK)):
        writer.writerows(chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _plain_csv_chunks(rows: Iterable[Sequence[Any]], width: int) -> Iterator[bytes]:
    """Rows that need no conversion, joined directly; the csv module only for rows that need quoting.

    The csv module looks at every character, which for 100,000 rows of Cyrillic text costs more than
    everything else in an export. A row whose joined line has exactly ``width - 1`` commas and no quote or
    line break has no field that needs quoting, so the joined line is already what the csv module would write.
    """
    separators = width - 1
    rows = iter(rows)
    while chunk := list(islice(rows, ROWS_PER_CHUNK)):
        lines = []
        for row in chunk:
            line = ",".join(["" if value is None else str(value) for value in row])
            if line.count(",") != separators or '"' in line or "\n" in line or "\r" in line:
                line = ",".join([_quoted(value) for value in row])
            lines.append(line)
        lines.append("")
        yield "\r\n".join(lines).encode("utf-8")


def _quoted(value: Any) -> str:
    """One CSV field as the csv module writes it (QUOTE_MINIMAL, doubled quotes)."""
    if value is None:
        return ""
    text = str(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _typed_rows(rows: Iterable[Sequence[Any]], kinds: Sequence[str]) -> Iterator[list[Any]]:
    """Rows for the CSV writer: text neutralised (``None`` stays, csv writes it empty), dates as UTC text."""
    texts = [i for i, kind in enumerate(kinds) if kind == TEXT]
    dates = [i for i, kind in enumerate(kinds) if kind == DATETIME]
    triggers = TRIGGER_SET
    for source in rows:
        row = list(source)
        for i in texts:
            value = row[i]
            if value and value[0] in triggers:
                row[i] = "'" + value
        for i in dates:
            value = row[i]
            if value is not None:
                row[i] = utc_text(value)
        yield row


# --- XLSX ----------------------------------------------------------------------------------------------------

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
#: Cell styles: 0 plain, 1 bold (headers), 2 date and time.
_STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    _XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    "<sheetData>"
)
_SHEET_TAIL = "</sheetData></worksheet>"
#: Characters XML 1.0 does not allow at all (dropped); tab, newline and carriage return are allowed.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Text that Excel would read as an escaped character (``_x0041_``): its underscore is escaped itself.
_X_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    """Escape a text cell for an inline string (after neutralisation)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if not value.isprintable():
        value = _ILLEGAL.sub("", value).replace("\r", "&#13;")
    if "_x" in value:
        value = _X_ESCAPE.sub(r"_x005F_\1", value)
    return value


def _serial(value: datetime | date | str) -> float:
    """Excel's serial date (days since 1899-12-30) of a UTC moment; the sheet's headers say UTC."""
    if type(value) is str:
        value = datetime.fromisoformat(value[:19])
    elif isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    else:
        value = datetime(value.year, value.month, value.day)  # type: ignore[union-attr]
    delta = value - _EXCEL_EPOCH  # type: ignore[operator]
    return delta.days + delta.seconds / 86400


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return TEXT
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, datetime | date):
        return DATETIME
    return TEXT


def _number(value: Any) -> str:
    return "" if value is None else f"<v>{value!r}</v>"


def _date_value(value: Any) -> str:
    return "" if value is None else f"<v>{_serial(value)!r}</v>"


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = str(value)
    return _xml_text("'" + text if text[0] in TRIGGER_SET else text)


def _safe_texts() -> Any:
    """Escape already neutralised text, remembering the few distinct values lookup columns hold."""
    cache: dict[str, str] = {}

    def convert(value: Any) -> str:
        if not value:
            return ""
        escaped = cache.get(value)
        if escaped is None:
            escaped = _xml_text(str(value))
            if len(cache) < 10_000:
                cache[value] = escaped
        return escaped

    return convert


def _row_format(kinds: Sequence[str]) -> tuple[str, list[Any]]:
    """A ``str.format`` template for one row (``{0}`` is the row number) and a converter per cell.

    Each cell's XML is fixed by its column's kind, so only its value is formatted per row; an empty value
    leaves an empty cell (``<c r="B7"></c>``), which spreadsheets read as blank.
    """
    parts, converters = ['<row r="{0}">'], []
    for index, kind in enumerate(kinds):
        ref = f"{_column_letters(index)}{{0}}"
        slot = f"{{{index + 1}}}"
        if kind == NUMBER:
            parts.append(f'<c r="{ref}">{slot}</c>')
            converters.append(_number)
        elif kind in (DATETIME, UTC_TEXT):
            parts.append(f'<c r="{ref}" s="2">{slot}</c>')
            converters.append(_date_value)
        else:
            parts.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{slot}</t></is></c>')
            converters.append(_text if kind == TEXT else _safe_texts())
    parts.append("</row>")
    return "".join(parts), converters


def _any_row(number: int, row: Sequence[Any]) -> str:
    """A row whose cells' kinds are not declared: each value's type decides."""
    cells = []
    for index, value in enumerate(row):
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        ref = f"{_column_letters(index)}{number}"
        kind = _kind_of(value)
        if kind == NUMBER:
            cells.append(f'<c r="{ref}">{_number(value)}</c>')
        elif kind == DATETIME:
            cells.append(f'<c r="{ref}" s="2">{_date_value(value)}</c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


class _Sink:
    """A write-only file for :class:`zipfile.ZipFile` that hands over what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet",
                kinds: Sequence[str] | None = None) -> Iterator[bytes]:
    """A one-sheet workbook: bold, frozen header row, then the rows (see the module docstring)."""
    sink = _Sink()
    name = _xml_text(_sheet_title(title)).replace('"', "&quot;")
    workbook = (_XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for part, content in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                              ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                              ("xl/styles.xml", _STYLES)):
            archive.writestr(part, content)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            head, _ = _row_format([TEXT] * len(header))
            cells = head.replace('<c r="', '<c s="1" r="').format(1, *(_text(h) for h in header))
            sheet.write(f"{_SHEET_HEAD}{cells}".encode())
            yield sink.take()
            pending: list[str] = []
            if kinds is None:
                lines = (_any_row(number, row) for number, row in enumerate(rows, start=2))
            else:
                template, converters = _row_format(kinds)
                fill = template.format
                lines = (fill(number, *[convert(value) for convert, value in zip(converters, row, strict=True)])
                         for number, row in enumerate(rows, start=2))
            for number, line in enumerate(lines, start=2):
                pending.append(line)
                if number % ROWS_PER_CHUNK == 0:
                    sheet.write("".join(pending).encode())
                    pending.clear()
                    if sink.size >= CHUNK_BYTES:
                        yield sink.take()
            pending.append(_SHEET_TAIL)
            sheet.write("".join(pending).encode())
    yield sink.take()


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet"
    return cleaned[:31]
