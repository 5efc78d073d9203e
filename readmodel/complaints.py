"""The complaint register: every complaint a case received, its deadline and its answer.

Written by the case (`readmodel.writes.upsert_complaint`, one row per complaint, upserted by
its key: received, then answered); read by supervisors (`list_complaints`) and the dashboard
(`complaint_counts`). What the customer asks and what the bank answered are free text: sealed
at rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, UniqueConstraint, func
from sqlmodel import Field, SQLModel, col, select

from readmodel.engine import Database
from readmodel.sealing import Sealed


class ComplaintRegisterRow(SQLModel, table=True):
    __tablename__ = "complaints"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str
    case_id: str = Field(index=True)
    category: str
    channel: str
    asks: str = Field(sa_type=Sealed("complaints.asks"))
    received_at: datetime = Field(index=True)
    deadline: datetime = Field(index=True)
    pauses_collection: bool
    outcome: str | None = None
    response: str | None = Field(default=None, sa_type=Sealed("complaints.response"))
    resolved_at: datetime | None = Field(default=None, index=True)
    resolved_by: str | None = None

    def overdue(self, now: datetime) -> bool:
        """Open past its deadline at `now`."""
        return self.resolved_at is None and self.deadline < now


# Which complaints a list shows: every one, the open ones, the answered ones, or the open ones
# past their deadline.
Show = Literal["all", "open", "answered", "overdue"]
SHOWN: tuple[Show, ...] = ("open", "overdue", "answered", "all")


async def list_complaints(
    db: Database,
    *,
    show: Show = "all",
    now: datetime,
    case_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ComplaintRegisterRow]:
    """The register, soonest deadline first; `show` as of `now`."""
    query = select(ComplaintRegisterRow).order_by(
        col(ComplaintRegisterRow.deadline), col(ComplaintRegisterRow.key)
    )
    resolved = col(ComplaintRegisterRow.resolved_at)
    if show == "answered":
        query = query.where(resolved.is_not(None))
    elif show in ("open", "overdue"):
        query = query.where(resolved.is_(None))
    if show == "overdue":
        query = query.where(col(ComplaintRegisterRow.deadline) < now)
    if case_id:
        query = query.where(ComplaintRegisterRow.case_id == case_id)
    async with db.session() as session:
        return list(await session.exec(query.offset(offset).limit(limit)))


@dataclass(frozen=True)
class ComplaintCounts:
    """Complaints received in [`since`, `until`), and the open ones at `until`."""

    received: int
    answered: int  # of those received, answered by `until`
    upheld: int  # answered upheld or partly upheld
    open: int  # all open at `until`, whenever received
    overdue: int  # open at `until` past their deadline


async def complaint_counts(db: Database, *, since: datetime, until: datetime) -> ComplaintCounts:
    table = ComplaintRegisterRow
    received_in = (col(table.received_at) >= since) & (col(table.received_at) < until)
    answered = col(table.resolved_at).is_not(None) & (col(table.resolved_at) < until)
    upheld = answered & col(table.outcome).in_(("upheld", "partly_upheld"))
    still_open = col(table.resolved_at).is_(None) | (col(table.resolved_at) >= until)
    still_open = still_open & (col(table.received_at) < until)
    overdue = still_open & (col(table.deadline) < until)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    received_then = select(
        count(received_in), count(received_in & answered), count(received_in & upheld)
    )
    open_now = select(count(still_open), count(overdue))
    async with db.session() as session:
        received, answered_n, upheld_n = (await session.exec(received_then)).one()
        open_n, overdue_n = (await session.exec(open_now)).one()
    return ComplaintCounts(received, answered_n, upheld_n, open_n, overdue_n)
