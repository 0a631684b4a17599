"""A long exam outlives the 20-minute idle sign-out: a trainee thinking quietly is not thrown out mid-exam.

Time is moved by editing ``user_sessions.last_seen_at`` and the attempt's times, never by sleeping.
"""

from __future__ import annotations

import time
from datetime import timedelta

import flask_wtf.csrf
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import update

from cbt.auth.models import UserSession
from cbt.db import utcnow
from tests.quiz.conftest import (
    answer_form,
    get_attempt,
    page_of,
    set_attempt,
    set_quiz,
    token_of,
)


def idle_for(db, user_id, minutes):
    db.rollback()
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
    )
    db.commit()


def exam_at_minute(db, kit, trainee, minute, limit=90):
    """Start a ``limit``-minute exam, answer one question, and move its clock to ``minute``.

    Returns the attempt id and the CSRF token of the finish page as loaded at minute 0: the token's own
    timestamp is set ``minute`` minutes back, as if the page had stayed open all that time.
    """
    set_quiz(db, kit.exam_id, time_limit_minutes=limit)
    attempt_id = trainee.start_ok(kit.exam_id)
    attempt = get_attempt(db, attempt_id)
    number, question = page_of(db, attempt, "q-single")
    trainee.save(attempt_id, number, answer_form(question, attempt.layout[str(question.id)]))
    then = int(time.time()) - minute * 60

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return then

    class OldSerializer(URLSafeTimedSerializer):
        default_signer = OldSigner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", OldSerializer)  # only the CSRF token ages
        token = token_of(trainee.finish_page(attempt_id))
    started = utcnow() - timedelta(minutes=minute)
    set_attempt(db, attempt_id, started_at=started, deadline_at=started + timedelta(minutes=limit))
    idle_for(db, trainee.user.id, minute)
    return attempt_id, token


def test_a_90_minute_exam_submitted_at_minute_89_is_accepted(kit, trainee, db, app):
    assert app.config["SESSION_IDLE_MINUTES"] == 20
    attempt_id, token = exam_at_minute(db, kit, trainee, 89)
    response = trainee.submit(attempt_id, token=token)  # the token from the page loaded 89 minutes ago
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/result")
    graded = get_attempt(db, attempt_id)
    assert graded.status == "submitted" and graded.score > 0
    assert f'<p class="big">{round(graded.percent)}%' in trainee.follow(response)


def test_idle_during_the_exam_the_pages_still_open(kit, trainee, db):
    attempt_id, _token = exam_at_minute(db, kit, trainee, 60)
    assert "Question 1 of" in trainee.page(attempt_id, 1)


def test_a_submit_in_the_grace_seconds_after_a_quiet_90_minutes_is_accepted(kit, trainee, db):
    """The deadline passed 10 s ago (grace: 30 s): the idle exemption must still hold for the final submit."""
    attempt_id, token = exam_at_minute(db, kit, trainee, 90)
    deadline = utcnow() - timedelta(seconds=10)
    set_attempt(db, attempt_id, deadline_at=deadline, started_at=deadline - timedelta(minutes=90))
    response = trainee.submit(attempt_id, token=token)
    assert response.headers["Location"].endswith(f"/quiz/attempts/{attempt_id}/result")
    assert get_attempt(db, attempt_id).status == "submitted"


def test_an_hour_old_token_is_refused_where_flask_wtf_s_default_one_hour_limit_applies(kit, trainee, db, app):
    """Guards the test above: the aged token would fail under the default limit, so its age is real."""
    attempt_id, token = exam_at_minute(db, kit, trainee, 89)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    assert trainee.submit(attempt_id, token=token).status_code == 400
    assert get_attempt(db, attempt_id).status == "in_progress"


def test_without_a_running_attempt_the_idle_sign_out_applies(kit, trainee, db):
    """Guards the tests above: the same 89 quiet minutes end a session that has no exam running."""
    attempt_id, token = exam_at_minute(db, kit, trainee, 89)
    assert trainee.submit(attempt_id, token=token).status_code == 302
    idle_for(db, trainee.user.id, 89)
    response = trainee.client.get(f"/quiz/{kit.exam_id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
