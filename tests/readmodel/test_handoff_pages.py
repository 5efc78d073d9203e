"""An inbox in pages: newest first, equal times in the order of the row's id, by status in the
order a handoff moves through them, one department's and one status's count, no dossier
loaded, the empty page past the end; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from models.departments import HandoffWrite
from readmodel import queries, writes
from readmodel.engine import Database
from readmodel.queries import HandoffSort, Page
from readmodel.tables import HandoffRow
from tests.readmodel.test_writes import OPENED_AT

# Risk handoff n: its status, hours after opening it was made (4 and 5 at the same time).
RISK = {
    1: ("decided", 1),
    2: ("open", 2),
    3: ("cancelled", 3),
    4: ("escalated", 4),
    5: ("open", 4),
    6: ("decided", 5),
    7: ("open", 6),
}


async def seed(db: Database) -> None:
    for n, (status, hours) in RISK.items():
        at = OPENED_AT + timedelta(hours=hours)
        write = HandoffWrite(f"risk-{n}", f"case-{n}", "risk", status, "why", at, {"n": n})
        await writes.write_handoff(db, write=write)
    for n in (8, 9):  # newer than them all, but another department's
        at = OPENED_AT + timedelta(hours=10 + n)
        write = HandoffWrite(f"legal-{n}", f"case-{n}", "legal", "referred", "why", at)
        await writes.write_handoff(db, write=write)


def numbers(page: Page[HandoffRow]) -> list[int]:
    return [int(row.idempotency_key.split("-")[1]) for row in page.rows]


async def test_an_inbox_in_pages_newest_first(database: Database) -> None:
    await seed(database)

    async def page(
        n: int,
        *,
        sort: HandoffSort = HandoffSort.CREATED,
        descending: bool = True,
        per_page: int = 3,
        status: str | None = None,
    ) -> Page[HandoffRow]:
        return await queries.handoff_page(
            database,
            department="risk",
            status=status,
            sort=sort,
            descending=descending,
            page=n,
            per_page=per_page,
        )

    first, second, last = await page(1), await page(2), await page(3)
    assert [numbers(first), numbers(second), numbers(last)] == [[7, 6, 5], [4, 3, 2], [1]]
    assert (first.total, first.pages, last.number) == (7, 3, 3)
    assert "dossier" in inspect(first.rows[0]).unloaded
    past = await page(99)
    assert (past.rows, past.total) == ([], 7)
    oldest = await page(1, descending=False)
    assert numbers(oldest) == [1, 2, 3]
    by_status = await page(1, sort=HandoffSort.STATUS, descending=False, per_page=7)
    assert numbers(by_status) == [2, 5, 7, 4, 1, 6, 3]  # open, escalated, decided, cancelled
    turned = await page(1, sort=HandoffSort.STATUS, descending=True, per_page=7)
    assert numbers(turned) == [3, 6, 1, 4, 7, 5, 2]
    still_open = await page(1, status="open")
    assert (numbers(still_open), still_open.total) == ([7, 5, 2], 3)
    legal = await queries.handoff_page(database, department="legal", page=1, per_page=50)
    assert (numbers(legal), legal.total) == ([9, 8], 2)
