"""An administrator's journey in a real browser: organisation, a user, a CSV import, reports, filtered exports
and a certificate checked, verified in public and revoked; axe on each page."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pypdf
import pytest
from babel.support import Translations

from tests.browser.conftest import ROOT, assert_accessible, navigate, shot, sign_in

pytestmark = pytest.mark.browser

SLUG = "radio-etiquette"
#: A one-lesson course completed by reading its lesson, so a trainee earns a certificate in a few clicks.
COURSE_FILES = {
    "course.yaml": (
        f"id: {SLUG}\nversion: 1\nsource_locale: kk\n"
        "title: {kk: Радио байланысы, ru: Радиосвязь, en: Radio etiquette}\n"
        "description: {kk: Радио арқылы сөйлесу тәртібі., ru: Порядок радиопереговоров.,\n"
        "              en: How to talk on the radio.}\n"
        "estimated_minutes: 5\ncompletion: {lessons: all, quizzes: none, exam: none}\nmodules: [01-radio]\n"
    ),
    "01-radio/module.yaml": "title: {kk: Радио, ru: Радио, en: Radio}\nlessons: [01-call-signs]\n",
    "01-radio/01-call-signs.kk.md": "---\ntitle: Шақыру белгілері\nminutes: 2\n---\nӘуелі өз белгіңізді атаңыз.\n",
    "01-radio/01-call-signs.ru.md": "---\ntitle: Позывные\nminutes: 2\n---\nСначала назовите свой позывной.\n",
    "01-radio/01-call-signs.en.md": "---\ntitle: Call signs\nminutes: 2\n---\nSay your own call sign first.\n",
}
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def test_administrator_sets_up_an_organisation_imports_users_and_reads_reports(live_server, browser, page, tmp_path):
    admin = live_server.create_user("chief", role="admin", locale="kk")
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/")
    assert_accessible(page)

    page.goto(live_server.url + "/admin/countries/new")
    assert_accessible(page)
    page.fill("#code", "KZ")
    page.fill("#name_kk", "Қазақстан")
    navigate(page, "form.card button[type=submit]")
    page.goto(live_server.url + "/admin/sites/new")
    page.fill("#code", "kordai")
    page.select_option("#country", label="Қазақстан (KZ)")
    page.fill("#name_kk", "«Қордай» ӨП")
    navigate(page, "form.card button[type=submit]")
    assert "kordai" in page.content()
    assert_accessible(page)

    csv_file = tmp_path / "users.csv"
    csv_file.write_text("username,full_name,role,site\nasel,Әсел Нұрланқызы,trainee,kordai\n"
                        "bad one,,chief,nowhere\n", encoding="utf-8")
    page.goto(live_server.url + "/admin/users/import")
    assert_accessible(page)
    page.set_input_files("#file", str(csv_file))
    navigate(page, "form.card button[type=submit]")
    assert "/admin/users/import/" in page.url
    assert page.locator("table.problems tbody tr").count() == 4
    assert_accessible(page)
    navigate(page, "button[value=valid_only]")
    assert page.locator("code.secret").count() == 1
    asel_password = page.inner_text("code.secret").strip()
    assert_accessible(page)

    page.goto(live_server.url + "/admin/users")
    assert "Әсел Нұрланқызы" in page.content()
    assert_accessible(page)
    page.goto(live_server.url + "/reports/")
    assert_accessible(page)
    page.goto(live_server.url + "/admin/audit")
    assert "users.import" in page.content()
    assert_accessible(page)
    page.goto(live_server.url + "/verify/0000-0000-0000")
    assert page.locator(".verify-unknown").count() == 1
    assert_accessible(page)

    # The imported trainee signs in with the password the import gave her and completes a short course.
    course = tmp_path / SLUG
    for name, text in COURSE_FILES.items():
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        (course / name).write_text(text, encoding="utf-8")
    live_server.cli("courses", "import", str(course))
    trainee = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    tab = trainee.new_page()
    tab.set_default_timeout(10000)
    sign_in(tab, live_server, "asel", asel_password)
    if "/account/password" in tab.url:  # a password an administrator chose is replaced at the first sign-in
        assert_accessible(tab)
        tab.fill("#current_password", asel_password)
        tab.fill("#new_password", "Kordai-Shift-Pass-2026")
        tab.fill("#confirm_password", "Kordai-Shift-Pass-2026")
        navigate(tab, "form:has(#confirm_password) button[type=submit]")
    tab.wait_for_url(live_server.url + "/")
    assert_accessible(tab)
    navigate(tab, f"a[href$='/{SLUG}/continue']")
    assert tab.locator("article.lesson h1").inner_text() == "Шақыру белгілері"
    assert_accessible(tab)
    navigate(tab, "form[action$='/complete'] button")
    tab.goto(live_server.url + "/")
    certificate_link = tab.locator(f"a[href$='/{SLUG}.pdf']")
    assert certificate_link.count() == 1, tab.inner_text("main")
    assert_accessible(tab)
    # Her certificate, opened from the link: it is served inline, so chromium shows it in its PDF viewer (which
    # hides the bytes); the file is then fetched again with her browser session. Her name and a verification
    # code are printed on it.
    with tab.expect_response(lambda r: r.url.endswith(f"/{SLUG}.pdf")) as response_info:
        certificate_link.click()
    response = response_info.value
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = trainee.request.get(response.url)
    assert pdf.ok and pdf.body().startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Әсел Нұрланқызы" in text, text
    code = CODE.search(text)
    assert code is not None, text
    code = code.group(0)
    trainee.close()
    # Another trainee, of no site, opens the same course: the site filter below has someone to leave out.
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    other_tab = other.new_page()
    other_tab.set_default_timeout(10000)
    sign_in(other_tab, live_server, live_server.create_user("nurlan"))
    navigate(other_tab, f"a[href$='/{SLUG}/continue']")
    assert other_tab.locator("article.lesson h1").inner_text() == "Шақыру белгілері"
    other.close()

    # The dashboard filtered by the site (a GET form: the filter is in the address and in the export links).
    kk = Translations.load(str(ROOT / "translations"), ["kk"])
    page.goto(live_server.url + "/reports/")
    course_rows = f"table.report tbody tr:has(a[href$='/reports/courses/{SLUG}'])"
    assert page.locator(course_rows).count() == 2  # grouped by course and site: Қордай, and no site
    page.select_option("#site", label="«Қордай» ӨП")
    navigate(page, "form.report-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*/reports/\?.*site=\d+"))
    site_id = re.search(r"site=(\d+)", page.url).group(1)
    assert page.locator("#site").input_value() == site_id
    assert page.locator(course_rows).count() == 1
    assert_accessible(page)
    csv_link = page.locator("a[href^='/reports/export/completions.csv']")
    assert f"site={site_id}" in csv_link.get_attribute("href")
    with page.expect_download() as download_info:
        csv_link.click()
    raw = tmp_path / "completions.csv"
    download_info.value.save_as(raw)
    body = raw.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs to read Cyrillic
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == [kk.gettext("Username"), kk.gettext("Full name"), kk.gettext("Service number")]
    assert header[0] != "Username"
    site_code = header.index(kk.gettext("Site code"))
    assert [r[0] for r in rows[1:]] == ["asel"]  # only the site's trainee, with her course and certificate
    assert rows[1][1] == "Әсел Нұрланқызы" and rows[1][site_code] == "kordai"
    assert SLUG in rows[1] and code in rows[1]
    with page.expect_download() as download_info:
        page.click("a[href^='/reports/export/completions.xlsx']")
    download_info.value.save_as(tmp_path / "completions.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "completions.xlsx", read_only=True).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == header
    assert [r[0] for r in table[1:]] == ["asel"]

    # Anyone may check the code on the public page: valid.
    public = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
    anonymous = public.new_page()
    anonymous.goto(live_server.url + f"/verify/{code}")
    assert anonymous.locator(".verify-valid").count() == 1
    assert "Әсел Нұрланқызы" in anonymous.inner_text(".verify dl")
    assert_accessible(anonymous)
    shot(anonymous, "verify-kk", tmp_path)

    # The administrator finds the certificate and revokes it; the public page then says so.
    page.goto(live_server.url + "/")
    navigate(page, "a[href$='/certificates/']")
    page.fill("#q", code)
    navigate(page, "form.report-filters button[type=submit]")
    assert_accessible(page)
    navigate(page, f"a:has(code:text-is('{code}'))")
    assert page.locator(".badge-done").count() == 1
    assert_accessible(page)
    page.fill("#reason", "Сынақ кезінде қате берілді.")
    navigate(page, "form:has(#reason) button[type=submit]")
    assert page.locator(".flash-success").count() == 1
    assert page.locator(".badge-error").count() == 1
    assert_accessible(page)
    anonymous.reload()
    assert anonymous.locator(".verify-revoked").count() == 1
    assert anonymous.locator(".verify-valid").count() == 0
    assert_accessible(anonymous)
    public.close()
