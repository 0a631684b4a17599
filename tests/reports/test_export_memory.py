"""An export of 100,000 attempts streams in bounded memory (rows are never all held at once)."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.pages import import_course, write_course

ROWS = 100_000
#: The XLSX writer is slower (about 15,000 rows a second); 20,000 rows still show memory does not grow with rows.
XLSX_ROWS = 20_000
#: Peak Python allocations while streaming; holding the rows or the file would take several times this.
LIMIT_BYTES = 50 * 1024 * 1024


def insert_attempts(app, tmp_path, create_user, rows: int) -> list[int]:
    """``rows`` submitted attempts of ten trainees, written with bulk inserts."""
    from sqlalchemy import insert, select

    from cbt.courses.models import Quiz
    from cbt.db import session, writing
    from cbt.org.models import Country, Site
    from cbt.quiz.models import Attempt

    version_id = import_course(app, write_course(tmp_path))
    with app.app_context(), writing():
        country = Country(code="KZ", names={"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
        session.add(country)
        session.flush()
        site = Site(code="kordai", kind="bcp", country_id=country.id, names={"en": "Kordai BCP"})
        session.add(site)
        session.commit()
        site_id = site.id
    users = [create_user("trainee", username=f"bulk{n}", service_number=f"KZ-{n:05d}", site_id=site_id).id
             for n in range(10)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context(), writing():
        quiz_id = session.scalar(select(Quiz.id).where(Quiz.course_version_id == version_id))
        per_user = rows // len(users)
        for user_id in users:
            batch = []
            for number in range(1, per_user + 1):
                began = start + timedelta(minutes=number)
                batch.append({
                    "uuid": uuid.uuid4(), "user_id": user_id, "quiz_id": quiz_id, "course_version_id": version_id,
                    "number": number, "status": "submitted", "started_at": began,
                    "submitted_at": began + timedelta(minutes=5), "question_ids": [1], "layout": {}, "seq": 1,
                    "score": 1.0, "max_score": 1.0, "percent": 100.0, "passed": True, "site_id": site_id,
                })
            session.execute(insert(Attempt), batch)
        session.commit()
    return users


@pytest.mark.parametrize(("fmt", "rows"), [("csv", ROWS), ("xlsx", XLSX_ROWS)])
def test_export_of_many_attempts_stays_in_bounded_memory(app, client, auth, tmp_path, create_user, fmt, rows):
    insert_attempts(app, tmp_path, create_user, rows)
    auth.login_as("admin")
    tracemalloc.start()
    try:
        began = time.monotonic()
        response = client.get(f"/reports/export/attempts.{fmt}", buffered=False)
        assert response.status_code == 200
        size = lines = 0
        tail = b""
        for chunk in response.response:
            size += len(chunk)
            if fmt == "csv":
                lines += chunk.count(b"\r\n")
                tail = (tail + chunk)[-1000:]
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - began
    assert peak < LIMIT_BYTES, f"peak {peak / 2**20:.1f} MiB"
    if fmt == "csv":
        assert lines == rows + 1  # header + every attempt
        assert tail.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1].startswith(b"bulk9,")
        assert size > rows * 100  # the file itself is far larger than the memory bound allows to hold twice
    else:
        assert size > 200_000
    assert elapsed < 300
