"""``cbt export``: the same tables from the command line, with filters, to a file; audited."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from cbt.audit.models import AuditEvent
from tests.reports.world import build


def test_export_completions_and_attempts_with_filters(app, runner, tmp_path, create_user, db):
    build(app, tmp_path, create_user)
    out = tmp_path / "completions.csv"
    result = runner.invoke(args=["export", "completions", "--format", "csv", "--from", "2026-02-01", "--to",
                                 "2026-02-28", "--site", "kordai", "--course", "exam-course", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Username", "Full name", "Service number"]
    assert sorted(r[0] for r in rows[1:]) == ["u1", "u2"]  # u1 completed, u2 enrolled in February
    xlsx = tmp_path / "attempts.xlsx"
    result = runner.invoke(args=["export", "attempts", "--format", "xlsx", "--course", "exam-course",
                                 "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx).active
    assert sheet.max_row == 1 + 5  # header + u1's practice and two exams, u2's exam, u5's exam
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert [e.details["via"] for e in event] == ["cli", "cli"]


def test_export_refuses_unknown_filters(app, runner, tmp_path):
    out = str(tmp_path / "x.csv")
    result = runner.invoke(args=["export", "completions", "--site", "nowhere", "--out", out])
    assert result.exit_code != 0 and "Unknown site nowhere" in result.output
    result = runner.invoke(args=["export", "attempts", "--course", "nothing", "--out", out])
    assert result.exit_code != 0 and "Unknown course nothing" in result.output
    result = runner.invoke(args=["export", "attempts", "--from", "2026-13-01", "--out", out])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    result = runner.invoke(args=["export", "attempts", "--from", "2026-03-01", "--to", "2026-02-01", "--out", out])
    assert result.exit_code != 0
    result = runner.invoke(args=["export", "grades", "--out", out])
    assert result.exit_code != 0


def test_export_by_cohort_number_uuid_or_name(app, runner, tmp_path, create_user, db):
    from cbt.cohorts.models import Cohort

    world = build(app, tmp_path, create_user)
    out = tmp_path / "cohort.csv"
    spring = db.get(Cohort, world.cohorts["Kordai spring"])
    for reference in ("Kordai spring", str(spring.id), str(spring.uuid)):
        result = runner.invoke(args=["export", "completions", "--cohort", reference, "--out", str(out)])
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
        cohort = rows[0].index("Cohort")
        assert [(r[0], r[cohort]) for r in rows[1:]] == [("u1", "Customs refresher; Kordai spring"),
                                                          ("u2", "Kordai spring")]
    result = runner.invoke(args=["export", "attempts", "--cohort", "Ak-Zhol basics", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1  # u4's course has no quiz attempts
    result = runner.invoke(args=["export", "attempts", "--cohort", "Nobody", "--out", str(out)])
    assert result.exit_code != 0 and "Unknown cohort Nobody" in result.output
    db.rollback()  # end the snapshot taken before the exports ran
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()[0]
    assert event.details["filters"]["cohort"] == spring.id
