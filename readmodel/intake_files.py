"""The files the daily intake loaded (`intake_files`), by the SHA-256 of their content.

Recording is idempotent: a file's row is inserted once, and a second record of the same
content (a retried activity, the same file under another name) leaves the first as it was.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from models.daily_intake import IntakeFileReport
from readmodel.engine import Database
from readmodel.statements import insert, values_of
from readmodel.tables import IntakeFileRow


async def loaded_checksums(db: Database, *, checksums: Collection[str]) -> set[str]:
    """Which of `checksums` belong to files loaded before."""
    if not checksums:
        return set()
    async with db.session() as session:
        found = await session.exec(
            select(IntakeFileRow.checksum).where(col(IntakeFileRow.checksum).in_(checksums))
        )
        return set(found)


async def intake_file(db: Database, *, checksum: str) -> IntakeFileReport | None:
    async with db.session() as session:
        row = (
            await session.exec(select(IntakeFileRow).where(IntakeFileRow.checksum == checksum))
        ).first()
    return _report(row) if row is not None else None


async def record_intake_file(db: Database, *, report: IntakeFileReport) -> IntakeFileReport:
    """Records a loaded file, unless its content was recorded before; the stored record."""
    row = IntakeFileRow(**{**asdict(report), "errors_file": report.errors_file or None})
    async with db.session() as session:
        stmt = insert(session, IntakeFileRow, values_of(row))
        await session.exec(stmt.on_conflict_do_nothing(index_elements=["checksum"]))
    stored = await intake_file(db, checksum=report.checksum)
    assert stored is not None  # just written, or written before
    return stored


async def list_intake_files(db: Database, *, limit: int = 30) -> list[IntakeFileReport]:
    """The files loaded, newest first."""
    async with db.session() as session:
        rows = await session.exec(
            select(IntakeFileRow)
            .order_by(col(IntakeFileRow.processed_at).desc(), col(IntakeFileRow.id).desc())
            .limit(limit)
        )
        return [_report(row) for row in rows]


async def last_loaded_at(db: Database) -> datetime | None:
    """When the newest file was loaded; None before the first."""
    async with db.session() as session:
        found = await session.exec(select(func.max(IntakeFileRow.processed_at)))
        return found.one()


def _report(row: IntakeFileRow) -> IntakeFileReport:
    return IntakeFileReport(
        checksum=row.checksum,
        name=row.name,
        received_at=row.received_at,
        processed_at=row.processed_at,
        rows=row.rows,
        started=row.started,
        refreshed=row.refreshed,
        rejected=row.rejected,
        failed=row.failed,
        errors_file=row.errors_file or "",
        stored_as=row.stored_as,
    )
