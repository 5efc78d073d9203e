"""The `Database` handle: one transaction per session, SQLite set up for sharing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import col, select

from readmodel.engine import Database, migrate_async
from readmodel.tables import AuditLogRow
from tests.conftest_db import sqlite_url

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _entry(seq: int, at: datetime = AT) -> AuditLogRow:
    return AuditLogRow(case_id="case-D1", seq=seq, at=at, kind="note", detail="d", actor="test")


async def _seqs(db: Database) -> list[int]:
    async with db.session() as session:
        rows = await session.exec(select(AuditLogRow).order_by(col(AuditLogRow.seq)))
        return [row.seq for row in rows]


async def test_a_session_commits_when_its_block_ends(database: Database) -> None:
    async with database.session() as session:
        session.add(_entry(1))

    assert await _seqs(database) == [1]


async def test_a_session_rolls_back_when_its_block_raises(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            session.add(_entry(1))
            await session.flush()
            raise RuntimeError("boom")

    assert await _seqs(database) == []


async def test_timestamps_come_back_aware_and_in_utc(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    async with database.session() as session:
        session.add(_entry(1, at=datetime(2026, 3, 1, 17, 30, tzinfo=shanghai)))

    async with database.session() as session:
        row = (await session.exec(select(AuditLogRow))).one()

    assert row.at == AT
    assert row.at.utcoffset() == timedelta(0)


async def test_a_naive_timestamp_is_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="timezone"):
        async with database.session() as session:
            session.add(_entry(1, at=datetime(2026, 3, 1, 9, 30)))


async def test_sqlite_is_shared_safely_by_a_worker_and_the_api(tmp_path: Path) -> None:
    path = tmp_path / "var" / "collections.db"
    await migrate_async(sqlite_url(path))
    db = Database(sqlite_url(path))
    try:
        async with db.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            busy_ms = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await db.dispose()

    assert journal == "wal"
    assert busy_ms >= 5000


def test_a_database_creates_the_sqlite_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "collections.db"

    Database(sqlite_url(path))

    assert path.parent.is_dir()


def test_repr_never_shows_the_password() -> None:
    db = Database("postgresql+psycopg://collector:s3cret@db.internal:5432/collections")

    assert "s3cret" not in repr(db)
    assert db.dialect == "postgresql"
