"""Stored XSS through every authored and every user-supplied field, checked in a real browser.

Two layers are attacked separately:

1. The package validator refuses the hostile course outright (``javascript:`` links, missing media).
2. Should the validator ever miss something, rendering must still be safe: the same package is imported
   with the validator's reference checks switched off, the officers' names, usernames and service numbers
   are set to payloads through ``cbt.auth.services.create_user``, and Chromium visits every page that shows
   them with the Content-Security-Policy *bypassed*, so escaping and sanitizing are tested on their own
   (the CSP is a third layer). On each page: no dialog opened, ``window.__xss`` stays undefined, no element
   carries an ``on*`` attribute, a ``javascript:``/``data:`` URL or a script that is not ours, and the
   payload text did reach the page (so the test cannot pass by showing nothing).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import PASSWORD, in_chromium, sign_in, start_server
from tests.security.xss import PAYLOADS, write_xss_course

pytestmark = pytest.mark.browser

DOM_CHECK = """() => {
  const bad = [];
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'background', 'poster', 'srcdoc'];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(`${el.tagName} ${name}=${attr.value}`);
      if (urlAttrs.includes(name) && (value.startsWith('javascript:') || value.startsWith('data:text')
          || value.startsWith('vbscript:') || name === 'srcdoc')) bad.push(`${el.tagName} ${name}=${attr.value}`);
      if (name === 'style' && /expression|javascript:|url\\(/i.test(attr.value)) bad.push(`${el.tagName} style`);
    }
  }
  for (const el of document.querySelectorAll('script')) {
    if (!(el.getAttribute('src') || '').startsWith('/static/')) bad.push('script ' + el.outerHTML.slice(0, 80));
  }
  for (const sel of ['iframe', 'object', 'embed', 'base', 'body meta', 'body link', 'body style', 'frame',
                     'form[action^="javascript"]', 'svg script', 'math']) {
    for (const el of document.querySelectorAll(sel)) bad.push(sel + ': ' + el.outerHTML.slice(0, 80));
  }
  return {bad, xss: typeof window.__xss === 'undefined' ? null : String(window.__xss),
          parentXss: typeof window.parent.__xss === 'undefined' ? null : 1};
}"""


def test_the_validator_refuses_the_hostile_package(tmp_path):
    """Layer 1: a course that links to ``javascript:`` or ``data:`` URLs is not imported at all."""
    from cbt.content.loader import load_course

    course, problems = load_course(write_xss_course(tmp_path))
    assert course is None
    messages = " ".join(p.message % p.params for p in problems if p.is_error)
    assert "javascript:" in messages and "is not allowed" in messages


def _pack(payloads: list[str], limit: int) -> list[str]:
    """Group payloads into strings of at most ``limit`` characters (the column's length)."""
    groups, current = [], ""
    for payload in payloads:
        if len(payload) > limit:
            continue
        candidate = f"{current} {payload}".strip()
        if len(candidate) > limit:
            groups.append(current)
            candidate = payload
        current = candidate
    return [*groups, current] if current else groups


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server of its own (the hostile course must not leak into other browser tests' pages)."""
    from _pytest.monkeypatch import MonkeyPatch

    from cbt import create_app
    from cbt.auth import services
    from cbt.content import loader
    from cbt.courses.importer import import_folder
    from cbt.courses.models import Lesson, Quiz
    from cbt.db import session, writing

    tmp = tmp_path_factory.mktemp("xss")
    server = start_server(tmp)
    app = create_app({"DATABASE_URL": server.env["CBT_DATABASE_URL"], "INSTANCE_PATH": server.env["CBT_INSTANCE_PATH"],
                      "PASSWORD_HASH_MEMORY_KIB": 1024, "PASSWORD_HASH_TIME_COST": 1})
    users: dict[str, dict[str, str]] = {}
    with MonkeyPatch.context() as patch, app.app_context(), writing():
        # Simulate a validator that misses every hostile reference: rendering alone must hold.
        patch.setattr(loader, "_queue_reference", lambda *args, **kwargs: None)
        version = import_folder(write_xss_course(tmp / "src")).version
        ids = {"slug": version.course.slug,
               "lesson": session.scalar(select(Lesson.id).where(Lesson.course_version_id == version.id)),
               "quiz": session.scalar(select(Quiz.id).where(Quiz.course_version_id == version.id))}
        names = _pack(PAYLOADS, 200)
        numbers = _pack(PAYLOADS, 40)
        usernames = [p.lower() for p in PAYLOADS if len(p) <= 80 and not any(c.isspace() for c in p)]
        for n, full_name in enumerate(names):
            username = usernames[n] if n < len(usernames) else f"xss-officer-{n}"
            services.create_user(username, PASSWORD, full_name=full_name,
                                 service_number=numbers[n % len(numbers)], locale="en")
            users[username] = {"full_name": full_name}
        for n, username in enumerate(usernames[len(names):]):
            services.create_user(username, PASSWORD, full_name=f"Officer {n}", service_number=numbers[n % len(numbers)])
            users[username] = {"full_name": f"Officer {n}"}
        services.create_user("xss-admin", PASSWORD, role="admin", full_name=names[0])
        session.commit()
    app.extensions["cbt.db"].engine.dispose()
    yield server, ids, users
    server.process.terminate()
    server.process.wait(timeout=10)


class Visitor:
    """A browser tab with CSP bypassed that records dialogs and checks every page it opens."""

    def __init__(self, chromium: Any, server: Any) -> None:
        self.server = server
        self.context = chromium.new_context(bypass_csp=True, locale="en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.dialogs: list[str] = []
        self.visited: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{self.page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    def check(self, must_show: str = "window.__xss=1") -> None:
        page = self.page
        page.wait_for_load_state("load")
        # Give handlers that fire on load, focus or a failed image a moment to run.
        page.wait_for_timeout(60)
        result = page.evaluate(DOM_CHECK)
        where = page.url
        assert result["xss"] is None and result["parentXss"] is None, f"payload ran on {where}"
        assert result["bad"] == [], f"{where}: {result['bad'][:10]}"
        assert self.dialogs == [], self.dialogs
        assert must_show in page.content(), f"{where} does not show the payloads at all"
        self.visited.append(where)

    def open(self, path: str, must_show: str = "window.__xss=1") -> None:
        self.page.goto(self.server.url + path)
        self.check(must_show)

    def close(self) -> None:
        self.context.close()


def test_authored_content_cannot_run_script_on_any_trainee_page(hostile_server):
    in_chromium(lambda browser: _walk_the_course(browser, *hostile_server))


def _walk_the_course(browser: Any, server: Any, ids: dict[str, Any], users: dict[str, Any]) -> None:
    username = next(iter(users))
    visitor = Visitor(browser, server)
    try:
        sign_in(visitor.page, server, username)
        visitor.check()  # the landing page: My learning with the course title and description
        slug, lesson, quiz = ids["slug"], ids["lesson"], ids["quiz"]
        for path in ("/learn/", f"/learn/courses/{slug}", f"/learn/courses/{slug}/lessons/{lesson}",
                     f"/quiz/{quiz}", "/account/password"):
            visitor.open(path)
        page = visitor.page
        page.goto(f"{server.url}/quiz/{quiz}")
        page.click(f"form[action='/quiz/{quiz}/start'] button[type=submit]")
        page.wait_for_url("**/quiz/attempts/*/1")
        visitor.check()
        attempt_url = page.url.rsplit("/", 1)[0]
        page.check("form.question-form input[type=radio] >> nth=0")
        page.click("button[name=action][value=check]")  # practice: the feedback is shown at once
        page.wait_for_load_state("load")
        visitor.check()
        for number in (2, 3):
            visitor.open(attempt_url.replace(server.url, "") + f"/{number}")
        visitor.open(attempt_url.replace(server.url, "") + "/finish")
        page.click("form[data-submit-once] button[type=submit]")
        page.wait_for_url("**/result")
        visitor.check()
        assert "window.__xss=1" in page.inner_text("main")  # the review shows the payloads as text
        visitor.open("/learn/transcript")
        visitor.open("/learn/")
        assert len(visitor.visited) >= 12
    finally:
        visitor.close()


def test_user_supplied_fields_cannot_run_script(hostile_server):
    """Full names, usernames and service numbers made of payloads, on every page that shows them."""
    in_chromium(lambda browser: _visit_as_every_officer(browser, *hostile_server))


def _visit_as_every_officer(browser: Any, server: Any, _ids: dict[str, Any], users: dict[str, Any]) -> None:
    shown = 0
    visitor = Visitor(browser, server)
    try:
        for username, fields in users.items():
            sign_in(visitor.page, server, username)
            visitor.page.wait_for_load_state("load")
            assert "/login" not in visitor.page.url, username
            marker = next((m for m in ("__xss", "alert(") if m in fields["full_name"]), "Officer")
            visitor.check(must_show=marker)  # My learning, with the name in the header
            visitor.open("/learn/transcript", must_show=marker)  # name and service number
            visitor.page.click("button.signout")
            visitor.page.wait_for_url("**/login")
            shown += 1
    finally:
        visitor.close()
    assert shown == len(users) >= 10
    # The administrator's lists show everyone's name, username and service number at once.
    visitor = Visitor(browser, server)
    try:
        sign_in(visitor.page, server, "xss-admin")
        visitor.check(must_show="__xss")
        for path in ("/admin/users", "/learn/transcript"):
            response = visitor.page.goto(server.url + path)
            if response is not None and response.status == 404:
                continue  # the administration pages are not there (yet)
            visitor.check(must_show="__xss")
    finally:
        visitor.close()
