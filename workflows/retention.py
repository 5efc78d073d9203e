"""RetentionWorkflow: erases the personal data of cases closed longer ago than the records rule
allows, on the `collections` task queue. A Temporal Schedule (`collections-retention`,
`operations.schedules`) starts it daily at 02:00 UTC; it can also be started by hand.

Lifecycle: the cut-off is `years` calendar years before the run's start (`workflow.now()`);
then, batch after batch, `find_due_for_erasure` names up to `batch_size` closed cases whose
close is older than the cut-off and that are not erased yet, and `erase_cases` erases them
(idempotent, heartbeating). It ends when a batch comes back short, returning what it erased.
A customer keeps name and phone number while a case of theirs is open or closed after the
cut-off. A long run continues as new, carrying the cut-off and the counts.

No signals, updates or queries: its result is its report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.retention import (
        ERASE_CASES,
        FIND_DUE,
        RETENTION_WORKFLOW,
        DueCases,
        DueCasesInput,
        EraseCasesInput,
        ErasureCounts,
        RetentionInput,
        RetentionResult,
    )

# Reads and writes of the read model: retried until the database answers.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
FIND_TIMEOUT = timedelta(minutes=1)
ERASE_TIMEOUT = timedelta(minutes=10)
HEARTBEAT_TIMEOUT = timedelta(minutes=1)


def years_before(moment: datetime, years: int) -> datetime:
    """The same instant `years` calendar years earlier; 29 February falls back to the 28th."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionWorkflow:
    @workflow.run
    async def run(self, input: RetentionInput) -> RetentionResult:
        if input.years < 1 or input.batch_size < 1:
            raise ApplicationError(
                "years and batch_size must be at least 1", type="InvalidInput", non_retryable=True
            )
        before = input.before or years_before(workflow.now(), input.years)
        batches, erased = input.batches, input.erased
        while True:
            due: DueCases = await workflow.execute_activity(
                FIND_DUE,
                DueCasesInput(before=before, limit=input.batch_size),
                result_type=DueCases,
                start_to_close_timeout=FIND_TIMEOUT,
                retry_policy=RETRY,
            )
            if not due.case_ids:
                break
            counts: ErasureCounts = await workflow.execute_activity(
                ERASE_CASES,
                EraseCasesInput(
                    case_ids=due.case_ids,
                    at=workflow.now(),
                    keep_closed_since=before,
                    why=f"closed more than {input.years} year(s) ago",
                ),
                result_type=ErasureCounts,
                start_to_close_timeout=ERASE_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=RETRY,
            )
            batches, erased = batches + 1, erased + counts
            # A short batch was the last; one that erased nothing would come back the same.
            if len(due.case_ids) < input.batch_size or counts.cases == 0:
                break
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    replace(input, before=before, batches=batches, erased=erased)
                )
        return RetentionResult(before=before, batches=batches, erased=erased)
