"""Bulk user import: upload -> preview with per-row errors -> confirm or cancel; idempotent; nothing half-done."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from cbt.admin import importing
from cbt.admin.models import UserImport
from cbt.audit.models import AuditEvent
from cbt.auth.models import User
from tests.conftest import Auth, csrf_token

HEADER = "username,full_name,service_number,role,agency,site,locale"
GOOD = HEADER + "\n" + "\n".join([
    "a.nurlanovna,Асель Нұрланқызы,KZ-10452,trainee,kz-customs,kordai,kk",
    "e.seitkali,Ерлан Сейітқали,KZ-00317,trainer,kz-border,academy,ru",
    "d.akhmetova,Dana Akhmetova,,trainee,,,",
]) + "\n"


@pytest.fixture
def org(app):
    from cbt.db import session, writing
    from cbt.org.models import Agency, Country, Site

    with app.app_context(), writing():
        kz = Country(code="KZ", names={"en": "Kazakhstan"})
        session.add(kz)
        session.flush()
        session.add_all([
            Agency(code="kz-customs", kind="customs", country_id=kz.id, names={"en": "Customs"}),
            Agency(code="kz-border", kind="border", country_id=kz.id, names={"en": "Border Service"}),
            Site(code="kordai", kind="bcp", country_id=kz.id, names={"en": "Kordai BCP"}),
            Site(code="academy", kind="academy", country_id=kz.id, names={"en": "Border Academy"}),
        ])
        session.commit()


def upload(client, data: bytes, name: str = "users.csv"):
    token = csrf_token(client, "/admin/users/import")
    return client.post("/admin/users/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client, preview_url: str, action: str = "all"):
    return client.post(preview_url, data={"csrf_token": csrf_token(client, preview_url), "action": action})


def user_count(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(User))


def passwords_of(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>[^<]*</td><td><code class="secret">([^<]+)</code>', page)
    return dict(rows)


def test_good_csv_previews_then_creates_accounts_with_one_time_passwords(app, client, auth, org, db, create_user):
    admin = auth.login_as("admin")
    before = user_count(db)
    response = upload(client, GOOD.encode("utf-8"))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "3 rows in the file." in page and "All rows are valid." in page and "Асель Нұрланқызы" in page
    assert user_count(db) == before  # the preview writes no account
    result = confirm(client, preview_url)
    assert result.status_code == 200
    page = result.get_data(as_text=True)
    assert "3 accounts created." in page
    passwords = passwords_of(page)
    assert set(passwords) == {"a.nurlanovna", "e.seitkali", "d.akhmetova"}
    assert user_count(db) == before + 3
    asel = db.scalar(select(User).where(User.username == "a.nurlanovna"))
    assert (asel.full_name, asel.service_number, asel.role, asel.locale) == ("Асель Нұрланқызы", "KZ-10452",
                                                                             "trainee", "kk")
    assert asel.site.code == "kordai" and asel.agency.code == "kz-customs"
    assert db.scalar(select(User).where(User.username == "e.seitkali")).role == "trainer"
    # The stored batch no longer holds the rows, and no password was ever stored.
    batch = db.scalar(select(UserImport))
    assert batch.status == "done" and batch.rows == [] and batch.summary["created"] == 3
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "users.import"))
    assert event.actor_id == admin.id and event.details["created"] == 3
    for password in passwords.values():
        assert password not in str(batch.summary) and password not in str(event.details)
    # The new password works.
    assert Auth(app.test_client(), create_user).login("a.nurlanovna", passwords["a.nurlanovna"]).status_code == 302
    # The passwords come back as CSV from the result page's own form.
    form_data = [("csrf_token", csrf_token(client, "/admin/users"))]
    for username, password in passwords.items():
        form_data += [("username", username), ("full_name", "x"), ("password", password)]
    from werkzeug.datastructures import MultiDict

    sheet = client.post("/admin/users/import/passwords.csv", data=MultiDict(form_data))
    assert sheet.mimetype == "text/csv" and "attachment" in sheet.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Username", "Full name", "Initial password"] and len(rows) == 4


def test_a_second_confirm_imports_nothing_more(client, auth, org, db):
    auth.login_as("admin")
    preview_url = upload(client, GOOD.encode()).headers["Location"]
    token = csrf_token(client, preview_url)
    confirm(client, preview_url)
    count = user_count(db)
    again = client.post(preview_url, data={"csrf_token": token, "action": "all"})
    assert again.status_code == 302
    assert user_count(db) == count
    assert "This file was already imported." in client.get(preview_url).get_data(as_text=True)


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-8-sig", ";"), ("cp1251", ";"),
                                                      ("cp1251", "\t"), ("utf-8", ";")])
def test_encodings_and_delimiters_are_detected(client, auth, org, db, encoding, delimiter):
    auth.login_as("admin")
    text = "username;full_name;role;site\r\nivanov;Иванов Иван Иванович;trainee;kordai\r\n".replace(";", delimiter)
    if encoding == "cp1251":
        text = text.replace("Иванов Иван Иванович", "Иванов Иван Иванович")  # no Kazakh letters in cp1251
    preview_url = upload(client, text.encode(encoding)).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Иванов Иван Иванович" in page and "All rows are valid." in page
    confirm(client, preview_url)
    db.rollback()
    assert db.scalar(select(User.full_name).where(User.username == "ivanov")) == "Иванов Иван Иванович"


def test_xlsx_files_are_read(client, auth, org, db):
    auth.login_as("admin")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Username", "Full name", "Service number", "Role", "Agency", "Site", "Locale"])
    sheet.append(["k.omarov", "Қанат Омаров", 10452, "trainee", "kz-border", "academy", "kk"])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["bad", "Bad Role", None, "general", None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview_url = upload(client, buffer.getvalue(), "users.xlsx").headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Қанат Омаров" in page and "10452" in page
    assert re.search(r'<a href="#row-4">4</a></th><td>Role</td><td>Unknown role general', page)
    confirm(client, preview_url, "valid_only")
    db.rollback()
    user = db.scalar(select(User).where(User.username == "k.omarov"))
    assert user.service_number == "10452" and user.full_name == "Қанат Омаров"
    assert db.scalar(select(User).where(User.username == "bad")) is None


def test_missing_columns_are_refused_at_upload(client, auth, org, db):
    auth.login_as("admin")
    response = upload(client, b"username,site\nivanov,kordai\n")
    assert response.status_code == 200
    assert "Required columns are missing: full_name, role." in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(UserImport)) == 0
    assert "The file is empty." in upload(client, b"").get_data(as_text=True)
    assert "Upload a CSV or XLSX file." in upload(client, b"x", "users.exe").get_data(as_text=True)
    assert "could not be read" in upload(client, b"PK\x03\x04garbage", "users.xlsx").get_data(as_text=True)
    with pytest.raises(importing.FileProblem) as error:
        importing.parse(b"x" * (importing.MAX_FILE_BYTES + 1))
    assert error.value.problem.params == {"megabytes": 10.0}


def test_an_oversized_file_is_refused_with_its_limit(client, auth, org, monkeypatch):
    """The limit itself is 10 MB; a small one keeps the upload in memory (no temporary file) in this test."""
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 100 * 1024)
    auth.login_as("admin")
    big = (HEADER + "\n" + "x" * 200 * 1024).encode()
    assert "The file is larger than 0.1 MB." in upload(client, big).get_data(as_text=True)


def test_row_errors_are_listed_in_the_users_language_and_nothing_is_half_written(client, auth, org, db,
                                                                                  create_user):
    auth.login_as("admin")
    create_user("trainee", username="existing", full_name="Old Name")
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "locale": "ru", "next": "/"})
    text = HEADER + "\n" + "\n".join([
        "fresh,Свежий,,trainee,,,",            # row 2: valid
        "existing,New Name,,trainer,,,",       # row 3: valid update
        "fresh,Дубль,,trainee,,,",             # row 4: duplicate of row 2
        "chief,Начальник,,boss,,,",            # row 5: unknown role
        "lost,Потерянный,,trainee,,nowhere,",  # row 6: unknown site
        "two words,,,trainee,,,xx",            # row 7: spaces, no name, unknown language
    ]) + "\n"
    before = user_count(db)
    preview_url = upload(client, text.encode()).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    problems = re.findall(r'<tr><th scope="row"><a href="#row-(\d+)">\d+</a></th><td>([^<]*)</td><td>([^<]*)</td>',
                          page)
    assert problems == [
        ("4", "Имя пользователя", "То же имя пользователя уже есть в строке 2 этого файла."),
        ("5", "Роль", "Неизвестная роль boss; используйте одну из: trainee, trainer, admin."),
        ("6", "Площадка", "Нет площадки с кодом nowhere."),
        ("7", "Имя пользователя", "Имя пользователя не может содержать пробелы."),
        ("7", "Полное имя", "Это значение обязательно."),
        ("7", "Язык", "Неизвестный язык xx; используйте один из: kk, ru, en."),
    ]
    assert "4 строки с ошибками." in page or "4 строк с ошибками." in page or "Строк с ошибками: 4" in page
    # "Import everything" is refused while rows are invalid: nothing at all is written.
    refused = confirm(client, preview_url, "all")
    assert refused.status_code == 302 and refused.headers["Location"] == preview_url
    assert user_count(db) == before
    assert db.scalar(select(User.full_name).where(User.username == "existing")) == "Old Name"
    # "Valid rows only" imports rows 2 and 3 and nothing else.
    page = confirm(client, preview_url, "valid_only").get_data(as_text=True)
    assert user_count(db) == before + 1
    assert db.scalar(select(User.full_name).where(User.username == "existing")) == "New Name"
    assert db.scalar(select(User.role).where(User.username == "existing")) == "trainer"
    assert set(passwords_of(page)) == {"fresh"}
    role_change = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_change"))
    assert role_change.details == {"old": "trainee", "new": "trainer"}


def test_reimport_updates_and_never_duplicates(client, auth, org, db):
    auth.login_as("admin")
    confirm(client, upload(client, GOOD.encode()).headers["Location"])
    count = user_count(db)
    changed = GOOD.replace("Dana Akhmetova,,trainee,,,", "Dana Akhmetova-Sarsen,KZ-1,trainer,kz-border,kordai,en")
    preview_url = upload(client, changed.encode()).headers["Location"]
    preview = client.get(preview_url).get_data(as_text=True)
    assert "3 rows would update existing accounts." in preview
    page = confirm(client, preview_url).get_data(as_text=True)
    assert "0 accounts created." in page and "1 account updated." in page and "2 accounts already up to date." in page
    assert passwords_of(page) == {}
    assert user_count(db) == count
    dana = db.scalar(select(User).where(User.username == "d.akhmetova"))
    assert (dana.full_name, dana.service_number, dana.role, dana.site.code, dana.locale) == (
        "Dana Akhmetova-Sarsen", "KZ-1", "trainer", "kordai", "en")


def test_cancel_writes_nothing_and_other_admins_cannot_see_the_batch(app, client, auth, org, db, create_user):
    auth.login_as("admin")
    preview_url = upload(client, GOOD.encode()).headers["Location"]
    other = app.test_client()
    Auth(other, create_user).login_as("admin")
    assert other.get(preview_url).status_code == 404
    before = user_count(db)
    response = confirm(client, preview_url, "cancel")
    assert response.status_code == 302
    assert user_count(db) == before
    db.rollback()
    batch = db.scalar(select(UserImport))
    assert batch.status == "cancelled" and batch.rows == []
    assert client.get("/admin/users/import/not-a-token").status_code == 404


def test_pure_parser_reads_what_excel_writes():
    parsed = importing.parse("Username;Full name;Role\r\nA.B;Аб;trainee\r\n;;\r\n".encode("cp1251"))
    assert parsed.columns == ["username", "full_name", "role"]
    assert parsed.rows == [{"line": 2, "values": {"username": "A.B", "full_name": "Аб", "role": "trainee"}}]
    assert importing.decode("Қ".encode()) == "Қ"
    assert importing.decode(b"\xef\xbb\xbfx") == "x"
    with pytest.raises(importing.FileProblem) as error:
        importing.parse(b"username,full_name,role,role\nx,y,trainee,trainer\n")
    assert error.value.problem.code == "duplicate_columns"
    with pytest.raises(importing.FileProblem) as error:
        importing.parse(b"username,full_name,role\n")
    assert error.value.problem.code == "no_rows"
    parsed = importing.parse(b"username,full_name,role,colour\nx,y,trainee,red\n")
    assert [p.code for p in parsed.problems] == ["unknown_columns"]


def test_an_xlsx_zip_bomb_is_refused_before_parsing():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (importing.MAX_XLSX_UNPACKED + 1))
    with pytest.raises(importing.FileProblem) as error:
        importing.parse(buffer.getvalue())
    assert error.value.problem.code == "too_large"


def test_an_xlsx_with_xml_entities_is_refused():
    """Billion laughs in a worksheet: the XML parser (defusedxml) refuses it, nothing is expanded."""
    import zipfile

    workbook = Workbook()
    workbook.active.append(["username", "full_name", "role"])
    workbook.active.append(["x", "y", "trainee"])
    plain = io.BytesIO()
    workbook.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                entities = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                text = text.replace("?>", "?>" + entities, 1).replace(">y<", ">&b;<")
                data = text.encode()
            target.writestr(item, data)
    with pytest.raises(importing.FileProblem) as error:
        importing.parse(bomb.getvalue())
    assert error.value.problem.code == "unreadable"


def test_stale_uploads_expire_and_lose_their_rows(app, client, auth, org, db):
    from datetime import timedelta

    from cbt.db import utcnow

    auth.login_as("admin")
    preview_url = upload(client, GOOD.encode()).headers["Location"]
    db.rollback()
    batch = db.scalar(select(UserImport))
    batch.created_at = utcnow() - timedelta(hours=25)
    db.commit()
    assert client.get(preview_url).status_code == 404
    upload(client, GOOD.encode())  # any new upload sweeps stale batches
    db.rollback()
    db.expire_all()
    stale = db.get(UserImport, batch.id)
    assert stale.status == "cancelled" and stale.rows == []
