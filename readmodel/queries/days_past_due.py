"""Days past due as an order needs them: a number for each row, in SQL.

A filter compares an origin with datetimes computed here (`readmodel.aging.at_least`); an
order cannot: it needs each row's count, whole days of the row's `day_seconds` since its
origin, which is arithmetic on a stored date. SQLite and PostgreSQL spell that differently, so
`_EpochMicroseconds` is compiled for each; everything after it is integer arithmetic, the same
in both, and exact, so the order agrees with the figure `aging.days_past_due` shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FunctionElement, case, cast, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import col

from readmodel.aging import counting
from readmodel.tables import CaseRow


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
