"""Question statistics: the pure item analysis, the page and the CSV export against hand-computed numbers."""

from __future__ import annotations

import csv
import io
import re
import textwrap

import pytest

from cbt.cohorts import stats
from cbt.cohorts.stats import AttemptRecord, ItemResult, QuestionInfo
from tests.cohorts.kit import add_attempt, make_cohort, questions_by_slug
from tests.pages import TINY_COURSE, import_course, write_course

# --- pure ----------------------------------------------------------------------------------------------

SINGLE = QuestionInfo("q1", "single", ("a", "b", "c"), frozenset({"b"}))
TRUE_FALSE = QuestionInfo("q2", "true_false", ("true", "false"), frozenset({"true"}))


def record(attempt_id: int, percent: float, **items: tuple[float, tuple[str, ...]] | None) -> AttemptRecord:
    """``q1=(fraction, choices)``; ``q1=None`` means shown but unanswered."""
    return AttemptRecord(attempt_id, percent, {
        slug: ItemResult(0.0, False) if value is None else ItemResult(value[0], True, value[1])
        for slug, value in items.items()})


#: Ten attempts; the table in the test below says what each answered.
TEN = [
    record(1, 100, q1=(1, ("b",)), q2=(1, ("true",))),
    record(2, 90, q1=(1, ("b",)), q2=(1, ("true",))),
    record(3, 80, q1=(1, ("b",)), q2=(0, ("false",))),
    record(4, 70, q1=(0, ("a",)), q2=(1, ("true",))),
    record(5, 60, q1=(1, ("b",)), q2=None),
    record(6, 50, q1=(0, ("a",)), q2=(1, ("true",))),
    record(7, 40, q1=(0, ("a",)), q2=(0, ("false",))),
    record(8, 30, q1=(1, ("b",)), q2=(0, ("false",))),
    record(9, 20, q1=None, q2=(1, ("true",))),
    record(10, 10, q1=(0, ("a",)), q2=(0, ("false",))),
]


def test_facility_discrimination_and_options_by_hand():
    """Hand computation: 10 attempts, groups of round(0.27 x 10) = 3: upper = #1-3, lower = #8-10.

    q1: facility = (1+1+1+0+1+0+0+1+0+0)/10 = 0.5; upper mean 3/3 = 1, lower mean (1+0+0)/3 -> D = 2/3.
        a chosen in #4, 6, 7, 10 = 0.4; b in #1, 2, 3, 5, 8 = 0.5; c never; #9 no answer = 0.1.
    q2: facility = (1+1+0+1+0+1+0+0+1+0)/10 = 0.5; upper (1+1+0)/3 = 2/3, lower (0+1+0)/3 = 1/3 -> D = 1/3.
    """
    q1, q2 = stats.question_statistics([SINGLE, TRUE_FALSE], TEN)
    assert (q1.attempts, q1.answered, q1.facility) == (10, 9, pytest.approx(0.5))
    assert q1.discrimination == pytest.approx(2 / 3)
    assert [(o.option, o.count, o.share, o.correct) for o in q1.options] == [
        ("a", 4, pytest.approx(0.4), False), ("b", 5, pytest.approx(0.5), True), ("c", 0, 0.0, False)]
    assert q1.unanswered_share == pytest.approx(0.1)
    assert (q2.facility, q2.discrimination) == (pytest.approx(0.5), pytest.approx(1 / 3))
    assert [(o.option, o.count) for o in q2.options] == [("true", 5), ("false", 4)]
    assert q1.flags == q2.flags == ()


