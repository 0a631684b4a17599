"""Completion statistics: what counts, stated once in Python. PURE: no Flask, no database.

:func:`fold` is the reference: it counts :class:`Fact` rows (one per trainee and course) by the rules below,
is tested in milliseconds, and is what the SQL of :mod:`cbt.reports.queries` must agree with (pages and
exports count in SQL, one grouped statement, because folding 30,000 facts in Python per page view is too
slow; ``tests/reports/test_reports.py`` checks both give the same numbers). :func:`rollup` merges the groups
SQL returns into coarser ones: each fact is in exactly one group, so the figures simply add up.

What counts, for one trainee in one course (a :class:`Fact`), within a period:

- *enrolled* when the enrolment was made in the period;
- *started* when the first lesson was opened or the first quiz begun in the period;
- *completed* when the completion was recorded in the period;
- *passed* when the final exam was first passed in the period (for a course without an exam, passing is
  completing).

Averages (best exam score, time spent) are over the trainees with at least one of these events in the
period ("active"); without a period, over every enrolled trainee. Dates are UTC; a period's ``end`` day
is included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

#: The dimensions a report can be grouped by, in display order.
DIMENSIONS = ("course", "site", "agency", "country")


@dataclass(frozen=True)
class Fact:
    """One trainee's standing in one course."""

    user_id: int
    course_id: int
    site_id: int | None
    agency_id: int | None
    country_id: int | None
    enrolled_at: datetime | None
    #: The first lesson opened or the first quiz begun, whichever came first.
    started_at: datetime | None
    completed_at: datetime | None
    #: When the final exam was first passed (None: not passed, or the course has no exam).
    exam_passed_at: datetime | None
    #: Best finished final-exam percentage.
    best_score: float | None
    seconds_spent: int
    has_exam: bool

    @property
    def passed_at(self) -> datetime | None:
        return self.exam_passed_at if self.has_exam else self.completed_at

    def key(self, dimension: str) -> int | None:
        return {"course": self.course_id, "site": self.site_id, "agency": self.agency_id,
                "country": self.country_id}[dimension]


@dataclass(frozen=True)
class Period:
    """Inclusive calendar days in UTC; either end may be open."""

    start: date | None = None
    end: date | None = None

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if self.start is not None and moment < datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC):
            return False
        if self.end is not None:
            after = datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC) + timedelta(days=1)
            if moment >= after:
                return False
        return True


@dataclass
class Stats:
    enrolled: int = 0
    started: int = 0
    completed: int = 0
    passed: int = 0
    #: Trainees with any counted event (the population of the averages).
    active: int = 0
    score_sum: float = 0.0
    score_count: int = 0
    seconds_sum: int = 0

    @property
    def average_best_score(self) -> float | None:
        return self.score_sum / self.score_count if self.score_count else None

    @property
    def average_minutes(self) -> float | None:
        return self.seconds_sum / 60 / self.active if self.active else None

    @property
    def completion_rate(self) -> float | None:
        """Completed per enrolled, in percent (can exceed 100 when completions of earlier enrolments fall in
        the period)."""
        return 100 * self.completed / self.enrolled if self.enrolled else None

    def merge(self, other: Stats) -> None:
        """Add the figures of a disjoint group (each fact is counted in one group only)."""
        self.enrolled += other.enrolled
        self.started += other.started
        self.completed += other.completed
        self.passed += other.passed
        self.active += other.active
        self.score_sum += other.score_sum
        self.score_count += other.score_count
        self.seconds_sum += other.seconds_sum

    def add(self, fact: Fact, period: Period) -> bool:
        """Count ``fact``; False when nothing about it falls in the period."""
        if period.is_open:
            flags = (fact.enrolled_at is not None, fact.started_at is not None, fact.completed_at is not None,
                     fact.passed_at is not None)
        else:
            flags = (period.contains(fact.enrolled_at), period.contains(fact.started_at),
                     period.contains(fact.completed_at), period.contains(fact.passed_at))
        if not any(flags):
            return False
        self.enrolled += flags[0]
        self.started += flags[1]
        self.completed += flags[2]
        self.passed += flags[3]
        self.active += 1
        if fact.best_score is not None:
            self.score_sum += fact.best_score
            self.score_count += 1
        self.seconds_sum += fact.seconds_spent
        return True


def is_active(fact: Fact, period: Period) -> bool:
    """Whether anything about ``fact`` falls in ``period`` (the rows a filtered export keeps)."""
    return Stats().add(fact, period)


@dataclass
class Report:
    """Stats per group key (a tuple of ids in the order of ``dimensions``) and in total."""

    dimensions: tuple[str, ...]
    groups: dict[tuple[int | None, ...], Stats] = field(default_factory=dict)
    total: Stats = field(default_factory=Stats)
    #: Completions per (year, month), for the chart over time.
    by_month: dict[tuple[int, int], int] = field(default_factory=dict)


def fold(facts: Iterable[Fact], dimensions: Sequence[str], period: Period = Period()) -> Report:
    """Group and count ``facts`` (see the module docstring for what counts)."""
    unknown = set(dimensions) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}")
    report = Report(tuple(dimensions))
    for fact in facts:
        if not report.total.add(fact, period):
            continue
        key = tuple(fact.key(d) for d in report.dimensions)
        report.groups.setdefault(key, Stats()).add(fact, period)
        if fact.completed_at is not None and (period.is_open or period.contains(fact.completed_at)):
            month = (fact.completed_at.year, fact.completed_at.month)
            report.by_month[month] = report.by_month.get(month, 0) + 1
    return report


def rollup(keys: Sequence[str], groups: Iterable[tuple[tuple[int | None, ...], Stats]],
           dimensions: Sequence[str]) -> Report:
    """Merge ``groups`` (keyed by the dimensions ``keys``) into a report by ``dimensions`` (a subset)."""
    unknown = set(dimensions) - set(keys)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}")
    positions = [list(keys).index(d) for d in dimensions]
    report = Report(tuple(dimensions))
    for key, stats in groups:
        report.total.merge(stats)
        target = tuple(key[p] for p in positions)
        report.groups.setdefault(target, Stats()).merge(stats)
    return report


def month_series(by_month: dict[tuple[int, int], int], period: Period = Period(),
                 limit: int = 24) -> list[tuple[tuple[int, int], int]]:
    """Every month from the first to the last (or the period's bounds), zeros included, the last ``limit``."""
    if not by_month and (period.start is None or period.end is None):
        return []
    months = sorted(by_month)
    first = (period.start.year, period.start.month) if period.start else months[0]
    last = (period.end.year, period.end.month) if period.end else months[-1]
    series = []
    year, month = first
    while (year, month) <= last:
        series.append(((year, month), by_month.get((year, month), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return series[-limit:]
