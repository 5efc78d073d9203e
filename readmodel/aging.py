"""Days past due as the read model answers them: an open case's count runs on between its
writes (it no longer wakes every day to rewrite it), so every reader counts it when it reads,
from the row's origin (`CaseRow.due_origin`) in the row's days (`day_seconds`). A closed case,
or a row written before the origin was kept, shows the figure it was written with.

In SQL, "at least n days past due" is an origin at or before now - n days: a datetime computed
here for each day length in use (one, unless a demo strategy shares the database). An order
cannot be written so: it needs each row's count (`days_past_due_at`), whole days of the row's
`day_seconds` since its origin. The one piece of date arithmetic that takes, an instant as
microseconds since 1970, is compiled for each database (`_EpochMicroseconds`); the rest is
integer arithmetic, the same in both, and exact, so the order agrees with `days_past_due`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FunctionElement,
    and_,
    case,
    cast,
    false,
    literal,
    or_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
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


class _EpochMicroseconds(FunctionElement[int]):
    """A stored instant as whole microseconds since 1970 (UTC)."""

    type = BigInteger()
    inherit_cache = True


@compiles(_EpochMicroseconds, "sqlite")
def _sqlite_epoch(element: _EpochMicroseconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy keeps a datetime in SQLite as the text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC here);
    # strftime's '%s' gives its whole seconds, characters 21-26 its microseconds.
    at = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', {at}) AS INTEGER) * 1000000 + CAST(substr({at}, 21, 6) AS INTEGER))"
    )


@compiles(_EpochMicroseconds, "postgresql")
def _postgresql_epoch(element: _EpochMicroseconds, compiler: SQLCompiler, **kw: Any) -> str:
    # EXTRACT gives a numeric (PostgreSQL 14 on): exact to the microsecond.
    return (
        f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) * 1000000 AS BIGINT)"
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def days_past_due_at(now: datetime) -> ColumnElement[int]:
    """Each row's days past due at `now`, as `readmodel.aging.days_past_due` counts them: whole
    days of the row's `day_seconds` since its origin while they run on, else the figure written."""
    elapsed = literal((now - EPOCH) // timedelta(microseconds=1), BigInteger) - _EpochMicroseconds(
        col(CaseRow.due_origin)
    )
    day = cast(col(CaseRow.day_seconds), BigInteger) * 1_000_000  # 86,400,000,000: past 2**31
    counted = case((elapsed < 0, 0), else_=elapsed // day)
    return case((counting(), counted), else_=col(CaseRow.days_past_due))
