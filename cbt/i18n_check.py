"""Catalog checks, kept free of Flask so tests and the CLI share them.

A catalog is healthy when every message of the template is translated in every locale, nothing is fuzzy,
each translation keeps the placeholders and HTML tags of its msgid, and the template itself is not stale
(every string in the code is in it).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdif]")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
    "lazy_ngettext": (1, 2),
}


@dataclass(frozen=True)
class CatalogProblem:
    locale: str
    msgid: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.locale}] {self.problem}: {self.msgid!r}"


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, (list, tuple)):
        return tuple(message.string)
    return (message.string,)


def _placeholders(text: str) -> set[str]:
    return {m.group(0) if m.group(1) is None else m.group(1) for m in PLACEHOLDER.finditer(text or "")}


def _tags(text: str) -> list[str]:
    return sorted(m.group(0).split()[0].strip("<>/").lower() for m in TAG.finditer(text or ""))


def extract(root: Path, source: str = "cbt") -> Catalog:
    """Extract messages from the Python code and templates under ``root/source``."""
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    catalog = Catalog(project="CBT", charset="utf-8")
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "silent": "false"}}
    for filename, lineno, message, comments, context in extract_from_dir(
        root / source,
        method_map=method_map,
        options_map=options,
        keywords=KEYWORDS,
        comment_tags=("i18n:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def write_template(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=110, omit_header=False, sort_output=True, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def check_catalog(locale: str, catalog: Catalog, template: Catalog) -> list[CatalogProblem]:
    problems: list[CatalogProblem] = []
    for tmpl in template:
        if not tmpl.id:
            continue
        msg = catalog.get(tmpl.id, context=tmpl.context)
        key = _ids(tmpl)[0]
        if msg is None or not all(_strings(msg)):
            problems.append(CatalogProblem(locale, key, "untranslated"))
            continue
        if msg.fuzzy:
            problems.append(CatalogProblem(locale, key, "fuzzy"))
        expected = set().union(*(_placeholders(i) for i in _ids(tmpl)))
        for text in _strings(msg):
            found = _placeholders(text)
            if not found <= expected or (len(_ids(tmpl)) == 1 and found != expected):
                problems.append(
                    CatalogProblem(locale, key, f"placeholders differ ({sorted(found)} vs {sorted(expected)})")
                )
                break
            if _tags(text) != _tags(_ids(tmpl)[0]):
                problems.append(CatalogProblem(locale, key, "HTML tags differ"))
                break
    return problems


def stale_entries(current: Catalog, template: Catalog) -> list[str]:
    """Messages in the code that the committed template lacks."""
    known = {(_ids(m)[0], m.context) for m in template if m.id}
    return sorted(_ids(m)[0] for m in current if m.id and (_ids(m)[0], m.context) not in known)


def check_all(root: Path, locales: tuple[str, ...]) -> list[str]:
    """Every problem of the catalogs under ``root/translations`` as a printable line."""
    translations = root / "translations"
    template = read_catalog(translations / "messages.pot")
    lines = [f"[pot] not extracted: {msgid!r}" for msgid in stale_entries(extract(root), template)]
    for locale in locales:
        po_path = translations / locale / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            lines.append(f"[{locale}] catalog missing: {po_path}")
            continue
        lines += [str(p) for p in check_catalog(locale, read_catalog(po_path, locale), template)]
    return lines


def compile_all(root: Path, target: Path | None = None) -> list[Path]:
    """Compile every ``.po`` under ``root/translations`` to ``.mo`` (beside it, or under ``target``)."""
    written = []
    for po_path in sorted((root / "translations").glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parent.parent.name
        out = (target / locale / "LC_MESSAGES" / "messages.mo") if target else po_path.with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(po_path, locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        if not out.exists() or out.read_bytes() != buffer.getvalue():
            out.write_bytes(buffer.getvalue())
        written.append(out)
    return written


#: The language msgids are written in; its catalog is filled automatically.
SOURCE_LOCALE = "en"


def _fill_source_catalog(catalog: Catalog) -> None:
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            if not all(message.string or ()):
                forms = catalog.num_plurals
                message.string = tuple(message.id[min(i, 1)] for i in range(forms))
        elif not message.string:
            message.string = message.id


def update_all(root: Path, locales: tuple[str, ...]) -> None:
    """Merge the template into every locale's catalog (new messages appear untranslated)."""
    template = read_catalog(root / "translations" / "messages.pot")
    for locale in locales:
        po_path = root / "translations" / locale / "LC_MESSAGES" / "messages.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read_catalog(po_path, locale) if po_path.exists() else Catalog(locale=locale, project="CBT")
        catalog.update(template, no_fuzzy_matching=True)
        if locale == SOURCE_LOCALE:
            _fill_source_catalog(catalog)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=110, sort_output=True, include_lineno=False, ignore_obsolete=True)
        po_path.write_bytes(buffer.getvalue())