def test_flags():
    """Three attempts: groups of one (#1 upper, #3 lower)."""
    attempts = [record(1, 90, q1=(1, ("b",)), q2=(1, ("true",))), record(2, 80, q1=(1, ("b",)), q2=(0, ("false",))),
                record(3, 70, q1=(1, ("b",)), q2=(0, ("false",)))]
    q1, q2 = stats.question_statistics([SINGLE, TRUE_FALSE], attempts)
    # q1: everybody right -> facility 1 > 0.95 and discrimination 1 - 1 = 0 < 0.1.
    assert q1.flags == (stats.TOO_EASY, stats.LOW_DISCRIMINATION)
    # q2: facility 1/3; discrimination 1 - 0 = 1: no flag.
    assert (q2.facility, q2.discrimination, q2.flags) == (pytest.approx(1 / 3), 1.0, ())
    hard = stats.question_statistics([SINGLE], [record(1, 10, q1=(0, ("a",))), record(2, 5, q1=(0.1, ("b",)))])[0]
    assert hard.facility == pytest.approx(0.05) and stats.TOO_HARD in hard.flags
    # A question the weaker trainees get right more often discriminates negatively.
    negative = stats.question_statistics([SINGLE], [record(1, 90, q1=(0, ("a",))), record(2, 10, q1=(1, ("b",)))])[0]
    assert negative.discrimination == -1.0 and stats.LOW_DISCRIMINATION in negative.flags


@pytest.mark.parametrize(("count", "size"), [(0, 0), (1, 0), (2, 1), (3, 1), (5, 1), (6, 2), (10, 3), (100, 27)])
def test_group_size(count, size):
    assert stats.group_size(count) == size


def test_ties_never_put_an_attempt_in_both_groups():
    attempts = [record(n, 50, q1=(n % 2, ("b",) if n % 2 else ("a",))) for n in range(1, 5)]
    upper, lower = stats.upper_lower(attempts)
    assert [a.attempt_id for a in upper] == [1] and [a.attempt_id for a in lower] == [4]


def test_too_few_attempts_or_a_question_missing_from_a_group_gives_no_discrimination():
    assert stats.question_statistics([SINGLE], [record(1, 50, q1=(1, ("b",)))])[0].discrimination is None
    # q2 drawn only in the middle attempt of three: in neither group.
    attempts = [record(1, 90, q1=(1, ("b",))), record(2, 50, q1=(1, ("b",)), q2=(1, ("true",))),
                record(3, 10, q1=(0, ("a",)))]
    q1, q2 = stats.question_statistics([SINGLE, TRUE_FALSE], attempts)
    assert q1.discrimination == 1.0 and (q2.attempts, q2.facility, q2.discrimination) == (1, 1.0, None)
    assert stats.question_statistics([SINGLE], [])[0].facility is None


def test_multiple_choice_shares_can_add_up_to_more_than_one_and_other_types_have_none():
    multiple = QuestionInfo("m", "multiple", ("a", "b", "c"), frozenset({"a", "b"}))
    result = stats.question_statistics([multiple], [
        record(1, 80, m=(1, ("a", "b"))), record(2, 40, m=(0, ("a", "c")))])[0]
    assert [(o.option, o.share) for o in result.options] == [("a", 1.0), ("b", 0.5), ("c", 0.5)]
    numeric = stats.question_statistics([QuestionInfo("n", "numeric")], [record(1, 80, n=(1, ()))])[0]
    assert numeric.options == () and numeric.unanswered_share is None


@pytest.mark.parametrize(("qtype", "answer", "choices"), [
    ("single", {"choice": "b"}, ("b",)),
    ("multiple", {"choices": ["a", "c"]}, ("a", "c")),
    ("true_false", {"value": False}, ("false",)),
    ("true_false", {"value": True}, ("true",)),
    ("single", None, ()),
    ("numeric", {"value": 3}, ()),
])
def test_choices_of_stored_answers(qtype, answer, choices):
    assert stats.choices_of(qtype, answer) == choices


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
    (-0.25, "-0.25"), (3, "3"), (None, ""), (True, "true"),
])
def test_csv_cells_cannot_be_formulas(value, cell):
    assert stats.csv_cell(value) == cell


def test_csv_has_a_bom_and_survives_a_round_trip():
    data = stats.to_csv([["Сұрақ", "=x"], ["a,b", 'say "hi"']])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Сұрақ", "'=x"], ["a,b", 'say "hi"']]


# --- the page and the export ---------------------------------------------------------------------------

