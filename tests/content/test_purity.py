"""cbt.content stays pure: no web framework, no database, nothing else from cbt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cbt" / "content"
FORBIDDEN = (
    "flask",
    "flask_babel",
    "flask_login",
    "flask_wtf",
    "sqlalchemy",
    "alembic",
    "werkzeug",
    "jinja2",
)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_framework_imports(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in FORBIDDEN, f"{path.name} imports {name}"
        # Only relative imports inside the package; the rest of cbt may depend on Flask.
        assert top != "cbt", f"{path.name} imports {name}"
