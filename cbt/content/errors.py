"""Problems found in course files, and the exception that carries them.

A problem names the file (relative to the course folder), the line and the dotted field, so an
author can jump straight to it. Messages are English msgids with named placeholders: the CLI
prints them as they are, the web translates them with the request's gettext at the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

ERROR: Severity = "error"
WARNING: Severity = "warning"


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``pybabel extract -k N_``) without translating it.

    Problems are created in the pure core, long before anyone knows the reader's language, so
    the msgid travels inside the :class:`Problem` and is translated when it is shown.
    """
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or worth a look (warning) in a course package."""

    #: ``"error"`` stops the import; ``"warning"`` (translation gaps, unused media) does not.
    severity: Severity
    #: File relative to the course folder, POSIX separators (``"01-documents/questions.yaml"``).
    path: str
    #: 1-based line in ``path`` when the file format gives one.
    line: int | None
    #: Dotted field inside the file, e.g. ``"questions[3].answer"``; ``None`` for the whole file.
    field: str | None
    #: English msgid with ``%(name)s`` placeholders, marked with :func:`N_`.
    message: str
    #: Values for the placeholders; kept apart so translators never see them.
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def text(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """The message alone, translated and with its placeholders filled in."""
        translated = gettext(self.message)
        if not self.params:
            return translated
        try:
            return translated % dict(self.params)
        except (KeyError, ValueError, TypeError):
            # A broken translation must not hide the problem: fall back to the msgid.
            return self.message % dict(self.params)

    def format(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        """``path:line: field: message``, leaving out the parts that are unknown."""
        location = self.path
        if self.line is not None:
            location = f"{location}:{self.line}"
        parts = [location]
        if self.field:
            parts.append(self.field)
        parts.append(self.text(gettext))
        return ": ".join(parts)

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.field or "")


class ContentError(Exception):
    """A course package (or an archive of one) cannot be used; ``problems`` says why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    @classmethod
    def single(
        cls,
        message: str,
        path: str = "",
        /,
        *,
        line: int | None = None,
        field: str | None = None,
        **params: Any,
    ) -> ContentError:
        """Build the common case of one error without spelling out a :class:`Problem`."""
        return cls([Problem(ERROR, path, line, field, message, params)])


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)