#: (percent, q1 choice or None, q2 value or None): the same ten attempts as TEN, in the learn kit's course.
PLAN = [(100, "b", True), (90, "b", True), (80, "b", False), (70, "a", True), (60, "b", None),
        (50, "a", True), (40, "a", False), (30, "b", False), (20, None, True), (10, "a", False)]


@pytest.fixture
def analysed(app, db, create_user, course):
    """The ten attempts of PLAN on module 1's practice quiz (questions m1-single, key b; m1-tf, key true).

    Plus what must not count: an attempt still running and an attempt at another quiz.
    """
    questions = questions_by_slug(db, course.version_id)
    single, tf = questions["m1-single"], questions["m1-tf"]
    quiz = course.quizzes[0]
    users = []
    for n, (percent, choice, value) in enumerate(PLAN, start=1):
        user = create_user("trainee", username=f"t{n:02d}")
        users.append(user.id)
        answers = {}
        if choice is not None:
            answers[single] = ({"choice": choice}, 1.0 if choice == "b" else 0.0)
        if value is not None:
            answers[tf] = ({"value": value}, 1.0 if value else 0.0)
        add_attempt(db, user_id=user.id, quiz_id=quiz, version_id=course.version_id, percent=percent,
                    answers=answers, shown=[single, tf])
    add_attempt(db, user_id=users[-1], quiz_id=quiz, version_id=course.version_id, percent=0.0, number=2,
                status="in_progress", answers={single: ({"choice": "a"}, 0.0), tf: ({"value": False}, 0.0)})
    add_attempt(db, user_id=users[0], quiz_id=course.quizzes[1], version_id=course.version_id, percent=0.0,
                answers={questions["m2-single"]: ({"choice": "a"}, 0.0)})
    return {"quiz": quiz, "users": users, "course": course}


