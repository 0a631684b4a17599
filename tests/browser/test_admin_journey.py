"""An administrator's journey in a real browser: organisation, a user, a CSV import, reports; axe on each page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_administrator_sets_up_an_organisation_imports_users_and_reads_reports(live_server, page, tmp_path):
    admin = live_server.create_user("chief", role="admin", locale="kk")
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/")
    assert_accessible(page)

    page.goto(live_server.url + "/admin/countries/new")
    assert_accessible(page)
    page.fill("#code", "KZ")
    page.fill("#name_kk", "Қазақстан")
    page.click("form.card button[type=submit]")
    page.goto(live_server.url + "/admin/sites/new")
    page.fill("#code", "kordai")
    page.select_option("#country", label="Қазақстан (KZ)")
    page.fill("#name_kk", "«Қордай» ӨП")
    page.click("form.card button[type=submit]")
    assert "kordai" in page.content()
    assert_accessible(page)

    csv_file = tmp_path / "users.csv"
    csv_file.write_text("username,full_name,role,site\nasel,Әсел Нұрланқызы,trainee,kordai\n"
                        "bad one,,chief,nowhere\n", encoding="utf-8")
    page.goto(live_server.url + "/admin/users/import")
    assert_accessible(page)
    page.set_input_files("#file", str(csv_file))
    page.click("form.card button[type=submit]")
    assert "/admin/users/import/" in page.url
    assert page.locator("table.problems tbody tr").count() == 4
    assert_accessible(page)
    page.click("button[value=valid_only]")
    assert page.locator("code.secret").count() == 1
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
    assert_accessible(page)
