"""The daily intake's record of loaded files, on SQLite and PostgreSQL: a file's content is
recorded once, whatever its name, and the newest load is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.daily_intake import IntakeFileReport
from readmodel.engine import Database
from readmodel.intake_files import (
    intake_file,
    last_loaded_at,
    list_intake_files,
    loaded_checksums,
    record_intake_file,
)

AT = datetime(2026, 12, 4, 0, 35, tzinfo=UTC)


def report(checksum: str, name: str, at: datetime) -> IntakeFileReport:
    return IntakeFileReport(
        checksum=checksum,
        name=name,
        received_at=at - timedelta(minutes=5),
        processed_at=at,
        rows=3,
        started=2,
        rejected=1,
        errors_file=f"/var/intake/errors/{name}.errors.csv",
        stored_as=f"/var/intake/processed/{name}",
    )


async def test_a_file_is_recorded_once_whatever_its_name(database: Database) -> None:
    assert await last_loaded_at(database) is None
    first = report("a" * 64, "overdue.csv", AT)

    assert await record_intake_file(database, report=first) == first
    again = report("a" * 64, "overdue-copy.csv", AT + timedelta(hours=1))
    assert await record_intake_file(database, report=again) == first
    later = report("b" * 64, "overdue-next.csv", AT + timedelta(days=1))
    await record_intake_file(database, report=later)

    assert await list_intake_files(database) == [later, first]
    assert await loaded_checksums(database, checksums={"a" * 64, "c" * 64}) == {"a" * 64}
    assert await last_loaded_at(database) == later.processed_at
    assert await intake_file(database, checksum="c" * 64) is None
