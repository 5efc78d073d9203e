"""A search typed in days past due is asked of the origin cases keep (`OldestDueDate`), and of
`DaysPastDue` for runs from before it; what cannot be asked is refused with what to write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from operations.case_search import SearchError, translate

NOW = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)


def at_least(days: int, day: timedelta = timedelta(days=1)) -> str:
    return f"OldestDueDate <= '{(NOW - day * days):%Y-%m-%dT%H:%M:%S.%fZ}'"


def below(days: int, day: timedelta = timedelta(days=1)) -> str:
    return f"OldestDueDate > '{(NOW - day * days):%Y-%m-%dT%H:%M:%S.%fZ}'"


def old(comparison: str) -> str:
    return f"OldestDueDate IS NULL AND DaysPastDue {comparison}"


def test_the_readme_search_is_asked_of_the_origin() -> None:
    typed = 'CaseStage="collector" AND DaysPastDue > 60'
    assert translate(typed, now=NOW) == (
        f'CaseStage="collector" AND (({at_least(61)}) OR ({old("> 60")}))'
    )


@pytest.mark.parametrize(
    ("typed", "origin", "legacy"),
    [
        ("DaysPastDue >= 30", at_least(30), ">= 30"),
        ("DaysPastDue > 30", at_least(31), "> 30"),
        ("DaysPastDue <= 30", below(31), "<= 30"),
        ("DaysPastDue < 30", below(30), "< 30"),
        ("DaysPastDue = 30", f"{at_least(30)} AND {below(31)}", "= 30"),
        ("DaysPastDue != 30", f"{below(30)} OR {at_least(31)}", "!= 30"),
        ("DaysPastDue<>30", f"{below(30)} OR {at_least(31)}", "<> 30"),
        ("`DaysPastDue`>=30", at_least(30), ">= 30"),
    ],
)
def test_each_comparison_counts_whole_days_from_the_origin(
    typed: str, origin: str, legacy: str
) -> None:
    assert translate(typed, now=NOW) == f"(({origin}) OR ({old(legacy)}))"


def test_between_and_a_demo_day() -> None:
    minute = timedelta(minutes=1)
    assert translate("DaysPastDue BETWEEN 31 and 60", now=NOW, day=minute) == (
        f"(({at_least(31, minute)} AND {below(61, minute)}) OR ({old('BETWEEN 31 AND 60')}))"
    )


def test_text_in_quotes_and_other_attributes_stay_as_typed() -> None:
    typed = "CaseSegment = 'DaysPastDue > 3' AND MyDaysPastDue > 3 AND BalanceBand = \"1k-10k\""
    assert translate(typed, now=NOW) == typed


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("DaysPastDue IN (1, 2)", "compare DaysPastDue with a whole number"),
        ("30 < DaysPastDue", "compare DaysPastDue with a whole number"),
        ("DaysPastDue > -1", "compare DaysPastDue with a whole number"),
        ("DaysPastDue > 1.5", "compare DaysPastDue with a whole number"),
        ("DaysPastDue IS NULL", "compare DaysPastDue with a whole number"),
        ("CaseStage = 'early' ORDER BY DaysPastDue", "compare DaysPastDue with a whole number"),
        ("DaysPastDue > 36501", "out of range"),
        ("CaseStage = 'early') OR (WorkflowType = 'RiskReview'", "parentheses"),
        ("(CaseStage = 'early'", "parentheses"),
    ],
)
def test_what_cannot_be_asked_is_refused_with_what_to_write(typed: str, says: str) -> None:
    with pytest.raises(SearchError, match=r"\w") as refused:
        translate(typed, now=NOW)
    assert says in str(refused.value)
