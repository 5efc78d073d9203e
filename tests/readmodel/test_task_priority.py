"""A collector's queue by priority, on SQLite and PostgreSQL: overdue first, then by the day the
deadline falls in, and within it a promise falling due within two days, the larger balance,
the more days past due; the other direction is the exact reverse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.tasks import TaskKind, TaskStatus
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import TaskFilter, TaskSort
from readmodel.tables import CaseRow, HumanTaskRow, PromiseRecordRow

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def a_case(name: str, *, outstanding: int, dpd: int = 30) -> CaseRow:
    return CaseRow(
        case_id=f"case-{name}",
        account_no=name,
        customer_ref=f"C-{name}",
        stage="collector",
        segment="standard",
        score=500,
        strategy_version="default@1",
        days_past_due=0,
        due_origin=NOW - DAY * dpd - HOUR,
        currency="CNY",
        outstanding_minor=outstanding,
        overdue_minor=outstanding // 2,
        opened_at=NOW - DAY * 40,
        updated_at=NOW - DAY,
    )


def a_task(n: int, case: str, due_in: timedelta) -> HumanTaskRow:
    return HumanTaskRow(
        idempotency_key=f"case-{case}/t{n}",
        case_id=f"case-{case}",
        kind=TaskKind.COLLECTOR_CALL.value,
        queue="operations",
        status=TaskStatus.CLAIMED.value,
        assignee="ann.li",
        deadline=NOW + due_in,
        created_at=NOW - DAY,
    )


def a_promise(case: str, due_in_days: int, status: str = "open") -> PromiseRecordRow:
    return PromiseRecordRow(
        idempotency_key=f"case-{case}/p1",
        case_id=f"case-{case}",
        amount_minor=10_000,
        currency="CNY",
        promised_date=(NOW + DAY * due_in_days).date(),
        made_at=NOW - DAY,
        status=status,
    )


async def test_a_collectors_queue_by_priority(database: Database) -> None:
    rows = [
        a_case("A", outstanding=100),
        a_case("B", outstanding=900),
        a_case("C", outstanding=50),
        a_case("D", outstanding=5_000, dpd=10),
        a_case("E", outstanding=5_000, dpd=90),
        a_case("F", outstanding=999_999),
        a_case("G", outstanding=10),
        a_case("H", outstanding=10),
        a_promise("C", 1),  # falls due tomorrow: first of its day
        a_promise("G", 1),  # so does this one, but its task is weeks away
        a_promise("H", -1, status="broken"),  # no longer a promise
        a_task(1, "A", -HOUR),  # overdue
        a_task(2, "B", -5 * HOUR),  # overdue, the larger balance
        a_task(3, "C", 3 * HOUR),
        a_task(4, "D", 5 * HOUR),
        a_task(5, "E", 6 * HOUR),  # as D's balance, more days past due
        a_task(6, "F", 2 * DAY + HOUR),  # the largest balance, but two days off
        a_task(7, "G", 20 * DAY),
        a_task(8, "H", 30 * HOUR),
        a_task(9, "none", 4 * HOUR),  # its case's row not written yet
        a_task(10, "A", -2 * HOUR),  # another of A's, overdue longer: by the deadline
    ]
    async with database.session() as session:
        session.add_all(rows)

    async def listed(descending: bool) -> list[int]:
        found = await queries.task_page(
            database,
            where=TaskFilter(assignee="ann.li"),
            sort=TaskSort.PRIORITY,
            descending=descending,
            now=NOW,
        )
        return [int(row.idempotency_key.rsplit("/t", 1)[1]) for row in found.rows]

    expected = [2, 10, 1, 3, 5, 4, 9, 8, 6, 7]
    assert await listed(False) == expected
    assert await listed(True) == expected[::-1]
    by_list = await queries.list_tasks(database, sort=TaskSort.PRIORITY, now=NOW, limit=3)
    assert [row.idempotency_key for row in by_list] == ["case-B/t2", "case-A/t10", "case-A/t1"]
