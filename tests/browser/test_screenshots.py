"""The README shows only screenshots that a browser journey takes, so ``CBT_UPDATE_SCREENSHOTS=1 pytest
tests/browser`` refreshes every one of them (no chromium needed for this check)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import ROOT, SCREENSHOTS


def taken_names() -> list[re.Pattern[str]]:
    """The names passed to ``shot()`` in the journeys; ``f"course-{locale}"`` becomes ``course-[a-z]+``."""
    patterns = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for name in re.findall(r'\bshot\(\w+, f?"([^"]+)"', path.read_text(encoding="utf-8")):
            patterns.append(re.compile(re.sub(r"\\\{\w+\\\}", "[a-z]+", re.escape(name))))
    return patterns


def test_every_screenshot_in_the_readme_is_taken_by_a_journey():
    shown = re.findall(r"\]\(docs/screenshots/([^)]+)\.png\)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert shown, "the README shows no screenshot"
    patterns = taken_names()
    assert patterns
    for name in shown:
        assert (SCREENSHOTS / f"{name}.png").is_file(), f"docs/screenshots/{name}.png is missing"
        assert any(p.fullmatch(name) for p in patterns), f"no browser journey takes {name}.png"
