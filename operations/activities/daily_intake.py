"""The daily intake's activities: what the drop folder holds, and loading one file of it.

`scan_intake_drop_folder` hashes (SHA-256) each `*.csv` file of the drop folder that has been
quiet for a minute (one still being written waits for the next run) and names those whose
content the read model has on record (`intake_files`), under whatever name.

`load_intake_file` loads a new file as `collections intake` does: `models.intake.parse_intake`,
then `operations.intake.run_intake` through the worker's own Temporal client, one case per good
row, started, or refreshed when it is running. Rows go in chunks, with a heartbeat after each
saying how far it got; a retry resumes there, and a row started twice finds its case running
and refreshes it, which changes nothing. A chunk of which not one row went through means
Temporal is not taking work: the attempt fails and is retried. Then, in this order, so that a
retry after the record only finishes the move: the rejected and failed rows go to
`<name>-<sum>.errors.csv` in the errors folder (row, column, reason: never a cell's value),
the file is recorded, and it is moved to the processed folder. Files are kept to their owner.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import os
import shutil
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import POLICY_DIR, Settings
from config.strategy import Assessor
from models.daily_intake import (
    LOAD_INTAKE_FILE,
    SCAN_DROP_FOLDER,
    DroppedFile,
    DropScan,
    IntakeFileReport,
    LoadFileInput,
)
from models.intake import ParsedIntake, RowError, parse_intake
from models.people import Actor
from operations import metrics
from operations.gateway import Gateway
from operations.intake import IntakeSummary, run_intake
from readmodel.engine import Database
from readmodel.intake_files import (
    intake_file,
    last_loaded_at,
    loaded_checksums,
    record_intake_file,
)

log = logging.getLogger(__name__)

INTAKE_ACTOR = Actor("daily-intake", via="intake")  # who the cases' timelines say started them
QUIET_FOR = timedelta(minutes=1)
CHUNK = 100  # rows between heartbeats
GONE, CHANGED, NOT_TAKEN = "IntakeFileGone", "IntakeFileChanged", "TemporalNotTakingWork"
ERRORS_HEADER = ("row", "column", "reason")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


@dataclass(frozen=True)
class IntakeFolders:
    drop: Path
    errors: Path
    processed: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeFolders:
        return cls(
            settings.intake_drop_dir, settings.intake_errors_dir, settings.intake_processed_dir
        )


@dataclass
class _Progress:
    """How far a load got (rows of `valid` done) and what it counted: in each heartbeat."""

    done: int = 0
    started: int = 0
    refreshed: int = 0
    failed: dict[str, list[int]] = field(default_factory=dict)  # note -> rows

    def add(self, done: int, summary: IntakeSummary) -> None:
        self.done = done
        self.started += len(summary.started)
        self.refreshed += sum(1 for o in summary.already_running if o.refreshed)
        for o in (*summary.failed, *summary.warnings):
            self.failed.setdefault(o.note, []).append(o.row)

    @classmethod
    def from_heartbeat(cls, details: Any) -> _Progress:
        return cls(**details[0]) if details else cls()


class DailyIntakeActivities:
    """`gateway` starts the cases (`intake_gateway`: the worker's client, acting as
    `INTAKE_ACTOR`), on `task_queue`; `strategies` are the policy names a row may ask for
    (default: those configured)."""

    def __init__(
        self,
        gateway: Gateway,
        db: Database,
        folders: IntakeFolders,
        *,
        task_queue: str,
        strategies: Collection[str] | None = None,
        quiet_for: timedelta = QUIET_FOR,
        concurrency: int = 50,
        assessor: Assessor | None = None,
    ) -> None:
        self._gateway = gateway
        self._assessor = assessor
        self._db = db
        self._folders = folders
        self._task_queue = task_queue
        self._strategies = (
            strategies
            if strategies is not None
            else frozenset(p.stem for p in POLICY_DIR.glob("*.toml"))
        )
        self._quiet_for = quiet_for
        self._concurrency = concurrency

    @activity.defn(name=SCAN_DROP_FOLDER)
    async def scan_drop_folder(self) -> DropScan:
        """The drop folder's quiet CSV files: those never loaded, oldest first, and the names
        of those loaded before."""
        dropped = await asyncio.to_thread(self._dropped, datetime.now(UTC))
        known = await loaded_checksums(self._db, checksums={f.checksum for f in dropped})
        new: list[DroppedFile] = []
        already: list[str] = []
        for file in dropped:
            if file.checksum in known or any(f.checksum == file.checksum for f in new):
                already.append(file.name)
            else:
                new.append(file)
        if already:
            log.info("intake: already loaded, left in the drop folder: %s", ", ".join(already))
        last = await last_loaded_at(self._db)
        if last is not None:  # a worker started since: the late-file alert watches this gauge
            metrics.intake_file_processed(last)
        return DropScan(tuple(new), tuple(already), last)

    @activity.defn(name=LOAD_INTAKE_FILE)
    async def load_intake_file(self, input: LoadFileInput) -> IntakeFileReport:
        """Loads one new file; its report (as recorded before, when it was)."""
        file = input.file
        recorded = await intake_file(self._db, checksum=file.checksum)
        if recorded is not None:  # an earlier attempt got as far as the record
            await asyncio.to_thread(self._store, file, Path(recorded.stored_as))
            return recorded
        data = await asyncio.to_thread(self._read, file)
        parsed = self._parse(data, input)
        progress = _Progress.from_heartbeat(activity.info().heartbeat_details)
        activity.heartbeat(asdict(progress))  # parsed: a large file takes a while
        rows = parsed.valid
        for start in range(progress.done, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            summary = await run_intake(
                self._gateway,
                chunk,
                task_queue=self._task_queue,
                concurrency=self._concurrency,
                db=self._db,
                assessor=self._assessor,
            )
            if summary.failed and len(summary.failed) == len(summary.outcomes):
                raise ApplicationError(
                    f"none of rows {chunk[0][0]} to {chunk[-1][0]} started "
                    f"({summary.failed[0].note}): Temporal refused them, or their policy "
                    "cannot be used",
                    type=NOT_TAKEN,
                )
            progress.add(start + len(chunk), summary)
            activity.heartbeat(asdict(progress))
        failures = [
            RowError(row, "case", note) for note, rows_ in progress.failed.items() for row in rows_
        ]
        errors_file = await asyncio.to_thread(self._write_errors, file, parsed.errors, failures)
        # A file-wide error (the header, the encoding) rejects no row of its own.
        rejected = {e.row for e in parsed.errors if e.field not in ("header", "file")}
        report = await record_intake_file(
            self._db,
            report=IntakeFileReport(
                checksum=file.checksum,
                name=file.name,
                received_at=file.received_at,
                processed_at=input.at,
                rows=len(rows) + len(rejected),
                started=progress.started,
                refreshed=progress.refreshed,
                rejected=len(rejected),
                failed=len({row for row_list in progress.failed.values() for row in row_list}),
                errors_file=str(errors_file) if errors_file else "",
                stored_as=str(self._stored_as(file)),
            ),
        )
        await asyncio.to_thread(self._store, file, Path(report.stored_as))
        log.info(
            "intake: %s loaded: %d rows, %d started, %d refreshed, %d rejected, %d failed",
            file.name,
            report.rows,
            report.started,
            report.refreshed,
            report.rejected,
            report.failed,
        )
        metrics.intake_file_processed(report.processed_at)
        return report

    # --- files ---------------------------------------------------------------------------

    def _dropped(self, now: datetime) -> list[DroppedFile]:
        drop = self._folders.drop
        drop.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        found = []
        for path in drop.iterdir():
            if path.suffix.lower() != ".csv" or path.name.startswith(".") or not path.is_file():
                continue
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if now - modified < self._quiet_for:
                continue  # still being written, perhaps: the next run takes it
            found.append(DroppedFile(path.name, _sha256(path.read_bytes()), modified))
        return sorted(found, key=lambda f: (f.received_at, f.name))

    def _read(self, file: DroppedFile) -> bytes:
        try:
            data = (self._folders.drop / file.name).read_bytes()
        except FileNotFoundError:
            raise ApplicationError(
                f"{file.name} left the drop folder before it was loaded",
                type=GONE,
                non_retryable=True,
            ) from None
        if _sha256(data) != file.checksum:
            raise ApplicationError(
                f"{file.name} changed since it was found; the next run loads it",
                type=CHANGED,
                non_retryable=True,
            )
        return data

    def _parse(self, data: bytes, input: LoadFileInput) -> ParsedIntake:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text (first bad byte at offset {exc.start}); save it as CSV UTF-8"
            return ParsedIntake([], [RowError(1, "file", reason)])
        return parse_intake(text, as_of=input.as_of, strategies=self._strategies)

    def _write_errors(
        self, file: DroppedFile, rejected: Iterable[RowError], failed: Iterable[RowError]
    ) -> Path | None:
        errors = sorted([*rejected, *failed], key=lambda e: e.row)
        if not errors:
            return None
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ERRORS_HEADER)
        writer.writerows((e.row, e.field, e.reason) for e in errors)
        path = self._folders.errors / f"{Path(file.name).stem}-{file.checksum[:12]}.errors.csv"
        _write_private(path, out.getvalue().encode("utf-8"))
        return path

    def _stored_as(self, file: DroppedFile) -> Path:
        name = Path(file.name)
        return self._folders.processed / f"{name.stem}-{file.checksum[:12]}{name.suffix}"

    def _store(self, file: DroppedFile, target: Path) -> None:
        """Moves the file out of the drop folder (a retry finds it moved, or moves it again)."""
        source = self._folders.drop / file.name
        if not source.is_file() or _sha256(source.read_bytes()) != file.checksum:
            return  # moved already (or another file took its name since)
        target.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        shutil.move(source, target)  # a rename, within one file system
        target.chmod(PRIVATE_FILE)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    """Written whole or not at all, readable by the owner only."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    partial.replace(path)
