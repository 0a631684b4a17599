"""Reading and checking a user-import file (CSV or XLSX). PURE: no Flask, no database.

The file is read whole (it is small: the upload limit and :data:`MAX_ROWS` bound it), decoded, split into
rows and checked against the organisation codes the caller passes in. Problems are codes with parameters,
not sentences: the web page words them in the reader's language. Row numbers are the spreadsheet's line
numbers (the header is line 1), so an administrator can find the row in the file they uploaded.

Encodings: UTF-8 with or without a byte-order mark, and Windows-1251 (what Excel saves as "CSV" on a
Russian-language Windows). Bytes that are not valid UTF-8 are taken as Windows-1251; Cyrillic text in
Windows-1251 is practically never valid UTF-8, so the guess is safe.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("username", "full_name", "service_number", "role", "agency", "site", "locale")
REQUIRED_COLUMNS = ("username", "full_name", "role")
ROLES = ("trainee", "trainer", "admin")
MAX_ROWS = 5000
MAX_LENGTHS = {"username": 80, "full_name": 200, "service_number": 40}
#: An XLSX is a zip: refuse one that would unpack to more than this (a zip bomb), before openpyxl opens it.
MAX_XLSX_UNPACKED = 50 * 1024 * 1024
#: Largest upload read (a few thousand rows are far below this).
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """``line`` 0 means the whole file; ``field`` is a column name or empty."""

    line: int
    field: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "params": dict(self.params)}


@dataclass
class Parsed:
    columns: list[str]
    rows: list[dict[str, Any]]
    problems: list[Problem]


class FileProblem(ValueError):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.problem = Problem(0, "", code, params)


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def is_xlsx(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a service number typed as a number in a spreadsheet
    text = unicodedata.normalize("NFC", str(value)).strip()
    return "".join(ch for ch in text if ch.isprintable())


def _table_from_csv(text: str) -> list[list[str]]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _table_from_xlsx(data: bytes) -> list[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise FileProblem("too_large")
    except zipfile.BadZipFile as error:
        raise FileProblem("unreadable") from error
    from openpyxl import load_workbook

    # openpyxl parses with defusedxml when it is installed (it is a dependency): entity tricks fail here.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        finally:
            workbook.close()
    except Exception as error:  # noqa: BLE001 - any parser failure is "not a workbook we can read"
        raise FileProblem("unreadable") from error


def parse(data: bytes) -> Parsed:
    """Split the file into header and rows; file-level problems raise :class:`FileProblem`."""
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem("file_too_large", megabytes=round(MAX_FILE_BYTES / (1024 * 1024), 1))
    if not data.strip():
        raise FileProblem("empty")
    table = _table_from_xlsx(data) if is_xlsx(data) else _table_from_csv(decode(data))
    if not table or not any(_clean(v) for v in table[0]):
        raise FileProblem("empty")
    header = [_clean(v).lower().replace(" ", "_").replace("-", "_") for v in table[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FileProblem("missing_columns", columns=", ".join(missing))
    duplicated = sorted({c for c in header if c and header.count(c) > 1})
    if duplicated:
        raise FileProblem("duplicate_columns", columns=", ".join(duplicated))
    columns = [c for c in header if c in COLUMNS]
    problems = []
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown:
        problems.append(Problem(0, "", "unknown_columns", {"columns": ", ".join(unknown)}))
    rows = []
    for line, raw in enumerate(table[1:], start=2):
        values = {name: _clean(raw[i]) if i < len(raw) else "" for i, name in enumerate(header) if name in COLUMNS}
        if not any(values.values()):
            continue
        rows.append({"line": line, "values": values})
    if not rows:
        raise FileProblem("no_rows")
    if len(rows) > MAX_ROWS:
        raise FileProblem("too_many_rows", limit=MAX_ROWS)
    return Parsed(columns, rows, problems)


@dataclass(frozen=True)
class Known:
    """What a row may refer to; codes compared case-insensitively."""

    agencies: Collection[str]
    sites: Collection[str]
    locales: Collection[str]


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check(rows: list[dict[str, Any]], known: Known) -> list[Problem]:
    """Every problem of every row; an empty list means the rows can all be imported."""
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    agencies = {a.lower() for a in known.agencies}
    sites = {s.lower() for s in known.sites}
    for row in rows:
        line, values = row["line"], row["values"]
        username = normalize_username(values.get("username", ""))
        if not username:
            problems.append(Problem(line, "username", "required"))
        elif any(ch.isspace() for ch in username):
            problems.append(Problem(line, "username", "spaces"))
        elif username in first_line:
            problems.append(Problem(line, "username", "duplicate", {"other": first_line[username]}))
        else:
            first_line[username] = line
        if not values.get("full_name"):
            problems.append(Problem(line, "full_name", "required"))
        for name, limit in MAX_LENGTHS.items():
            if len(values.get(name, "")) > limit:
                problems.append(Problem(line, name, "too_long", {"limit": limit}))
        role = values.get("role", "").lower()
        if not role:
            problems.append(Problem(line, "role", "required"))
        elif role not in ROLES:
            problems.append(Problem(line, "role", "unknown_role",
                                    {"value": values["role"], "choices": ", ".join(ROLES)}))
        agency = values.get("agency", "")
        if agency and agency.lower() not in agencies:
            problems.append(Problem(line, "agency", "unknown_agency", {"value": agency}))
        site = values.get("site", "")
        if site and site.lower() not in sites:
            problems.append(Problem(line, "site", "unknown_site", {"value": site}))
        locale = values.get("locale", "").lower()
        if locale and locale not in known.locales:
            problems.append(Problem(line, "locale", "unknown_locale",
                                    {"value": values["locale"], "choices": ", ".join(known.locales)}))
    return problems
