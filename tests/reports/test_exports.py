"""Exports: CSV and XLSX that spreadsheets cannot be tricked by, with translated headers, filters and audit."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from cbt.reports.tabular import csv_chunks, neutralize, xlsx_chunks
from tests.conftest import csrf_token
from tests.reports.world import build

#: (full name, service number): names are stripped by the account code, service numbers are kept as typed.
PAYLOADS = [
    ('=HYPERLINK("http://x","a")', "=1+1"),
    ("+cmd|' /C calc'!A0", "+7"),
    ("-2+3", "-1"),
    ("@SUM(A1)", "@A1"),
    ("Tab Person", "\t=1+1"),
    ("Return Person", "\r=1+1"),
    (" =1+1", " =2"),
    ('"quoted, comma"', "a,b"),
    ("Line one\nLine two", "L-1"),
    ("Әсел Қайратқызы Ұлықбекова", "ҚР-1"),
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")


def test_neutralize_prefixes_every_trigger_and_nothing_else():
    for value in ("=1", "+1", "-1", "@x", "\t=1", "\r=1", "\0=1"):
        assert neutralize(value) == "'" + value
    for value in ("", " =1", "Abc", "'=1", "1-2", "Қ="):
        assert neutralize(value) == value


def test_writers_keep_numbers_numeric_and_neutralize_text():
    rows = [["=1+1", -5, 2.5, None, "\0=1"]]
    text = b"".join(csv_chunks(["h1", "h2", "h3", "h4", "h5"], rows)).decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:])))[1] == ["'=1+1", "-5", "2.5", "", "'\x00=1"]
    workbook = load_workbook(io.BytesIO(b"".join(xlsx_chunks(["h1", "h2", "h3", "h4", "h5"], rows))))
    values = [c.value for c in next(workbook.active.iter_rows(min_row=2))]
    assert values == ["'=1+1", -5, 2.5, None, "'=1"]  # NUL is not allowed in XLSX and is dropped


@pytest.fixture
def hostile(app, tmp_path, create_user):
    """The report world plus trainees whose names and numbers are spreadsheet payloads, enrolled in a course."""
    world = build(app, tmp_path, create_user)
    from sqlalchemy import select

    from cbt.courses.models import CourseVersion
    from cbt.db import session, writing
    from cbt.learn.models import Enrollment

    users = [create_user("trainee", username=f"evil{n}", full_name=name, service_number=number,
                         site_id=world.s1, agency_id=world.a1).id
             for n, (name, number) in enumerate(PAYLOADS)]
    with app.app_context(), writing():
        version = session.scalar(select(CourseVersion).where(CourseVersion.course_id == world.c2))
        for user_id in users:
            session.add(Enrollment(user_id=user_id, course_id=world.c2, course_version_id=version.id))
        session.commit()
    return world


def test_csv_export_neutralizes_formulas_and_round_trips_cyrillic(client, auth, hostile):
    auth.login_as("admin")
    response = client.get(f"/reports/export/completions.csv?course={hostile.c2}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))
    header, data = rows[0], rows[1:]
    name_col, number_col = header.index("Full name"), header.index("Service number")
    assert "Cohort" in header and "Country" in header and "Agency" in header and "Site" in header
    by_user = {r[0]: r for r in data}
    for n, (name, number) in enumerate(PAYLOADS):
        row = by_user[f"evil{n}"]
        stored_name = name.strip()
        for cell, original in ((row[name_col], stored_name), (row[number_col], number)):
            if original.startswith(TRIGGERS):
                assert cell == "'" + original
            else:
                assert cell == original
    assert by_user["evil9"][name_col] == "Әсел Қайратқызы Ұлықбекова"
    for row in data:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell


def test_xlsx_export_has_no_formulas_and_numbers_stay_numbers(client, auth, hostile):
    auth.login_as("admin")
    response = client.get("/reports/export/completions.xlsx")
    assert response.status_code == 200
    data = response.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    for row in rows[1:]:
        for value in row:
            if isinstance(value, str):
                assert not value.startswith(TRIGGERS), value
    by_user = {r[0]: r for r in rows[1:]}
    assert by_user["evil0"][header.index("Full name")] == "'=HYPERLINK(\"http://x\",\"a\")"
    assert by_user["evil2"][header.index("Service number")] == "'-1"
    u1 = by_user["u1"]
    assert u1[header.index("Best exam score (%)")] == 80.0
    assert u1[header.index("Time spent (minutes)")] == 10
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


def test_attempts_export_carries_organisation_and_filters(client, auth, hostile):
    auth.login_as("admin")
    text = client.get(f"/reports/export/attempts.csv?site={hostile.s1}&date_from=2026-02-01").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert [r[0] for r in data] == ["u1", "u2"]  # February attempts at Kordai only
    u1 = dict(zip(header, data[0], strict=True))
    assert u1["Service number"] == "KZ-1" and u1["Agency code"] == "kz-customs" and u1["Site code"] == "kordai"
    assert u1["Country"] == "Kazakhstan" and u1["Cohort"] == "Customs refresher; Kordai spring"
    assert u1["Score (%)"] == "80.0" and u1["Passed"] == "yes" and u1["Kind"] == "Final exam"
    assert u1["Started (UTC)"] == "2026-02-03 09:00:00"


def test_headers_are_translated(client, auth, hostile):
    auth.login_as("admin")
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "ru", "next": "/"})
    text = client.get("/reports/export/completions.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[:3] == ["Имя пользователя", "Полное имя", "Служебный номер"]
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "kk", "next": "/"})
    text = client.get("/reports/export/summary.csv?group=site").get_data(as_text=True)
    assert text.lstrip("\ufeff").startswith("Алаң,")


def test_every_export_is_audited(app, client, auth, hostile, db):
    from sqlalchemy import select

    from cbt.audit.models import AuditEvent

    admin = auth.login_as("admin")
    for kind in ("summary", "completions", "attempts"):
        for fmt in ("csv", "xlsx"):
            assert client.get(f"/reports/export/{kind}.{fmt}?site={hostile.s1}").status_code == 200
    assert client.get("/reports/export/passwords.csv").status_code == 404
    assert client.get("/reports/export/attempts.pdf").status_code == 404
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert len(events) == 6
    assert all(e.actor_id == admin.id for e in events)
    assert {(e.target, e.details["format"]) for e in events} == {
        (f"report:{k}", f) for k in ("summary", "completions", "attempts") for f in ("csv", "xlsx")}
    assert events[0].details["filters"]["site"] == str(hostile.s1)


def test_export_file_names_are_plain(client, auth, hostile):
    auth.login_as("admin")
    disposition = client.get("/reports/export/summary.xlsx").headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="cbt-summary-\d{8}-\d{4}\.xlsx"; filename\*=UTF-8\'\'cbt-summary-'
                        r"\d{8}-\d{4}\.xlsx", disposition)


def test_attempts_export_neutralizes_and_quotes_what_trainees_typed(app, client, auth, hostile):
    """The attempts table takes the fast CSV path (no csv module per row): same neutralisation and quoting."""
    from sqlalchemy import select

    from cbt.auth.models import User
    from cbt.courses.models import Quiz
    from cbt.db import session, writing
    from cbt.quiz.models import Attempt
    from tests.reports.world import at

    with app.app_context(), writing():
        quiz = session.scalars(select(Quiz).where(Quiz.module_id.is_(None))).first()
        evil = session.execute(select(User.id, User.username).where(User.username.like("evil%"))).all()
        for user_id, _name in evil:
            session.add(Attempt(user_id=user_id, quiz_id=quiz.id, course_version_id=quiz.course_version_id,
                                number=1, status="submitted", started_at=at("2026-04-01 10:00"),
                                submitted_at=at("2026-04-01 10:20"), score=5.0, max_score=10.0, percent=50.0,
                                passed=False))
        session.commit()
    auth.login_as("admin")
    body = client.get("/reports/export/attempts.csv?date_from=2026-04-01").get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))
    header, data = rows[0], rows[1:]
    assert len(data) == len(PAYLOADS) and all(len(r) == len(header) for r in data)
    by_user = {r[0]: dict(zip(header, r, strict=True)) for r in data}
    for n, (name, number) in enumerate(PAYLOADS):
        row = by_user[f"evil{n}"]
        for cell, original in ((row["Full name"], name.strip()), (row["Service number"], number)):
            assert cell == ("'" + original if original.startswith(TRIGGERS) else original)
        assert row["Score (%)"] == "50.0" and row["Started (UTC)"] == "2026-04-01 10:00:00"
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", row["Attempt ID"])
    assert by_user["evil7"]["Full name"] == '"quoted, comma"'
    assert by_user["evil8"]["Full name"] == "Line one\nLine two"
    for row in data:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell
    sheet = load_workbook(io.BytesIO(client.get("/reports/export/attempts.xlsx?date_from=2026-04-01").get_data()))
    values = list(sheet.active.iter_rows(values_only=True))
    names = {r[0]: r[1] for r in values[1:]}
    assert names["evil0"] == "'=HYPERLINK(\"http://x\",\"a\")" and names["evil8"] == "Line one\nLine two"
    started = values[1][values[0].index("Started (UTC)")]
    assert started.isoformat() == "2026-04-01T10:00:00"
