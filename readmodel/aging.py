"""Days past due as the read model answers them: an open case's count runs on between its
writes (it no longer wakes every day to rewrite it), so every reader counts it when it reads,
from the row's origin (`CaseRow.due_origin`) in the row's days (`day_seconds`). A closed case,
or a row written before the origin was kept, shows the figure it was written with.

In SQL, "at least n days past due" is an origin at or before now - n days: a datetime computed
here for each day length in use (one, unless a demo strategy shares the database), never a
database's date arithmetic, which SQLite and PostgreSQL spell differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from readmodel.tables import CaseRow

Row = TypeVar("Row", bound=CaseRow)


def days_past_due(row: CaseRow, now: datetime) -> int:
    return count(
        row.days_past_due,
        row.due_origin,
        row.day_seconds,
        closed=row.closed_reason is not None,
        at=now,
    )


def count(
    written: int, origin: datetime | None, day_seconds: int, *, closed: bool, at: datetime
) -> int:
    """Days past due at `at` of a row written with `written` days and `origin`."""
    if closed or origin is None:
        return written
    return max(0, (at - origin) // timedelta(seconds=day_seconds))


def aged(rows: Iterable[Row], now: datetime) -> list[Row]:
    """The rows (read, their session closed) with `days_past_due` counted at `now`."""
    counted = list(rows)
    for row in counted:
        row.days_past_due = days_past_due(row, now)
    return counted


def counting() -> ColumnElement[bool]:
    """Rows whose days past due run on: open, with an origin."""
    return and_(col(CaseRow.closed_reason).is_(None), col(CaseRow.due_origin).is_not(None))


async def day_lengths(session: AsyncSession) -> list[int]:
    """The day lengths in use by rows with an origin."""
    found = await session.exec(
        select(CaseRow.day_seconds).where(col(CaseRow.due_origin).is_not(None)).distinct()
    )
    return sorted(found.all())


def at_least(days: int, *, now: datetime, lengths: Sequence[int]) -> ColumnElement[bool]:
    """Rows at least `days` past due at `now`."""
    by_origin = or_(
        false(),
        *(
            and_(
                col(CaseRow.day_seconds) == seconds,
                col(CaseRow.due_origin) <= now - timedelta(seconds=seconds) * days,
            )
            for seconds in lengths
        ),
    )
    return or_(and_(counting(), by_origin), and_(~counting(), col(CaseRow.days_past_due) >= days))
