"""The password strength meter (ASVS 2.1.8): the page states the policy without script; with script, a real
Chromium shows the rules being met as the user types, under the site's Content-Security-Policy."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import in_chromium

ORIGIN = "http://cbt.test"


def test_without_script_the_policy_is_stated_and_the_meter_stays_hidden(client, auth):
    auth.login_as("trainee")
    page = client.get("/account/password").get_data(as_text=True)
    assert "At least 12 characters; not your username; not a common password." in page
    meter = re.search(r'<div class="password-meter"[^>]*>', page).group(0)
    assert " hidden" in meter and 'data-for="new_password"' in meter and 'data-min="12"' in meter
    assert '<script src="/static/js/password.js" defer></script>' in page
    script = client.get("/static/js/password.js")
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
    assert "common" not in script.get_data(as_text=True).lower().split("*/", 1)[1]  # no password list shipped
    script.close()


def test_the_minimum_length_comes_from_the_settings(app_config, create_user):
    from cbt import create_app
    from tests.conftest import Auth

    app_config["PASSWORD_MIN_LENGTH"] = 16
    application = create_app(app_config)
    try:
        client = application.test_client()
        Auth(client, create_user).login_as("trainee")
        page = client.get("/account/password").get_data(as_text=True)
        assert 'data-min="16"' in page and "At least 16 characters" in page
    finally:
        application.extensions["cbt.db"].engine.dispose()


@pytest.mark.browser
def test_the_meter_follows_the_typing_in_a_real_browser(client, auth):
    """Chromium loads the page and its script from the app (headers, CSP and all) through the test client."""
    auth.login_as("trainee", username="aigerim")
    errors: list[str] = []

    def serve(route: Any) -> None:
        parts = urlsplit(route.request.url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        body = response.get_data()
        response.close()
        route.fulfill(status=response.status_code, headers=dict(response.headers), body=body)

    def work(browser: Any) -> None:
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/account/password")
        meter = page.locator("#password-meter")
        meter.wait_for(state="visible")

        def state() -> dict[str, Any]:
            return page.evaluate("""() => ({
                level: document.querySelector('#password-strength').value,
                label: [...document.querySelectorAll('[data-level]')].filter(e => !e.hidden).map(e => e.textContent),
                met: Object.fromEntries([...document.querySelectorAll('[data-check]')]
                    .map(e => [e.dataset.check, e.dataset.met === 'true']))})""")

        assert state() == {"level": 0, "label": ["Type a new password."],
                           "met": {"length": False, "username": True, "variety": False}}
        page.fill("#new_password", "short1")
        assert state()["met"] == {"length": False, "username": True, "variety": True}
        assert state()["level"] == 1
        page.fill("#new_password", "my-name-is-Aigerim-ok")
        assert state()["met"]["username"] is False and state()["level"] == 1
        page.fill("#new_password", "aaaaaaaaaaaa")
        assert state()["met"] == {"length": True, "username": True, "variety": False}
        assert state()["label"] == ["Weak"]
        page.fill("#new_password", "Қордай-шекара-2026")  # Kazakh letters count as letters, length in characters
        assert state()["met"] == {"length": True, "username": True, "variety": True}
        assert state()["level"] in (3, 4)
        page.fill("#new_password", "correct horse battery staple border post")
        assert state() == {"level": 4, "label": ["Strong"],
                           "met": {"length": True, "username": True, "variety": True}}

    in_chromium(work)
    assert errors == []  # a CSP violation or a script error would show here
