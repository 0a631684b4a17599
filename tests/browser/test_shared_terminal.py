"""Journey 5: a shared terminal. After sign-out or an idle timeout the next officer sees the sign-in page,
and the back button shows nothing of the previous officer."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.conftest import assert_accessible, sign_in, start_server


@pytest.fixture(scope="module")
def quick_idle_server(tmp_path_factory):
    # 0.15 minutes = 9 seconds of idleness signs an officer out.
    server = start_server(tmp_path_factory.mktemp("idle"), CBT_SESSION_IDLE_MINUTES="0.15", CBT_DEFAULT_LOCALE="ru")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def test_sign_out_then_back_button_shows_no_personal_page(live_server, browser):
    name = live_server.create_user(f"officer-a-{uuid.uuid4().hex[:6]}")
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10000)
    sign_in(page, live_server, name)
    page.goto(live_server.url + "/learn/transcript")
    assert f"Officer {name}" in page.inner_text("main")
    page.click("button.signout")
    page.wait_for_url(re.compile(r".*/login$"))
    page.go_back()
    assert "/login" in page.url
    assert f"Officer {name}" not in page.content()
    page.goto(live_server.url + "/learn/transcript")
    assert "/login" in page.url
    context.close()


def test_idle_terminal_warns_then_returns_to_sign_in(quick_idle_server, browser):
    quick_idle_server.create_user("officer-b")
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(20000)
    sign_in(page, quick_idle_server, "officer-b")
    page.goto(quick_idle_server.url + "/learn/transcript")
    assert "Officer officer-b" in page.inner_text("main")
    # With less than a minute left the warning shows at once, with its button focused.
    page.wait_for_selector("#idle-warning:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "idle-stay"
    assert_accessible(page)
    page.wait_for_url(re.compile(r".*/login\?next=.*"), timeout=20000)
    assert "Officer officer-b" not in page.content()
    assert "бездействия" in page.inner_text(".flashes")  # the translated reason, in Russian
    page.go_back()
    assert "Officer officer-b" not in page.content()
    context.close()
