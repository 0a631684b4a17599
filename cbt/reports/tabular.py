"""CSV and XLSX writers that stream and that a spreadsheet cannot be tricked by. PURE: no Flask.

Formula injection: a trainee named ``=HYPERLINK(...)`` must not become a live formula on the administrator's
workstation. Every *text* cell starting with ``= + - @``, a tab, a carriage return or NUL gets a leading
single quote, in CSV and XLSX alike (openpyxl would otherwise store ``=...`` as a formula). Numbers and
dates are written as such, so sums and charts still work on them.

Both writers yield ``bytes`` chunks: CSV as rows come in; XLSX is built in openpyxl's write-only mode in a
temporary file (a zip can only be finished at the end) and then streamed from disk, so memory stays bounded
either way.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
BOM = "\ufeff"
ROWS_PER_CHUNK = 500
FILE_CHUNK = 64 * 1024


def neutralize(value: str) -> str:
    """Make a text cell inert in spreadsheets (ASVS 5.0 1.2.10)."""
    return "'" + value if value.startswith(TRIGGERS) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return value
    return neutralize(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Cyrillic correctly), RFC 4180 quoting, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_csv_cell(h) for h in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        # Excel has no time zones: the sheet says UTC in its headers.
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", neutralize(str(value)))


def xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet") -> Iterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    bold = Font(bold=True)
    header_cells = []
    for h in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_cell(h))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_cell(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never "f", whatever the text looks like
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        sheet.append(cells)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(FILE_CHUNK):
            yield chunk


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet"
    return cleaned[:31]