def rows_of(page: str) -> dict[str, str]:
    """Visible text of each statistics row, by question slug."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        slug = re.search(r'class="slug">([^<]+)<', row).group(1)
        rows[slug] = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    return rows


def test_the_page_shows_the_hand_computed_numbers(client, auth, analysed):
    auth.login_as("admin")
    page = client.get(f"/cohorts/statistics/quizzes/{analysed['quiz']}").get_data(as_text=True)
    assert "10 finished attempts" in page and "Average result: 55%" in page
    rows = rows_of(page)
    assert list(rows) == ["m1-single", "m1-tf"]
    single, tf = rows["m1-single"], rows["m1-tf"]
    assert "10 9 answered 0.50 0.50 0.67 0.67" in single  # attempts, answered, facility, discrimination
    assert "Wrong answer 40% 40% ✓ Correct answer: Right answer 50% 50% No answer 10% 10%" in single
    assert "10 9 answered 0.50 0.50 0.33 0.33" in tf
    assert "✓ Correct answer: True 50% 50% False 40% 40% No answer 10% 10%" in tf
    assert '<meter min="0" max="1"' in page and "style=" not in page.split("<main", 1)[1]


def test_a_cohort_filter_counts_only_its_members(client, auth, db, analysed):
    """Members t01-t03 (the upper group of all ten): 3 attempts, groups of one (#1 upper, #3 lower).

    m1-single: all right -> facility 1.00 (very easy), discrimination 1 - 1 = 0 (does not discriminate).
    m1-tf: right, right, wrong -> facility 0.67, discrimination 1 - 0 = 1.
    """
    trainer = auth.login_as("trainer")
    cohort_id = make_cohort(db, trainer.id, members=analysed["users"][:3])
    page = client.get(f"/cohorts/statistics/quizzes/{analysed['quiz']}?cohort={cohort_id}").get_data(as_text=True)
    assert "3 finished attempts" in page
    rows = rows_of(page)
    assert "3 3 answered 1.00 1.00 0.00 0.00" in rows["m1-single"]
    assert "Very easy" in rows["m1-single"] and "Does not discriminate" in rows["m1-single"]
    assert "3 3 answered 0.67 0.67 1.00 1.00" in rows["m1-tf"] and "Very" not in rows["m1-tf"]
    index = client.get(f"/cohorts/statistics?cohort={cohort_id}").get_data(as_text=True)
    assert f"/cohorts/statistics/quizzes/{analysed['quiz']}?cohort={cohort_id}" in index


def test_first_attempts_only(client, auth, db, analysed):
    course = analysed["course"]
    questions = questions_by_slug(db, course.version_id)
    add_attempt(db, user_id=analysed["users"][0], quiz_id=analysed["quiz"], version_id=course.version_id,
                percent=0.0, number=2, answers={questions["m1-single"]: ({"choice": "a"}, 0.0)},
                shown=[questions["m1-single"], questions["m1-tf"]])
    auth.login_as("admin")
    url = f"/cohorts/statistics/quizzes/{analysed['quiz']}"
    assert "11 finished attempts" in client.get(url).get_data(as_text=True)
    assert "10 finished attempts" in client.get(url + "?first=1").get_data(as_text=True)


def test_csv_export_matches_the_page(client, auth, analysed):
    auth.login_as("admin")
    response = client.get(f"/cohorts/statistics/quizzes/{analysed['quiz']}/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:7] == ["Question", "Type", "Prompt", "Attempts", "Answered", "Facility index",
                           "Discrimination index"]
    single = dict(zip(rows[0], rows[1], strict=True))
    assert (single["Question"], single["Attempts"], single["Answered"]) == ("m1-single", "10", "9")
    assert float(single["Facility index"]) == 0.5 and float(single["Discrimination index"]) == pytest.approx(0.667)
    assert single["No answer"] == "0.1"
    assert single["Options"] == "Wrong answer: 40% | ✓ Right answer: 50%"
    tf = dict(zip(rows[0], rows[2], strict=True))
    assert float(tf["Discrimination index"]) == pytest.approx(0.333) and tf["Options"] == "✓ True: 50% | False: 40%"


def test_csv_export_is_translated(client, auth, analysed):
    auth.login_as("admin")
    client.post("/language", data={"csrf_token": _token(client), "locale": "kk", "next": "/"})
    text = client.get(f"/cohorts/statistics/quizzes/{analysed['quiz']}/export.csv").get_data().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "Question" not in header and "Сұрақ" in header


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


HOSTILE_QUESTIONS = """
    - id: evil-q
      type: single
      prompt: {en: "=HYPERLINK(\\"http://evil.example\\",\\"click\\")", ru: "=1+1", kk: "=1+1"}
      options:
        - {id: a, text: {en: "@SUM(A1:A9)", ru: "@x", kk: "@x"}}
        - {id: b, text: {en: "+cmd|' /C calc'!A0", ru: "+x", kk: "+x"}}
        - {id: c, text: {en: "-2+3", ru: "-x", kk: "-x"}}
      answer: b
"""


def test_csv_export_neutralises_formulas_in_course_content(app, client, auth, db, create_user, tmp_path):
    """An author's text starting with = + - @ cannot run as a formula in the trainer's spreadsheet."""
    from sqlalchemy import select

    from cbt.courses.models import Quiz

    files = dict(TINY_COURSE, **{"01-intro/questions.yaml": textwrap.dedent(HOSTILE_QUESTIONS)})
    version_id = import_course(app, write_course(tmp_path, files, "hostile"))
    db.rollback()
    quiz_id = db.scalar(select(Quiz.id).where(Quiz.course_version_id == version_id))
    db.commit()
    question = questions_by_slug(db, version_id)["evil-q"]
    trainee = create_user("trainee")
    add_attempt(db, user_id=trainee.id, quiz_id=quiz_id, version_id=version_id, percent=0.0,
                answers={question: ({"choice": "a"}, 0.0)})
    auth.login_as("admin")
    text = client.get(f"/cohorts/statistics/quizzes/{quiz_id}/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Prompt"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    # The options cell starts with an option text, so it is neutralised as a whole.
    assert row["Options"].startswith("'@SUM(A1:A9): 100%")
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
