"""The requests waiting for a second person, in pages: the longest waiting first, equal times
in the order of the request's id, only those still pending counted; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from operations import approvals
from operations.approvals import ApprovalStatus
from readmodel.engine import Database
from readmodel.tables import ApprovalRow
from tests.readmodel.test_writes import OPENED_AT

# Request n: its status, minutes after opening it was asked (3 and 4 at the same time).
REQUESTS = {
    1: (ApprovalStatus.PENDING, 5),
    2: (ApprovalStatus.PENDING, 1),
    3: (ApprovalStatus.PENDING, 3),
    4: (ApprovalStatus.PENDING, 3),
    5: (ApprovalStatus.REJECTED, 0),
    6: (ApprovalStatus.PENDING, 9),
    7: (ApprovalStatus.APPROVED, 2),
}


async def seed(db: Database) -> None:
    async with db.session() as session:
        session.add_all(
            ApprovalRow(
                id=n,
                case_id=f"case-{n}",
                action="close",
                input={"closure": "written_off"},
                needs="writing off a case",
                status=status,
                requested_by="sup.sam",
                requested_via="console",
                requested_roles="supervisor",
                requested_at=OPENED_AT + timedelta(minutes=minutes),
            )
            for n, (status, minutes) in REQUESTS.items()
        )


async def test_the_pending_requests_in_pages_longest_waiting_first(database: Database) -> None:
    await seed(database)
    first = await approvals.pending_page(database, page=1, per_page=3)
    second = await approvals.pending_page(database, page=2, per_page=3)
    assert [row.id for row in first.rows] == [2, 3, 4]
    assert [row.id for row in second.rows] == [1, 6]
    assert (first.total, first.pages, second.number) == (5, 2, 2)
    newest = await approvals.pending_page(database, descending=True, page=1, per_page=3)
    assert [row.id for row in newest.rows] == [6, 1, 4]
    past = await approvals.pending_page(database, page=3, per_page=3)
    assert (past.rows, past.total) == ([], 5)
    # The whole list, as the API and the CLI read it, in the same order.
    assert [row.id for row in await approvals.pending(database)] == [2, 3, 4, 1, 6]
