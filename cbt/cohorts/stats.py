"""Classical item analysis of a quiz's questions: pure functions over plain records (no Flask, no database).

For every question (identified by its bank slug) over a set of finished attempts:

* **attempts**: the attempts in which the question was shown; **answered**: those that saved an answer.
* **facility index**: the mean fraction of the question's points earned (0 = nobody, 1 = everybody), over
  the attempts in which it was shown; an unanswered question counts as 0, as it did in the grade.
* **discrimination index** (Kelley's upper-lower index, not the point-biserial correlation): attempts are
  ranked by their total percent; the upper and lower groups are the top and bottom 27 % of them (at least
  one attempt each, rounded half up, never more than half; of equal totals the earlier attempt ranks
  higher, so the split is reproducible and the groups never overlap). The index is the question's mean
  fraction in the upper group minus its mean fraction in the lower group, over the attempts of each group
  in which the question was shown. It lies in [-1, 1]; it is None when there are fewer than two attempts
  or the question was not shown in both groups. The total includes the question itself (uncorrected), as
  in the classical index; with few questions per quiz that inflates the index a little.
* **option distribution** (single, multiple, true/false): the share of the attempts showing the question
  that chose each option, and the share that gave no answer. For "multiple" the shares can add up to more
  than 1.

Questions are flagged when facility < 0.2 (very hard), facility > 0.95 (very easy) or discrimination < 0.1
(does not separate stronger from weaker trainees, or favours the weaker).

CSV helpers are here too: cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Share of attempts in each of the upper and lower groups (Kelley's 27 %).
GROUP_SHARE = 0.27
#: Flag thresholds.
FACILITY_LOW = 0.2
FACILITY_HIGH = 0.95
DISCRIMINATION_LOW = 0.1

#: Question types whose answers are a choice among fixed options.
OPTION_TYPES = ("single", "multiple", "true_false")

#: Flag codes (the page and the CSV translate them).
TOO_HARD = "too_hard"
TOO_EASY = "too_easy"
LOW_DISCRIMINATION = "low_discrimination"


@dataclass(frozen=True)
class QuestionInfo:
    """What the analysis needs to know about one question."""

    slug: str
    type: str
    #: Option ids in authored order (``("true", "false")`` for true/false; empty for other types).
    options: tuple[str, ...] = ()
    #: The option ids of the key.
    correct: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ItemResult:
    """One question as it came out in one attempt."""

    #: 0..1; 0 when unanswered.
    fraction: float
    answered: bool
    #: Option ids chosen (single, multiple, true/false).
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttemptRecord:
    attempt_id: int
    percent: float
    #: Every question shown in the attempt, by slug.
    items: Mapping[str, ItemResult]


@dataclass(frozen=True)
class OptionShare:
    option: str
    count: int
    share: float
    correct: bool


@dataclass(frozen=True)
class QuestionStats:
    slug: str
    type: str
    attempts: int
    answered: int
    facility: float | None
    discrimination: float | None
    options: tuple[OptionShare, ...] = ()
    #: Share of the attempts showing the question that gave no answer (option types only).
    unanswered_share: float | None = None
    flags: tuple[str, ...] = field(default=())


def choices_of(question_type: str, answer: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The option ids a stored answer chose (see ``quiz.grading`` for the answer shapes)."""
    if not answer:
        return ()
    if question_type == "single":
        choice = answer.get("choice")
        return (str(choice),) if choice is not None else ()
    if question_type == "multiple":
        return tuple(str(c) for c in answer.get("choices") or ())
    if question_type == "true_false":
        value = answer.get("value")
        return () if value is None else (("true",) if value else ("false",))
    return ()


def group_size(attempt_count: int, share: float = GROUP_SHARE) -> int:
    """How many attempts form the upper (and the lower) group; 0 when there are too few to compare."""
    if attempt_count < 2:
        return 0
    size = max(1, math.floor(attempt_count * share + 0.5))
    return min(size, attempt_count // 2)


def upper_lower(attempts: Sequence[AttemptRecord], share: float = GROUP_SHARE) -> tuple[list[AttemptRecord],
                                                                                        list[AttemptRecord]]:
    """The upper and lower groups by total percent; they never share an attempt.

    Of equal totals the earlier attempt (lower id) ranks higher, so the split is reproducible.
    """
    size = group_size(len(attempts), share)
    if size == 0:
        return [], []
    ranked = sorted(attempts, key=lambda a: (-a.percent, a.attempt_id))
    return ranked[:size], ranked[::-1][:size]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def flags_for(facility: float | None, discrimination: float | None) -> tuple[str, ...]:
    flags = []
    if facility is not None and facility < FACILITY_LOW:
        flags.append(TOO_HARD)
    if facility is not None and facility > FACILITY_HIGH:
        flags.append(TOO_EASY)
    if discrimination is not None and discrimination < DISCRIMINATION_LOW:
        flags.append(LOW_DISCRIMINATION)
    return tuple(flags)


def question_statistics(questions: Sequence[QuestionInfo], attempts: Sequence[AttemptRecord],
                        share: float = GROUP_SHARE) -> list[QuestionStats]:
    """Statistics for each of ``questions`` (in the given order) over ``attempts``."""
    upper, lower = upper_lower(attempts, share)
    result = []
    for question in questions:
        shown = [a.items[question.slug] for a in attempts if question.slug in a.items]
        facility = _mean(item.fraction for item in shown)
        high = _mean(a.items[question.slug].fraction for a in upper if question.slug in a.items)
        low = _mean(a.items[question.slug].fraction for a in lower if question.slug in a.items)
        discrimination = high - low if high is not None and low is not None else None
        options: tuple[OptionShare, ...] = ()
        unanswered_share = None
        if question.type in OPTION_TYPES and shown:
            counts = dict.fromkeys(question.options, 0)
            for item in shown:
                for choice in set(item.choices):
                    if choice in counts:
                        counts[choice] += 1
            options = tuple(OptionShare(o, n, n / len(shown), o in question.correct) for o, n in counts.items())
            unanswered_share = sum(1 for item in shown if not item.answered) / len(shown)
        result.append(QuestionStats(
            slug=question.slug, type=question.type, attempts=len(shown),
            answered=sum(1 for item in shown if item.answered), facility=facility, discrimination=discrimination,
            options=options, unanswered_share=unanswered_share, flags=flags_for(facility, discrimination),
        ))
    return result


# --- CSV ---------------------------------------------------------------------------------------------

#: A spreadsheet treats a cell starting with one of these as a formula (or a DDE command).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet will execute.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe (OWASP's advice).
    Numbers are written as numbers: a negative discrimination index stays a number a spreadsheet can use.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(round(value, 4)) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheets read Cyrillic and Kazakh letters), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
