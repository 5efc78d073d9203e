"""AllocationWorkflow: puts the operations queue's new tasks in collectors' queues, on the
`collections` task queue. A Temporal Schedule (`collections-allocation`,
`operations.schedules`) starts it every `ALLOCATE_EVERY_MINUTES`; a run still going at the next
tick is left to finish (overlap: skip). It can also be started by hand.

Lifecycle: one activity, `allocate_open_tasks` (`operations.activities.allocation`), reads the
read model, decides by `operations.allocation.allocate` and asks each case to `assign_task`. A
task it placed is no longer unassigned, so a retried or repeated run moves nothing twice.

No signals, updates or queries: its result is its counts.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.allocation import ALLOCATE_OPEN_TASKS, ALLOCATION_WORKFLOW, AllocationRun

# A run that cannot reach the database or Temporal now is tried a few times, then left to the
# next tick, minutes away.
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=3,
)
TIMEOUT = timedelta(minutes=4)


@workflow.defn(name=ALLOCATION_WORKFLOW)
class AllocationWorkflow:
    @workflow.run
    async def run(self) -> AllocationRun:
        run: AllocationRun = await workflow.execute_activity(
            ALLOCATE_OPEN_TASKS,
            result_type=AllocationRun,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        return run
