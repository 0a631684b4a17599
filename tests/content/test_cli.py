"""``python -m cbt.content validate``: output format and exit codes."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from cbt.content.__main__ import main, validate_paths

from .kit import COURSE_ID, base_files, write_files


def run(paths: list[Path], **kwargs: object) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = validate_paths([str(p) for p in paths], echo=lines.append, **kwargs)  # type: ignore[arg-type]
    return code, lines


def test_valid_course(tmp_path: Path) -> None:
    folder = write_files(tmp_path, base_files())
    code, lines = run([folder])
    assert code == 0
    assert lines == [f"{folder}: 0 errors, 0 warnings"]


def test_errors_fail_and_name_file_line_field(tmp_path: Path) -> None:
    files = base_files()
    files["course.yaml"] = str(files["course.yaml"]).replace("version: 1", "version: one")
    folder = write_files(tmp_path, files)
    code, lines = run([folder])
    assert code == 1
    assert lines[0] == f"error: {folder}/course.yaml:2: version: must be a whole number, not text"
    assert lines[-1] == f"{folder}: 1 error, 0 warnings"


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    files = base_files()
    files["media/unused.svg"] = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
    folder = write_files(tmp_path, files)
    code, lines = run([folder])
    assert code == 0
    assert lines == [
        f"warning: {folder}/media/unused.svg: media file is not used anywhere",
        f"{folder}: 0 errors, 1 warning",
    ]


def test_translated_output(tmp_path: Path) -> None:
    """The Flask CLI passes a translating gettext; every part of the output goes through it."""
    files = base_files()
    files["media/unused.svg"] = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
    folder = write_files(tmp_path, files)
    catalog = {
        "warning": "предупреждение",
        "media file is not used anywhere": "медиафайл нигде не используется",
        "%(course)s: %(errors)s, %(warnings)s": "%(course)s — %(errors)s, %(warnings)s",
    }
    code, lines = run([folder], gettext=lambda s: catalog.get(s, s))
    assert code == 0
    assert lines[0] == f"предупреждение: {folder}/media/unused.svg: медиафайл нигде не используется"
    assert lines[1] == f"{folder} — 0 errors, 1 warning"


def test_folder_of_courses_and_zip(tmp_path: Path) -> None:
    good = write_files(tmp_path / "courses", base_files())
    archive = tmp_path / "course.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for rel, content in base_files().items():
            zf.writestr(f"{COURSE_ID}/{rel}", content)
        zf.writestr("../evil.txt", "x")
    code, lines = run([tmp_path / "courses", archive])
    assert code == 1
    assert f"{good}: 0 errors, 0 warnings" in lines
    assert any("leaves the archive folder" in line for line in lines)


def test_missing_path(tmp_path: Path) -> None:
    code, lines = run([tmp_path / "nope"])
    assert code == 1 and "does not exist" in lines[0]


def test_main_and_module_entry_point(tmp_path: Path) -> None:
    folder = write_files(tmp_path, base_files())
    assert main(["validate", str(folder)]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "cbt.content", "validate", str(tmp_path / "nope")],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 1
    assert "error:" in result.stdout
