"""Course packages: the file format, its validator, Markdown rendering, export and zip import.

Pure code: no Flask, no database. The web app, the importer and the CLI build on these
functions, so a course checked with ``python -m cbt.content validate`` is judged exactly as it
will be at import time.
"""

from .archive import ExtractedCourse, ZipLimits, safe_extract_zip
from .errors import N_, ContentError, Problem
from .loader import load_course
from .render import render_inline, render_markdown
from .schema import (
    LOCALES,
    QUESTION_TYPES,
    CompletionRule,
    Course,
    DrawRule,
    Lesson,
    LessonText,
    LocalizedText,
    MediaFile,
    Module,
    Question,
    Quiz,
)
from .writer import write_course, write_zip

__all__ = [
    "LOCALES",
    "N_",
    "QUESTION_TYPES",
    "CompletionRule",
    "ContentError",
    "Course",
    "DrawRule",
    "ExtractedCourse",
    "Lesson",
    "LessonText",
    "LocalizedText",
    "MediaFile",
    "Module",
    "Problem",
    "Question",
    "Quiz",
    "ZipLimits",
    "load_course",
    "render_inline",
    "render_markdown",
    "safe_extract_zip",
    "write_course",
    "write_zip",
]
