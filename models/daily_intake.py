"""Contracts of the daily intake: the bank's overdue file, picked up from a drop folder on a
Temporal Schedule (`workflows.daily_intake`, `operations.activities.daily_intake`).

Plain, frozen types that cross Temporal boundaries. They carry file names, checksums, times
and counts: never a row's content. `lateness` is the one rule of when the day's file is late,
shared by the workflow and `collections intake-files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAILY_INTAKE_WORKFLOW = "DailyIntake"  # the workflow type a schedule starts by name
DAILY_INTAKE_SCHEDULE = "collections-daily-intake"  # the Temporal Schedule that starts it hourly
SCAN_DROP_FOLDER = "scan_intake_drop_folder"
LOAD_INTAKE_FILE = "load_intake_file"
DUE_HOUR_UTC = 1  # the day's file should be in by 01:00 UTC
LATE_AFTER_HOURS = 26  # a day and the due hour's slack without any file is late, whatever the hour


@dataclass(frozen=True)
class DailyIntakeInput:
    """When the day's file is late: past `due_hour_utc` with none loaded that (UTC) day, or
    none at all for `late_after_hours`."""

    due_hour_utc: int = DUE_HOUR_UTC
    late_after_hours: int = LATE_AFTER_HOURS


@dataclass(frozen=True)
class DroppedFile:
    name: str  # in the drop folder
    checksum: str  # SHA-256 of the content, hex: the file's identity, whatever its name
    received_at: datetime  # its modification time: when it landed


@dataclass(frozen=True)
class DropScan:
    """What the drop folder holds: files never loaded (oldest first), and the names of those
    whose content was loaded before (under that name or another)."""

    new: tuple[DroppedFile, ...] = ()
    already_loaded: tuple[str, ...] = ()
    last_loaded_at: datetime | None = None  # the newest file loaded before this scan


@dataclass(frozen=True)
class LoadFileInput:
    """`at` is the run's time (the file's `processed_at`); its UTC date is the intake date,
    which no due date in the file may be after."""

    file: DroppedFile
    at: datetime

    @property
    def as_of(self) -> date:
        return self.at.astimezone(UTC).date()


@dataclass(frozen=True)
class IntakeFileReport:
    """A loaded file, as the read model records it; `processed_at` is the loading run's time.
    `rows`: data rows with content; `refreshed`: rows whose case was running and took the
    file's balances; `rejected`: rows with errors; `failed`: rows Temporal did not take (a
    start refused, a refresh unanswered). Rejected and failed rows are in `errors_file` (row,
    column, reason); `stored_as` is where the file was moved."""

    checksum: str
    name: str
    received_at: datetime
    processed_at: datetime
    rows: int = 0
    started: int = 0
    refreshed: int = 0
    rejected: int = 0
    failed: int = 0
    errors_file: str = ""
    stored_as: str = ""


@dataclass(frozen=True)
class DailyIntakeResult:
    loaded: tuple[IntakeFileReport, ...] = ()
    already_loaded: tuple[str, ...] = ()  # names in the drop folder whose content was loaded
    last_file_at: datetime | None = None
    late: str = ""  # why the day's file is late (`lateness`), "" when it is not


def lateness(
    *,
    now: datetime,
    last_file_at: datetime | None,
    due_hour_utc: int = DUE_HOUR_UTC,
    late_after_hours: int = LATE_AFTER_HOURS,
) -> str:
    """Why the day's file is late at `now`, or "": past the due hour (UTC) with no file loaded
    that UTC day, or no file at all for `late_after_hours` (which also covers the hours before
    the due hour when yesterday's file never came)."""
    now = now.astimezone(UTC)
    midnight = datetime.combine(now.date(), time(0), UTC)
    due = midnight + timedelta(hours=due_hour_utc)
    if now >= due and (last_file_at is None or last_file_at < midnight):
        return f"no file today (due by {due_hour_utc:02d}:00 UTC)"
    if last_file_at is not None and now - last_file_at > timedelta(hours=late_after_hours):
        return f"no file for more than {late_after_hours} hours"
    return ""
