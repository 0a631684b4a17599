"""Reading a question page the way a browser does: which inputs the form has, and a valid way to fill them.

Used where a test knows nothing of the key (the shipped courses): it answers whatever the page offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Field:
    tag: str
    name: str
    type: str = ""
    value: str = ""
    id: str = ""
    disabled: bool = False
    checked: bool = False
    options: list[str] = field(default_factory=list)
    selected: str | None = None


class QuestionForm(HTMLParser):
    """The fields of the page's ``question-form``."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.fields: list[Field] = []
        self._in_form = False
        self._select: Field | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "question-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            self.fields.append(
                Field(
                    "input",
                    a["name"],
                    a.get("type", "text"),
                    a.get("value", ""),
                    a.get("id", ""),
                    "disabled" in a,
                    "checked" in a,
                )
            )
        elif tag == "select":
            self._select = Field("select", a.get("name", ""), id=a.get("id", ""), disabled="disabled" in a)
            self.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.selected = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False

    def named(self, name: str) -> list[Field]:
        return [f for f in self.fields if f.name == name]


def some_answer(page: str) -> dict[str, list[str]]:
    """Valid values for every answer input on the page (the first choice, position i for item i...)."""
    form = QuestionForm(page)
    data: dict[str, list[str]] = {}
    for f in form.fields:
        if f.name in ("csrf_token", "seq", "question", "x", "y") or f.disabled:
            continue
        if f.tag == "select" and f.name.startswith("position-"):
            data[f.name] = [str(int(f.name.split("-")[1]) + 1)]
        elif f.tag == "select":
            data[f.name] = [next(v for v in f.options if v != "")]
        elif f.type in ("radio", "checkbox"):
            data.setdefault(f.name, [f.value])
        elif f.type == "text":
            data[f.name] = ["12,5" if f.id == "answer-number" else "answer"]
    return data


def as_sent(page: str) -> dict[str, list[str]]:
    """What the browser sends if the trainee changes nothing: checked boxes, selected options, typed text."""
    data: dict[str, list[str]] = {}
    for f in QuestionForm(page).fields:
        if f.disabled or f.name in ("csrf_token", "seq", "question"):
            continue
        if f.tag == "select":
            data.setdefault(f.name, []).append(f.selected if f.selected is not None else (f.options or [""])[0])
        elif f.type in ("radio", "checkbox"):
            if f.checked:
                data.setdefault(f.name, []).append(f.value)
        else:
            data.setdefault(f.name, []).append(f.value)
    return data


def page_count(page: str) -> int:
    match = re.search(r"Question \d+ of (\d+)", page)
    assert match, "not a question page"
    return int(match.group(1))


def is_scenario(page: str) -> bool:
    return 'class="scenario"' in page


def scenario_ended(page: str) -> bool:
    return "You have reached the end of this case study." in page
