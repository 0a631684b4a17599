"""The counting rules of the reports, on plain facts (no database): what counts in a period and how."""

from __future__ import annotations

from datetime import date

import pytest

from cbt.reports import charts
from cbt.reports.aggregate import Fact, Period, Stats, fold, is_active, month_series, rollup
from tests.reports.world import at


def fact(user: int = 1, course: int = 1, site: int | None = 1, *, enrolled: str | None = "2026-01-10",
         lesson: str | None = None, attempt: str | None = None, completed: str | None = None,
         exam_passed: str | None = None, best: float | None = None, seconds: int = 0, has_exam: bool = True) -> Fact:
    moment = lambda day: at(day) if day else None  # noqa: E731
    starts = [at(day) for day in (lesson, attempt) if day]  # the standing keeps the earlier (see test_reports)
    return Fact(user, course, site, 1, 1, moment(enrolled), min(starts) if starts else None, moment(completed),
                moment(exam_passed), best, seconds, has_exam)


def test_open_period_counts_every_step_reached():
    facts = [
        fact(1, lesson="2026-01-10", completed="2026-02-01", exam_passed="2026-02-01", best=80, seconds=600),
        fact(2, attempt="2026-01-11", best=40, seconds=0),
        fact(3),
    ]
    total = fold(facts, ("course",)).total
    assert (total.enrolled, total.started, total.completed, total.passed, total.active) == (3, 2, 1, 1, 3)
    assert total.average_best_score == pytest.approx(60.0)
    assert total.average_minutes == pytest.approx(600 / 60 / 3)


def test_a_course_without_exam_is_passed_by_completing_it():
    assert fact(completed="2026-02-01", has_exam=False).passed_at == at("2026-02-01")
    assert fact(completed="2026-02-01", has_exam=True).passed_at is None


def test_each_step_counts_in_the_period_of_its_own_date():
    facts = [fact(1, enrolled="2026-01-10", lesson="2026-01-10", completed="2026-02-03", exam_passed="2026-02-03",
                  best=80, seconds=600),
             fact(2, enrolled="2026-02-05", lesson="2026-02-05", best=50, seconds=1200),
             fact(3, enrolled="2026-01-20")]
    total = fold(facts, ("course",), Period(date(2026, 2, 1), date(2026, 2, 28))).total
    assert (total.enrolled, total.started, total.completed, total.passed, total.active) == (1, 1, 1, 1, 2)
    assert total.average_best_score == pytest.approx(65.0)  # trainee 3 has no event in February


def test_period_end_day_is_included_and_next_day_is_not():
    february = Period(date(2026, 2, 1), date(2026, 2, 28))
    assert february.contains(at("2026-02-28 23:59"))
    assert not february.contains(at("2026-03-01 00:00"))
    assert not february.contains(at("2026-01-31 23:59"))
    assert not is_active(fact(enrolled="2026-03-01"), february)
    assert is_active(fact(enrolled="2026-02-28"), february)


def test_groups_by_several_dimensions():
    facts = [fact(1, 1, 1), fact(2, 1, 2), fact(3, 2, 1), fact(4, 1, 1)]
    report = fold(facts, ("course", "site"))
    assert {k: s.enrolled for k, s in report.groups.items()} == {(1, 1): 2, (1, 2): 1, (2, 1): 1}
    with pytest.raises(ValueError):
        fold(facts, ("colour",))


def test_rollup_adds_disjoint_groups_into_coarser_ones():
    """What SQL returns per (course, site) merges into per-course figures equal to folding the facts."""
    facts = [fact(1, 1, 1, lesson="2026-01-11", best=80, seconds=600), fact(2, 1, 2, best=40, seconds=60),
             fact(3, 2, 1, completed="2026-02-01", has_exam=False), fact(4, 1, 1)]
    fine = fold(facts, ("course", "site"))
    coarse = rollup(("course", "site"), fine.groups.items(), ("course",))
    reference = fold(facts, ("course",))
    assert coarse.groups == reference.groups
    assert coarse.total == reference.total
    assert rollup(("course", "site"), [], ("site",)).total == Stats()
    with pytest.raises(ValueError):
        rollup(("course",), [], ("site",))


def test_month_series_fills_gaps_and_follows_the_period():
    report = fold([fact(1, completed="2026-01-05"), fact(2, completed="2026-03-05"),
                   fact(3, completed="2026-03-20")], ("course",))
    assert month_series(report.by_month) == [((2026, 1), 1), ((2026, 2), 0), ((2026, 3), 2)]
    period = Period(date(2025, 12, 1), date(2026, 1, 31))
    assert month_series(fold([fact(1, completed="2026-01-05")], ("course",), period).by_month, period) == [
        ((2025, 12), 0), ((2026, 1), 1)]
    assert month_series({}) == []


def test_chart_geometry_scales_bars_to_the_largest_value():
    chart = charts.columns([("Jan", 2), ("Feb", 0), ("Mar", 5)])
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert chart.ticks[0][1] == 0 and chart.ticks[-1][1] >= 5
    rows = charts.rows([("Kordai", 4), ("Ak-Zhol", 1)])
    assert rows.horizontal and rows.bars[0].width == pytest.approx(4 * rows.bars[1].width)
