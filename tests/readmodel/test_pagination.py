"""The case and task lists in pages: each column's order in SQL, equal values in the order of
the row's id, the last partial page and the empty one past the end, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from models.case_writes import CaseWrite
from models.contracts import ClosureReason, Stage
from models.tasks import TaskKind, TaskStatus
from readmodel import queries, writes
from readmodel.engine import Database
from readmodel.queries import CaseFilter, CaseSort, TaskFilter, TaskSort
from readmodel.tables import CaseRow, HumanTaskRow
from tests.readmodel.test_queries import task
from tests.readmodel.test_writes import OPENED_AT, snapshot

NOW = OPENED_AT + timedelta(days=10, hours=2)
DAY = timedelta(days=1)
# Case n: days past due at NOW, outstanding, stage, hours after opening it last changed.
CASES = {
    1: (40, 500_00, Stage.EARLY, 1),
    2: (70, 900_00, Stage.COLLECTOR, 2),
    3: (40, 900_00, Stage.LEGAL, 2),
    4: (12, 100_00, Stage.EARLY, 3),
    5: (70, 500_00, Stage.ASSESSMENT, 4),
    6: (95, 2_000_00, Stage.RISK_REVIEW, 5),
}
# 7: paid at 50 days past due, its figure stands; 8: exactly 45 days at NOW, to the microsecond;
# 9: a microsecond short of 45 days, so 44; 10: a demo strategy's minute-long days, 600 of them.
# These four keep the sample's balance (3.5 billion fen) and, but 7, stage early.


def account(n: int) -> str:
    return f"62220000000000{n:02d}"


async def write(db: Database, n: int, *, hours: int, **changes: object) -> None:
    written = replace(
        snapshot(OPENED_AT + timedelta(hours=hours)),
        case_id=f"case-{account(n)}",
        account_no=account(n),
        **changes,  # type: ignore[arg-type]
    )
    await writes.write_case(db, write=CaseWrite(snapshot=written))


async def seed_cases(db: Database) -> None:
    for n, (dpd, outstanding, stage, hours) in CASES.items():
        origin = NOW - DAY * dpd - timedelta(hours=1)
        await write(
            db, n, hours=hours, due_origin=origin, stage=stage, outstanding_minor=outstanding
        )
    paid = {"closed_reason": ClosureReason.PAID, "stage": Stage.CLOSED, "days_past_due": 50}
    await write(db, 7, hours=6, **paid)
    await write(db, 8, hours=7, due_origin=NOW - DAY * 45)
    await write(db, 9, hours=8, due_origin=NOW - DAY * 45 + timedelta(microseconds=1))
    minutes = NOW - timedelta(minutes=600, seconds=30)
    await write(db, 10, hours=9, due_origin=minutes, day_seconds=60)


def numbers(rows: list[CaseRow]) -> list[int]:
    return [int(row.account_no[-2:]) for row in rows]


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        (CaseSort.DAYS_PAST_DUE, [4, 1, 3, 9, 8, 7, 2, 5, 6, 10]),
        (CaseSort.OUTSTANDING, [4, 1, 5, 2, 3, 6, 7, 8, 9, 10]),
        (CaseSort.OVERDUE, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        (CaseSort.STAGE, [5, 1, 4, 8, 9, 10, 2, 6, 3, 7]),
        (CaseSort.UPDATED, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    ],
)
async def test_cases_sort_by_each_column_equal_values_by_id(
    database: Database, sort: CaseSort, ascending: list[int]
) -> None:
    await seed_cases(database)

    async def listed(descending: bool) -> list[CaseRow]:
        return await queries.search_cases(database, sort=sort, descending=descending, now=NOW)

    assert numbers(await listed(False)) == ascending
    assert numbers(await listed(True)) == ascending[::-1]


async def test_the_days_past_due_order_counts_as_the_page_shows(database: Database) -> None:
    """The order's count in SQL is the figure the row shows: to the microsecond, in the row's
    own day length, and a closed case's written figure."""
    await seed_cases(database)
    rows = await queries.search_cases(
        database, sort=CaseSort.DAYS_PAST_DUE, descending=False, now=NOW
    )
    assert [r.days_past_due for r in rows] == [12, 40, 40, 44, 45, 50, 70, 70, 95, 600]


