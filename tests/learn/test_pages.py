"""Page costs and shapes: SQL statements per page, a lesson's bytes and requests, no-JS and keyboard use."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from cbt.db import write_intended
from tests.conftest import ROOT, Auth
from tests.learn.kit import Trainee, ids_of, import_course, write_course

SHIPPED = sorted(p.name for p in (ROOT / "courses").iterdir() if (p / "course.yaml").is_file())

#: A session row is touched at most once a minute (auth.sessions.TOUCH_EVERY); that write is not the page's.
IGNORED = re.compile(r"^\s*UPDATE user_sessions\b", re.I)


def _statements(client, count_queries, url: str) -> list[str]:
    client.get(url)  # warm: first-visit writes (enrolment, first view) are not the steady state
    count_queries().clear()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [s for s in count_queries() if not IGNORED.match(s)]


def _work_on(client, db, slug: str, ids: dict) -> dict[str, str]:
    """Typical progress (a lesson done, a quiz taken, the next lesson open); returns the pages to measure."""
    trainee = Trainee(client, db)
    trainee.complete_lesson(slug, ids["lessons"][0])
    trainee.pass_quiz(ids["quizzes"][0])
    return {
        "my learning": "/learn/",
        "course": f"/learn/courses/{slug}",
        "lesson": f"/learn/courses/{slug}/lessons/{ids['lessons'][1]}",
        "transcript": "/learn/transcript",
        "quiz overview": f"/quiz/{ids['quizzes'][0]}",
    }


def test_statement_count_does_not_grow_with_courses_lessons_or_trainees(app, client, auth, db, tmp_path,
                                                                        count_queries, create_user):
    src = tmp_path / "src"
    small_version, _ = import_course(app, write_course(src, "course-000"))
    auth.login_as("trainee")
    pages = _work_on(client, db, "course-000", ids_of(db, small_version))
    one_course = {name: len(_statements(client, count_queries, url)) for name, url in pages.items()}

    # 49 more courses, one of them with many more modules and lessons, and other trainees at work.
    for n in range(1, 49):
        import_course(app, write_course(src, f"course-{n:03d}"))
    big_version, _ = import_course(app, write_course(src, "course-big", modules=6, lessons=5))
    big = ids_of(db, big_version)
    for _n in range(3):
        other = app.test_client()
        user = create_user("trainee")
        Auth(other, create_user).login(user.username)
        _work_on(other, db, "course-big", big)
        _work_on(other, db, "course-000", ids_of(db, small_version))

    fifty_courses = {name: len(_statements(client, count_queries, url)) for name, url in pages.items()}
    assert fifty_courses == one_course

    big_pages = _work_on(client, db, "course-big", big)
    big_course = {name: len(_statements(client, count_queries, url)) for name, url in big_pages.items()}
    assert big_course == one_course
    # And the numbers themselves stay small (measured: my learning 9, course 17, lesson 16, transcript 10).
    assert one_course["my learning"] <= 12
    assert one_course["course"] <= 20
    assert one_course["lesson"] <= 18
    assert one_course["transcript"] <= 12
    assert one_course["quiz overview"] <= 10


def test_reloading_a_lesson_or_a_quiz_page_writes_nothing(app, client, auth, db, tmp_path, count_queries,
                                                          monkeypatch):
    """A class reloading the exam page together must not queue for the database's write lock."""
    version, _ = import_course(app, write_course(tmp_path / "src", "course-000"))
    auth.login_as("trainee")
    pages = _work_on(client, db, "course-000", ids_of(db, version))
    # A transaction begun with write intent is BEGIN IMMEDIATE on SQLite: the single write lock, even if
    # nothing is then written.
    write_begins: list[bool] = []
    engine = app.extensions["cbt.db"].engine

    def _begun(_conn: object) -> None:
        write_begins.append(write_intended())

    # The session check and the lesson need no ORM session either (cbt.auth.signed_in): none is made.
    sessions_made: list[object] = []
    database = app.extensions["cbt.db"]
    make_session = database.sessionmaker
    monkeypatch.setattr(database, "sessionmaker", lambda **kw: sessions_made.append(kw) or make_session(**kw))

    event.listen(engine, "begin", _begun)
    try:
        for name in ("lesson", "quiz overview"):
            client.get(pages[name])  # a first visit records itself; the reloads after it write nothing
            write_begins.clear()
            sessions_made.clear()
            writes = [s for s in _statements(client, count_queries, pages[name])
                      if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", s, re.I)]
            assert writes == [], (name, writes)
            assert write_begins.count(True) == 0, (name, write_begins)
            if name == "lesson":  # its reads run outside any transaction (cbt.driver_read)
                assert write_begins == [], write_begins
                assert sessions_made == [], sessions_made
            else:  # the overview's ORM reads begin a read transaction: the listener sees transactions
                assert write_begins, write_begins
    finally:
        event.remove(engine, "begin", _begun)


def test_first_visit_of_an_exam_page_writes_only_the_location(app, client, auth, db, tmp_path, count_queries):
    """The exam rush: 60 first visits at once. Each records where the trainee is and nothing else: no enrolment
    insert for an enrolled trainee, no scan for overdue attempts to grade when there are none."""
    version, _ = import_course(app, write_course(tmp_path / "src", "course-000"))
    ids = ids_of(db, version)
    auth.login_as("trainee")
    client.get(f"/learn/courses/course-000/lessons/{ids['lessons'][0]}")
    count_queries().clear()
    assert client.get(f"/quiz/{ids['exam']}").status_code == 200
    statements = [s for s in count_queries() if not IGNORED.match(s)]
    writes = [s for s in statements if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", s, re.I)]
    # The location, and (when time has passed) the reading time credited to the lesson the trainee came from.
    assert [w.split()[1] for w in writes][-1:] == ["enrollments"], writes
    assert {w.split()[0] + " " + w.split()[1] for w in writes} <= {"UPDATE enrollments", "UPDATE lesson_progress"}
    assert not any("deadline_at IS NOT NULL" in s for s in statements), statements
    assert len(statements) <= 8, statements



def test_a_question_page_and_an_autosave_read_the_attempt_and_its_quiz_in_one_statement(
        app, client, auth, db, tmp_path, count_queries):
    """Every question page and every save-as-you-go reads the attempt; its quiz comes in the same statement."""
    version, _ = import_course(app, write_course(tmp_path / "src", "course-000"))
    ids = ids_of(db, version)
    auth.login_as("trainee")
    trainee = Trainee(client, db)
    attempt_id = trainee.start_quiz(ids["quizzes"][0])
    statements = _statements(client, count_queries, f"/quiz/attempts/{attempt_id}/1")
    reads = [s for s in statements if re.search(r"\bFROM attempts\b", s)]
    assert len(reads) == 1 and re.search(r"\bJOIN quizzes\b", reads[0]), statements
    assert not any(re.search(r"\bFROM quizzes\b", s) for s in statements), statements

    html = client.get(f"/quiz/attempts/{attempt_id}/1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    question_id = re.search(r'name="question" value="(\d+)"', html).group(1)
    count_queries().clear()
    response = client.post(f"/quiz/attempts/{attempt_id}/autosave",
                           data={"csrf_token": token, "question": question_id, "seq": "0"})
    assert response.status_code == 200 and response.get_json()["status"] == "saved", response.get_data(as_text=True)
    statements = [s for s in count_queries() if not IGNORED.match(s)]
    assert len([s for s in statements if re.search(r"\bFROM attempts\b", s)]) == 1, statements
    assert not any(re.search(r"\bFROM quizzes\b", s) for s in statements), statements


# --- weight -----------------------------------------------------------------------------------------

class Assets(HTMLParser):
    """Every stylesheet, script and icon a page makes the browser fetch (lesson images are media)."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.icons: list[str] = []
        self.inline_styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = (a.get("rel") or "").lower().split()
        if tag == "link" and "stylesheet" in rel:
            self.stylesheets.append(a["href"])
        elif tag == "link" and "icon" in rel:
            self.icons.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "style":
            self.inline_styles += 1


def _css_references(css: str, base: str) -> list[str]:
    """``url(...)`` and ``@import`` targets of a stylesheet, resolved against its URL."""
    from urllib.parse import urljoin

    targets = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    targets += re.findall(r"@import\s+['\"]([^'\"]+)['\"]", css)
    return [urljoin(base, t) for t in targets if not t.startswith("data:")]


def _fetch(client, url: str) -> tuple[int, bytes]:
    """Status and body of ``url``; static files are streamed, so the response is closed here."""
    response = client.get(url)
    try:
        return response.status_code, response.get_data()
    finally:
        response.close()


def _page_weight(client, url: str) -> tuple[int, int, dict[str, int]]:
    """(bytes of HTML+CSS+JS, requests, bytes per URL) of a page as a browser with an empty cache loads it."""
    response = client.get(url)
    assert response.status_code == 200
    sizes = {url: len(response.data)}
    parser = Assets()
    parser.feed(response.get_data(as_text=True))
    requests = 1
    counted = len(response.data)
    for href in [*parser.stylesheets, *parser.scripts]:
        status, body = _fetch(client, href)
        assert status == 200, href
        sizes[href] = len(body)
        counted += len(body)
        requests += 1
        if href in parser.stylesheets:
            for ref in _css_references(body.decode(), href):
                status, font = _fetch(client, ref)
                assert status == 200, ref
                sizes[ref] = len(font)  # fonts: a request, but not HTML+CSS+JS bytes
                requests += 1
    for icon in parser.icons:
        if icon.startswith("data:"):
            continue  # inlined in the HTML, already counted
        assert _fetch(client, icon)[0] == 200, icon
        requests += 1
    return counted, requests, sizes


def test_the_heaviest_shipped_lesson_is_under_60_kb_in_at_most_6_requests(app, client, auth, db):
    auth.login_as("trainee")
    heaviest = (0, 0, "", {})
    for slug in SHIPPED:
        version_id, _ = import_course(app, ROOT / "courses" / slug)
        for lesson_id in ids_of(db, version_id)["lessons"]:
            counted, requests, sizes = _page_weight(client, f"/learn/courses/{slug}/lessons/{lesson_id}")
            heaviest = max(heaviest, (counted, requests, f"{slug}/{lesson_id}", sizes))
    counted, requests, name, sizes = heaviest
    assert counted < 60 * 1024, (name, sizes)
    assert requests <= 6, (name, sizes)
    assert any(href.endswith(".css") for href in sizes), "no stylesheet found: the measure would be empty"


def test_lesson_pages_share_their_assets(client, auth, app, db, tmp_path):
    """No per-lesson CSS or JS: every lesson links the same stylesheet and scripts, cached once."""
    version_id, _ = import_course(app, write_course(tmp_path / "src"))
    auth.login_as("trainee")
    seen = set()
    for lesson in ids_of(db, version_id)["lessons"]:
        parser = Assets()
        parser.feed(client.get(f"/learn/courses/mini-course/lessons/{lesson}").get_data(as_text=True))
        assert parser.stylesheets == ["/static/css/cbt.css"]
        assert parser.inline_styles == 0
        seen.add((tuple(parser.stylesheets), tuple(parser.scripts), tuple(parser.icons)))
    assert len(seen) == 1


# --- without JavaScript, with a keyboard ----------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
INTERACTIVE = {"a", "button", "input", "select", "textarea"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "img":
                parts.append(child.attrs.get("alt") or "")
            else:
                parts.append(child.text())
        return " ".join(" ".join(parts).split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()


class Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def problems(page: str) -> list[str]:
    """What keeps a page from working without JavaScript or with a keyboard and a screen reader."""
    tree = Tree()
    tree.feed(page)
    nodes = list(tree.root.walk())
    labels = {n.attrs.get("for") for n in nodes if n.tag == "label"}
    ids = {n.attrs.get("id"): n for n in nodes if n.attrs.get("id")}
    found = []
    for node in nodes:
        where = f"<{node.tag} {node.attrs}>"
        for name in node.attrs:
            if name.startswith("on"):
                found.append(f"inline event handler {name}: {where}")
        if node.tag == "script" and not node.attrs.get("src"):
            found.append(f"inline script: {where}")
        if node.attrs.get("role") in ("button", "link", "checkbox", "radio", "tab", "menuitem"):
            found.append(f"ARIA widget instead of a native control: {where}")
        tabindex = node.attrs.get("tabindex")
        if tabindex is not None and node.tag not in INTERACTIVE and int(tabindex) >= 0:
            found.append(f"focusable non-control: {where}")
        if node.attrs.get("contenteditable") is not None:
            found.append(f"contenteditable: {where}")
        if node.tag == "form":
            method = (node.attrs.get("method") or "").lower()
            if not node.attrs.get("action") or method not in ("get", "post"):
                found.append(f"form without action and method: {where}")
            if not any(n.tag in ("button", "input") and (n.attrs.get("type") or "submit") == "submit"
                       for n in node.walk()):
                found.append(f"form without a submit button: {where}")
        if node.tag == "a":
            href = node.attrs.get("href") or ""
            if not href or href == "#" or href.lower().startswith("javascript:"):
                found.append(f"link that goes nowhere: {where}")
            if not (node.text() or node.attrs.get("aria-label")):
                found.append(f"link without a name: {where}")
        # Only a script can reveal a ``hidden`` block (the idle warning); without JavaScript it is no action.
        revealed_by_script = any("hidden" in a.attrs for a in (node, *node.ancestors()))
        if node.tag == "button" and revealed_by_script:
            if not (node.text() or node.attrs.get("aria-label")):
                found.append(f"button without a name: {where}")
        elif node.tag == "button":
            if (node.attrs.get("type") or "submit") != "submit":
                found.append(f"button that is not a submit button: {where}")
            if not any(a.tag == "form" for a in node.ancestors()) and not node.attrs.get("form"):
                found.append(f"button outside a form: {where}")
            if not (node.text() or node.attrs.get("aria-label")):
                found.append(f"button without a name: {where}")
        if node.tag in ("input", "select", "textarea"):
            kind = (node.attrs.get("type") or "text").lower()
            if kind in ("hidden", "submit"):
                continue
            named = (
                node.attrs.get("aria-label")
                or (node.attrs.get("aria-labelledby") in ids)
                or (node.attrs.get("id") and node.attrs["id"] in labels)
                or any(a.tag == "label" for a in node.ancestors())
            )
            if not named:
                found.append(f"control without a label: {where}")
    return found


def test_the_checker_catches_what_it_should():
    """The checker itself must be able to fail (a clickable div, a JS-only button, an unlabelled input)."""
    bad = """<div onclick="go()">Go</div><span role="button" tabindex="0">X</span>
    <form><input type="text" name="q"></form><button type="button">Do</button><a href="#">x</a>
    <a href="/y"></a><script>alert(1)</script><div hidden><button type="button"></button></div>"""
    found = problems(bad)
    for needle in ("onclick", "ARIA widget", "focusable", "form without action", "control without a label",
                   "not a submit button", "outside a form", "goes nowhere", "link without a name",
                   "inline script",
                   "button without a name"):
        assert any(needle in f for f in found), needle


def _pages_of_a_course(client, db, slug: str, ids: dict) -> dict[str, str]:
    """Every trainee page of a course, including each question page of a practice quiz and the exam."""
    trainee = Trainee(client, db)
    pages = {
        "my learning": "/learn/", "course": f"/learn/courses/{slug}", "transcript": "/learn/transcript",
        "home": "/",
    }
    for lesson_id in ids["lessons"]:
        pages[f"lesson {lesson_id}"] = f"/learn/courses/{slug}/lessons/{lesson_id}"
    found = {}
    for name, url in pages.items():
        found[name] = client.get(url).get_data(as_text=True)
    for quiz_id in [*ids["quizzes"], ids["exam"]]:
        found[f"quiz {quiz_id}"] = client.get(f"/quiz/{quiz_id}").get_data(as_text=True)
        attempt_id = trainee.start_quiz(quiz_id)
        questions = trainee.attempt_questions(attempt_id)
        for page in range(1, len(questions) + 1):
            found[f"quiz {quiz_id} q{page} {questions[page - 1][0].type}"] = client.get(
                f"/quiz/attempts/{attempt_id}/{page}").get_data(as_text=True)
        found[f"quiz {quiz_id} finish"] = client.get(f"/quiz/attempts/{attempt_id}/finish").text
        trainee.answer_all(attempt_id)
        trainee.submit(attempt_id)
        found[f"quiz {quiz_id} result"] = client.get(f"/quiz/attempts/{attempt_id}/result").text
        found[f"quiz {quiz_id} overview after"] = client.get(f"/quiz/{quiz_id}").get_data(as_text=True)
    return found


@pytest.mark.parametrize("slug", ["vehicle-inspection"])
def test_every_learning_page_works_without_javascript_and_by_keyboard(app, client, auth, db, slug):
    version_id, _ = import_course(app, ROOT / "courses" / slug)
    ids = ids_of(db, version_id)
    auth.login_as("trainee")
    pages = _pages_of_a_course(client, db, slug, ids)
    kinds = {name.split()[-1] for name in pages if " q" in name}
    # Every question type must have been looked at, or the check proves less than it claims.
    assert {"single", "multiple", "true_false", "short_text", "numeric", "matching", "ordering", "hotspot",
            "scenario"} <= kinds, kinds
    found = {name: problems(page) for name, page in pages.items()}
    assert {name: p for name, p in found.items() if p} == {}


def test_lesson_page_actions_are_a_form_and_links(app, client, auth, db, tmp_path):
    version_id, _ = import_course(app, write_course(tmp_path / "src"))
    lessons = ids_of(db, version_id)["lessons"]
    auth.login_as("trainee")
    page = client.get(f"/learn/courses/mini-course/lessons/{lessons[1]}").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/learn/courses/mini-course/lessons/\d+/complete">', page)
    assert re.search(r'<button type="submit"[^>]*>I have finished this lesson</button>', page)
    assert f'rel="prev" href="/learn/courses/mini-course/lessons/{lessons[0]}"' in page
    assert 'rel="next" href="/quiz/' in page  # the module quiz follows the module's last lesson



