"""Cohort fixtures: the small learning course imported, with the ids the tests need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.cohorts.kit import course_id_of
from tests.learn.kit import ids_of, import_course, write_course


@dataclass
class CourseIds:
    slug: str
    version_id: int
    course_id: int
    lessons: list[int]
    quizzes: list[int]
    exam: int


def import_mini(app: Flask, db: Session, root: Path, slug: str = "mini-course") -> CourseIds:
    version_id, _created = import_course(app, write_course(root, slug))
    ids = ids_of(db, version_id)
    return CourseIds(slug, version_id, course_id_of(db, version_id), ids["lessons"], ids["quizzes"], ids["exam"])


@pytest.fixture
def course(app: Flask, db: Session, tmp_path: Path) -> CourseIds:
    return import_mini(app, db, tmp_path / "src")
