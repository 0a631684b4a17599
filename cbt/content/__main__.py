"""``python -m cbt.content validate PATH...``: check course folders (or zips) before import.

The logic lives in :func:`validate_paths` so the Flask CLI (``cbt courses validate``) can call it
with a translating ``gettext`` and ``click.echo``; this module only adds argument parsing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .archive import safe_extract_zip
from .errors import ContentError, Problem
from .loader import load_course

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def _english_ngettext(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _course_dirs(path: Path) -> list[Path]:
    """``path`` itself, or the course folders inside it (so ``validate courses/`` works)."""
    if path.is_dir() and not (path / "course.yaml").exists():
        found = sorted(p for p in path.iterdir() if p.is_dir() and (p / "course.yaml").exists())
        if found:
            return found
    return [path]


def _load(path: Path) -> list[Problem]:
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="cbt-validate-") as tmp:
            try:
                extracted = safe_extract_zip(path, Path(tmp) / "course")
            except ContentError as exc:
                return exc.problems
            _course, problems = load_course(extracted.root, check_folder_name=extracted.named_folder)
            return problems
    _course, problems = load_course(path)
    return problems


def validate_paths(
    paths: Iterable[str | os.PathLike[str]],
    gettext: Gettext = lambda s: s,
    echo: Callable[[str], object] = print,
    ngettext: Ngettext = _english_ngettext,
) -> int:
    """Validate each course and print its problems and a summary; return the exit code.

    Each problem is printed as ``error: <course>/<file>:<line>: <field>: <message>`` so editors
    and CI logs can jump to it. Returns 1 if any course has an error, else 0: warnings
    (translation gaps, unused media) never fail a run.
    """
    failed = False
    for given in paths:
        for course_path in _course_dirs(Path(given)):
            problems = _load(course_path)
            shown = str(course_path).rstrip("/\\")
            errors = sum(1 for p in problems if p.is_error)
            warnings = len(problems) - errors
            for problem in problems:
                located = dataclasses.replace(
                    problem, path=f"{shown}/{problem.path}" if problem.path else shown
                )
                severity = gettext("error") if problem.is_error else gettext("warning")
                echo(f"{severity}: {located.format(gettext)}")
            errors_text = ngettext("%(num)d error", "%(num)d errors", errors) % {"num": errors}
            warnings_text = ngettext("%(num)d warning", "%(num)d warnings", warnings) % {"num": warnings}
            echo(
                gettext("%(course)s: %(errors)s, %(warnings)s")
                % {"course": shown, "errors": errors_text, "warnings": warnings_text}
            )
            failed = failed or errors > 0
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbt.content", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check course folders or zips")
    validate.add_argument("paths", nargs="+", help="course folder, folder of courses, or .zip")
    args = parser.parse_args(argv)
    if args.command == "validate":
        return validate_paths(args.paths)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
