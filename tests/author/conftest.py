"""Fixtures for the trainer workspace tests: a signed-in trainer's browser and a course built over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.author.kit import Browser, draft_url
from tests.pages import import_course, write_course


@pytest.fixture
def browser(client: Any) -> Browser:
    return Browser(client)


@pytest.fixture
def trainer(auth: Any, browser: Browser) -> Any:
    """A signed-in trainer."""
    return auth.login_as("trainer", full_name="Асқар Бекұлы")


@pytest.fixture
def new_course(browser: Browser) -> Callable[..., str]:
    """Create a course through the "New course" form; returns the draft's URL."""

    def create(course_id: str = "border-basics", **fields: str) -> str:
        data = {"id": course_id, "source_locale": "en", "title.en": "Border basics", "title.ru": "Основы границы",
                "title.kk": "Шекара негіздері", "description.en": "A short course.", "estimated_minutes": "30"}
        data.update(fields)
        response = browser.post("/author/new", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return draft_url(response)

    return create


@pytest.fixture
def course_with_module(browser: Browser, new_course: Callable[..., str]) -> str:
    """A new course with module ``01-documents`` (titles en/ru/kk) holding lesson ``01-intro`` in English."""
    draft = new_course()
    response = browser.post(f"{draft}/modules", {"title.en": "Documents"}, form_page=draft)
    assert response.status_code == 302
    module = f"{draft}/modules/01-documents"
    assert browser.post(module, {"title.en": "Documents", "title.ru": "Документы", "title.kk": "Құжаттар"}
                        ).status_code == 302  # fmt: skip
    response = browser.post(f"{module}/lessons", {"title": "Introduction", "minutes": "5"}, form_page=module)
    assert response.status_code == 302
    return draft


@pytest.fixture
def published(app: Any, tmp_path: Path) -> Callable[..., int]:
    """Import the tiny course of tests/pages.py (or another id); returns the version's row id."""

    def publish(course_id: str = "tiny-course") -> int:
        return import_course(app, write_course(tmp_path / "src", course_id=course_id))

    return publish


def folder_of(app: Any, draft: str) -> Path:
    """The package folder of a draft, from its URL."""
    key = draft.rstrip("/").split("/")[3]
    matches = list((Path(app.instance_path) / "drafts" / key).iterdir())
    folders = [p for p in matches if not p.name.startswith(".")]
    assert len(folders) == 1, matches
    return folders[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a package, to prove a refused change wrote nothing."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
