"""The read model's write statements, each built once per table and database and executed
with a write's values as parameters: built around each write's values, through the ORM, a
statement cost two to three times its execution in the worker (BENCHMARKS.md, issue 16). The
upserts use `INSERT .. ON CONFLICT`, which SQLite and PostgreSQL spell alike; the idempotency
each gives is told in `readmodel.writes`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from readmodel.complaints import ComplaintRegisterRow
from readmodel.tables import (
    AuditLogRow,
    BucketMoveRow,
    ContactAttemptRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

Insert = postgresql.Insert | sqlite.Insert
Stmt = TypeVar("Stmt")


def insert(
    session: AsyncSession, table: type[SQLModel], values: Mapping[str, Any] | Sequence[Any]
) -> Insert:
    return insert_into(dialect_of(session), table).values(values)


def dialect_of(session: AsyncSession) -> str:
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"the read model supports sqlite and postgresql, not {dialect}")
    return dialect


def insert_into(dialect: str, table: type[SQLModel] | Table) -> Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def table_of(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


async def execute(
    session: AsyncSession,
    stmt: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> CursorResult[Any]:
    """Runs a Core statement on the session's connection, in its transaction: the ORM's own
    execution layer has nothing to do for it. Nothing is autoflushed first: the callers here
    add no ORM objects to their sessions."""
    connection = await session.connection()
    return await connection.execute(stmt, params)


def statement(session: AsyncSession, build: Callable[[str], Stmt]) -> Stmt:
    """`build(dialect)`'s statement for the session's database (built once: `build` caches)."""
    return build(dialect_of(session))


# The statements, one per database each (`functools.cache`). Built on the tables, not the
# SQLModel classes: the ORM has nothing to add to an INSERT with every column given.


@functools.cache
def new_attempt(dialect: str) -> ReturningInsert[Any]:
    table = table_of(ContactAttemptRow)
    stmt = insert_into(dialect, table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return stmt.returning(table.c.id)


@functools.cache
def new_bucket_move(dialect: str) -> Insert:
    stmt = insert_into(dialect, table_of(BucketMoveRow))
    return stmt.on_conflict_do_nothing(index_elements=["case_id", "at"])


@functools.cache
def new_audit_entry(dialect: str) -> Insert:
    stmt = insert_into(dialect, table_of(AuditLogRow))
    return stmt.on_conflict_do_nothing(index_elements=["case_id", "seq"])


@functools.cache
def new_payment(dialect: str) -> Insert:
    stmt = insert_into(dialect, table_of(PaymentRecordRow))
    return stmt.on_conflict_do_nothing(index_elements=["account_no", "payment_ref"])


@functools.cache
def promise_upsert(dialect: str) -> Insert:
    table = table_of(PromiseRecordRow)
    stmt = insert_into(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={"status": stmt.excluded.status, "resolved_at": stmt.excluded.resolved_at},
        where=table.c.status == "open",
    )


# The columns of a task a later write changes: all but those fixed when it opened.
TASK_FIXED = frozenset({"id", "idempotency_key", "case_id", "kind", "queue", "created_at"})
TASK_CHANGES = tuple(c.name for c in table_of(HumanTaskRow).columns if c.name not in TASK_FIXED)


@functools.cache
def task_upsert(dialect: str) -> Insert:
    table = table_of(HumanTaskRow)
    stmt = insert_into(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=["idempotency_key"],
        set_={name: stmt.excluded[name] for name in TASK_CHANGES},
        # A closed task is final: a late retry of an older write never reopens it.
        where=table.c.closed_at.is_(None),
    )


@functools.cache
def complaint_upsert(dialect: str) -> Insert:
    table = table_of(ComplaintRegisterRow)
    stmt = insert_into(dialect, table)
    answer = ("outcome", "response", "resolved_at", "resolved_by")
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={name: stmt.excluded[name] for name in answer},
        where=table.c.resolved_at.is_(None),
    )


@functools.cache
def newer_upsert(
    dialect: str, model: type[SQLModel], columns: tuple[str, ...], key: str, keep: tuple[str, ...]
) -> Insert:
    table = table_of(model)
    stmt = insert_into(dialect, table)
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={name: stmt.excluded[name] for name in columns if name not in (key, *keep)},
        where=table.c.updated_at <= stmt.excluded.updated_at,
    )


async def upsert(
    session: AsyncSession, row: SQLModel, key: str, *, keep: tuple[str, ...] = ()
) -> None:
    """Inserts `row`, or updates the row with the same `key` unless that one is newer.
    Columns in `keep` are written on insert only."""
    values = values_of(row)
    stmt = newer_upsert(dialect_of(session), type(row), tuple(values), key, keep)
    await execute(session, stmt, values)


def values_of(row: SQLModel) -> dict[str, Any]:
    """The row's columns, without the surrogate id the database assigns."""
    return row.model_dump(exclude={"id"})
