"""Certificates: one per completion, a PDF in the trainee's language with a QR code, public verification,
revocation by administrators."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from cbt.audit.models import AuditEvent
from cbt.certificates import services
from cbt.certificates.models import Certificate
from cbt.learn.models import CourseCompletion
from tests.conftest import csrf_token
from tests.learn.kit import Trainee, ids_of, import_course, write_course

KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


@pytest.fixture
def completed(app, client, auth, db, tmp_path):
    """A trainee who completed a one-module course with an exam, over HTTP, and its ids."""
    from cbt.db import session, writing
    from cbt.org.models import Country, Site

    with app.app_context(), writing():
        kz = Country(code="KZ", names={"en": "Kazakhstan", "ru": "Казахстан", "kk": "Қазақстан"})
        session.add(kz)
        session.flush()
        site = Site(code="kordai", kind="bcp", country_id=kz.id,
                    names={"en": "Kordai BCP", "ru": "ПП «Кордай»", "kk": "«Қордай» ӨП"})
        session.add(site)
        session.commit()
        site_id = site.id
    version_id, _created = import_course(app, write_course(tmp_path, "cert-course", modules=1, lessons=1))
    user = auth.login_as("trainee", full_name="Әсел Қайратқызы", service_number="KZ-777", site_id=site_id)
    trainee = Trainee(client, db)
    ids = ids_of(db, version_id)
    trainee.complete_lesson("cert-course", ids["lessons"][0])
    for quiz_id in ids["quizzes"]:
        trainee.pass_quiz(quiz_id)
    trainee.pass_quiz(ids["exam"])
    db.rollback()
    completion = db.scalar(select(CourseCompletion).where(CourseCompletion.user_id == user.id))
    assert completion is not None
    return user, completion


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def set_locale(client, locale: str) -> None:
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": locale, "next": "/"})


def test_completing_a_course_issues_exactly_one_certificate(app, db, completed):
    user, completion = completed
    certificates = db.scalars(select(Certificate).where(Certificate.user_id == user.id)).all()
    assert len(certificates) == 1
    certificate = certificates[0]
    assert certificate.completion_id == completion.id and certificate.course_id == completion.course_id
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", certificate.code)
    # Checking completion again (another lesson, another exam) never issues a second one.
    from cbt.courses.models import CourseVersion
    from cbt.db import session, writing
    from cbt.learn.services import check_completion

    with app.app_context(), writing():
        version = session.get(CourseVersion, completion.course_version_id)
        assert check_completion(user.id, version)
        assert check_completion(user.id, version)
        assert services.ensure_certificate(user.id, completion.course_id).id == certificate.id
        session.commit()
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1


def test_codes_are_random_typable_and_forgiving():
    codes = {services.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    code = "7KQ2M9XD4HRT"
    assert services.format_code(code) == "7KQ2-M9XD-4HRT"
    for typed in ("7kq2-m9xd-4hrt", " 7KQ2 M9XD 4HRT ", "7KQ2M9XD4HRT"):
        assert services.normalize_code(typed) == code
    assert services.normalize_code("0O1IL") is None
    assert services.normalize_code("OOOO-IIII-LLLL") == "000011111111"
    assert services.normalize_code("7KQ2-M9XD-4HRU") is None  # U is not in the alphabet
    assert services.normalize_code("x" * 40) is None


@pytest.mark.parametrize(("locale", "phrases"), [
    ("en", ["Certificate of completion", "has completed the course", "Verification code"]),
    ("ru", ["Сертификат об окончании", "прошёл(-ла) курс", "Код проверки"]),
    ("kk", ["Курсты аяқтағаны туралы сертификат", "курсты аяқтады", "Тексеру коды"]),
])
def test_the_pdf_is_in_the_trainees_language(client, db, completed, locale, phrases):
    user, completion = completed
    set_locale(client, locale)
    page = client.get("/learn/").get_data(as_text=True)
    link = f"/certificates/{user.id}/cert-course.pdf"
    assert f'href="{link}"' in page
    assert f'href="{link}"' in client.get("/learn/transcript").get_data(as_text=True)
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.get_data())
    for phrase in phrases:
        assert phrase in text
    assert "Әсел Қайратқызы" in text and "KZ-777" in text
    certificate = db.scalar(select(Certificate).where(Certificate.user_id == user.id))
    assert services.format_code(certificate.code) in text
    assert {"kk": "«Қордай» ӨП", "ru": "ПП «Кордай»", "en": "Kordai BCP"}[locale] in text
    assert f"{round(completion.score)} %" in text
    if locale == "kk":
        assert KAZAKH_LETTERS & set(text.replace("Әсел Қайратқызы", "").replace("«Қордай» ӨП", ""))


def test_the_pdf_carries_a_qr_code_of_the_verify_url(client, db, completed):
    from reportlab.graphics.barcode.qr import QrCodeWidget

    user, _completion = completed
    data = client.get(f"/certificates/{user.id}/cert-course.pdf").get_data()
    certificate = db.scalar(select(Certificate).where(Certificate.user_id == user.id))
    url = f"http://localhost/verify/{services.format_code(certificate.code)}"
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    links = [a.get_object()["/A"]["/URI"] for a in page["/Annots"]]
    assert links == [url]
    forms = [x for name, x in page["/Resources"]["/XObject"].items() if "qr" in name.lower()]
    assert len(forms) == 1
    stream = forms[0].get_object().get_data().decode("latin-1")
    drawn = stream.count(" re")
    widget = QrCodeWidget(url, barLevel="M", barBorder=2)
    expected = len(widget.draw().contents) - 1  # the dark runs, without the white background
    assert drawn >= expected > 50


def test_nobody_else_can_download_a_trainees_certificate(app, client, auth, completed, create_user):
    from tests.conftest import Auth

    user, _completion = completed
    url = f"/certificates/{user.id}/cert-course.pdf"
    other = app.test_client()
    Auth(other, create_user).login_as("trainer")
    assert other.get(url).status_code == 404
    admin = app.test_client()
    Auth(admin, create_user).login_as("admin")
    assert admin.get(url).status_code == 200
    assert admin.get(url + "?lang=kk").status_code == 200
    assert client.get(f"/certificates/{user.id}/no-such-course.pdf").status_code == 404


def test_verify_page_shows_valid_certificate_and_nothing_else(app, db, completed):
    user, completion = completed
    certificate = db.scalar(select(Certificate).where(Certificate.user_id == user.id))
    anonymous = app.test_client()
    for typed in (services.format_code(certificate.code), certificate.code.lower()):
        page = anonymous.get(f"/verify/{typed}").get_data(as_text=True)
        assert "This certificate is valid." in page
        assert "Әсел Қайратқызы" in page and "Mini course cert-course" in page
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    for secret in ("KZ-777", user.username, "Kordai", "%", str(round(completion.score))):
        assert secret not in main, secret
    redirect = anonymous.get(f"/verify?code={certificate.code.lower()}")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == f"/verify/{services.format_code(certificate.code)}"


def test_verify_page_for_an_unknown_code(app):
    anonymous = app.test_client()
    for code in ("0000-0000-0000", "not-a-code", "x" * 100):
        response = anonymous.get(f"/verify/{code}")
        assert response.status_code == 200
        assert "No certificate has this code." in response.get_data(as_text=True)
    assert "Verification code" in anonymous.get("/verify").get_data(as_text=True)


def test_admin_revokes_with_a_reason_and_the_verify_page_says_so(app, client, auth, db, completed, create_user):
    from tests.conftest import Auth

    user, _completion = completed
    certificate = db.scalar(select(Certificate).where(Certificate.user_id == user.id))
    url = f"/certificates/{certificate.id}"
    # A trainee cannot revoke, not even their own.
    assert client.post(url, data={"csrf_token": csrf_token(client, "/"), "reason": "x"}).status_code == 403
    admin_client = app.test_client()
    admin = Auth(admin_client, create_user).login_as("admin")
    listing = admin_client.get(f"/certificates/?q={certificate.code}").get_data(as_text=True)
    assert "1 certificate." in listing and services.format_code(certificate.code) in listing
    empty = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url), "reason": ""})
    assert "Give the reason for revoking." in empty.get_data(as_text=True)
    response = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url),
                                            "reason": "Exam taken by someone else"})
    assert response.status_code == 302
    db.rollback()
    certificate = db.get(Certificate, certificate.id)
    assert certificate.revoked_at is not None and certificate.revoked_by_id == admin.id
    assert certificate.revoked_reason == "Exam taken by someone else"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.revoke"))
    assert event.actor_id == admin.id and event.target == f"certificate:{certificate.id}"
    page = app.test_client().get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "This certificate was revoked on" in page
    assert "Exam taken by someone else" not in page
    # Revoking twice keeps the first record.
    admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url), "reason": "again"})
    db.rollback()
    assert db.get(Certificate, certificate.id).revoked_reason == "Exam taken by someone else"
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "certificate.revoke")) == 1
    # The PDF still downloads, marked as revoked.
    assert "Revoked on" in pdf_text(client.get(f"/certificates/{user.id}/cert-course.pdf").get_data())


def test_a_completion_without_certificate_gets_one_on_first_download(app, client, auth, db, tmp_path):
    """Completions stored before certificates existed (or by tools) are issued one lazily, once."""
    from cbt.learn.models import Enrollment

    version_id, _created = import_course(app, write_course(tmp_path, "old-course", modules=1, lessons=1))
    user = auth.login_as("trainee")
    from cbt.courses.models import CourseVersion

    version = db.get(CourseVersion, version_id)
    db.add(Enrollment(user_id=user.id, course_id=version.course_id, course_version_id=version_id))
    db.add(CourseCompletion(user_id=user.id, course_id=version.course_id, course_version_id=version_id, score=None))
    db.commit()
    url = f"/certificates/{user.id}/old-course.pdf"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1
