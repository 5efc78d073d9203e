"""DailyIntakeWorkflow: loads the bank's overdue files from the drop folder, each once, and says
when the day's file is late; on the `collections` task queue. A Temporal Schedule
(`collections-daily-intake`, `operations.schedules`) starts it hourly; a run still going at the
next tick is left to finish (overlap: skip). It can also be started by hand.

Lifecycle: `scan_intake_drop_folder` names the files whose content was never loaded (a file
is known by its SHA-256, so a renamed copy is no new file); `load_intake_file` loads each, in
the order they came (`operations.activities.daily_intake`: cases started or refreshed,
rejected rows to an errors file, the file recorded and moved), dated the run's time. A file
that cannot be loaded now (it changed or left since the scan; Temporal not taking work) is left
to the next run. Then `models.daily_intake.lateness` judges, at the run's time, whether the
day's file is late; if so, the run logs a warning (names and times only) and says why in its
result, as `collections intake-files` does from the read model.

No signals, updates or queries: its result is its report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.daily_intake import (
        DAILY_INTAKE_WORKFLOW,
        LOAD_INTAKE_FILE,
        SCAN_DROP_FOLDER,
        DailyIntakeInput,
        DailyIntakeResult,
        DropScan,
        IntakeFileReport,
        LoadFileInput,
        lateness,
    )

# A folder that cannot be read now fails the run after a few tries: the next tick tries again.
SCAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)
SCAN_TIMEOUT = timedelta(minutes=5)
# Loading resumes from its last heartbeat; Temporal down for long leaves the file to a later run.
LOAD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
    non_retryable_error_types=["IntakeFileGone", "IntakeFileChanged"],
)
LOAD_TIMEOUT = timedelta(hours=2)
HEARTBEAT_TIMEOUT = timedelta(minutes=3)


@workflow.defn(name=DAILY_INTAKE_WORKFLOW)
class DailyIntakeWorkflow:
    @workflow.run
    async def run(self, input: DailyIntakeInput) -> DailyIntakeResult:
        if not 0 <= input.due_hour_utc <= 23 or input.late_after_hours < 1:
            raise ApplicationError(
                "due_hour_utc is 0 to 23 and late_after_hours at least 1",
                type="InvalidInput",
                non_retryable=True,
            )
        scan: DropScan = await workflow.execute_activity(
            SCAN_DROP_FOLDER,
            result_type=DropScan,
            start_to_close_timeout=SCAN_TIMEOUT,
            retry_policy=SCAN_RETRY,
        )
        loaded: list[IntakeFileReport] = []
        for file in scan.new:
            try:
                report: IntakeFileReport = await workflow.execute_activity(
                    LOAD_INTAKE_FILE,
                    LoadFileInput(file=file, at=workflow.now()),
                    result_type=IntakeFileReport,
                    start_to_close_timeout=LOAD_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=LOAD_RETRY,
                )
            except ActivityError as error:
                cause = error.cause
                why = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
                workflow.logger.warning("intake file %s not loaded now (%s)", file.name, why)
                continue
            loaded.append(report)
        times = [t for t in (scan.last_loaded_at, *(r.processed_at for r in loaded)) if t]
        last: datetime | None = max(times) if times else None
        late = lateness(
            now=workflow.now(),
            last_file_at=last,
            due_hour_utc=input.due_hour_utc,
            late_after_hours=input.late_after_hours,
        )
        if late:
            workflow.logger.warning("the bank's daily intake file is late: %s", late)
        return DailyIntakeResult(
            loaded=tuple(loaded), already_loaded=scan.already_loaded, last_file_at=last, late=late
        )