async def test_cases_in_pages_the_last_partial_and_past_the_end_empty(database: Database) -> None:
    await seed_cases(database)

    async def page(number: int, **filters: object) -> tuple[list[int], int, int]:
        found = await queries.case_page(
            database,
            where=CaseFilter(**filters),  # type: ignore[arg-type]
            sort=CaseSort.DAYS_PAST_DUE,
            descending=True,
            page=number,
            per_page=4,
            now=NOW,
        )
        return numbers(found.rows), found.total, found.pages

    assert await page(1) == ([10, 6, 5, 2], 10, 3)
    assert await page(2) == ([7, 8, 9, 3], 10, 3)
    assert await page(3) == ([1, 4], 10, 3)
    assert await page(4) == ([], 10, 3)
    assert await page(10**30) == ([], 10, 3)  # an offset beyond any integer column: none asked
    assert await page(2, stage=Stage.EARLY.value) == ([4], 5, 2)
    assert await page(1, min_dpd=45, max_dpd=70) == ([5, 2, 7, 8], 4, 1)
    assert await page(1, account_prefix="nobody") == ([], 0, 1)
    offset = await queries.search_cases(database, sort=CaseSort.UPDATED, limit=3, offset=8, now=NOW)
    assert numbers(offset) == [2, 1]


def when(days: int, hours: int = 0) -> datetime:
    return OPENED_AT + timedelta(days=days, hours=hours)


TASKS = (
    task(1, deadline=when(9)),
    task(2, kind=TaskKind.FIELD_VISIT, status=TaskStatus.CLAIMED, deadline=when(8)),
    task(3, deadline=when(8)),
    task(4, kind=TaskKind.ESCALATION, status=TaskStatus.ESCALATED, queue="supervisor"),
    task(5, kind=TaskKind.COMPLAINT, status=TaskStatus.DONE, created_at=when(0, 1)),
)


def keys(rows: list[HumanTaskRow]) -> list[int]:
    return [int(row.idempotency_key.rsplit("/t", 1)[1]) for row in rows]


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        (TaskSort.DEADLINE, [5, 4, 2, 3, 1]),
        (TaskSort.CREATED, [1, 2, 3, 4, 5]),
        (TaskSort.KIND, [1, 3, 2, 4, 5]),
        (TaskSort.STATUS, [1, 3, 2, 5, 4]),
    ],
)
async def test_tasks_sort_by_each_column_equal_values_by_id(
    database: Database, sort: TaskSort, ascending: list[int]
) -> None:
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), tasks=TASKS))

    async def listed(descending: bool) -> list[int]:
        return keys(await queries.list_tasks(database, sort=sort, descending=descending))

    assert await listed(False) == ascending
    assert await listed(True) == ascending[::-1]


async def test_tasks_in_pages_the_last_partial_and_past_the_end_empty(database: Database) -> None:
    await writes.write_case(database, write=CaseWrite(snapshot=snapshot(), tasks=TASKS))

    async def page(number: int, **filters: object) -> tuple[list[int], int, int]:
        found = await queries.task_page(
            database,
            where=TaskFilter(**filters),  # type: ignore[arg-type]
            page=number,
            per_page=2,
        )
        return keys(found.rows), found.total, found.pages

    assert await page(1) == ([5, 4], 5, 3)
    assert await page(3) == ([1], 5, 3)
    assert await page(4) == ([], 5, 3)
    assert await page(10**30) == ([], 5, 3)
    active = ["open", "claimed"]
    assert await page(2, status=active) == ([1], 3, 2)
    assert await page(1, status=active, queue=["supervisor"]) == ([], 0, 1)
    assert keys(await queries.list_tasks(database, limit=2, offset=3)) == [3, 1]
