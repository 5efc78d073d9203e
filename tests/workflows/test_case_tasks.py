"""Collectors' tasks on a case: opened in the collector stage, completed, escalated, cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from models.case_status import CaseStatus
from models.contracts import ClosureReason, RecordPaymentInput, Stage
from models.tasks import (
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    TaskKind,
    TaskOutcome,
    TaskRecord,
)
from readmodel.tables import HumanTaskRow
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case

CaseHandle = WorkflowHandle[Case, CaseStatus]


async def open_task(handle: CaseHandle, kind: TaskKind) -> TaskRecord:
    status = await handle.query(Case.status)
    tasks = [t for t in status.open_tasks if t.kind is kind]
    assert tasks, f"no open {kind} in {status.open_tasks}"
    return tasks[0]


async def task_rows(harness: CaseHarness, handle: CaseHandle) -> list[HumanTaskRow]:
    async with harness.db.session() as session:
        rows = await session.exec(select(HumanTaskRow).where(HumanTaskRow.case_id == handle.id))
        return list(rows)


async def collector_case(harness: CaseHarness) -> CaseHandle:
    handle = await harness.start(dpd=40)
    await harness.sleep_days(0.1)
    assert (await handle.query(Case.status)).stage is Stage.COLLECTOR
    return handle


async def test_a_call_completed_in_time_counts_as_a_contact_and_waits_out_the_quiet_period(
    harness: CaseHarness,
) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    await handle.execute_update(Case.claim_task, ClaimTaskInput(task_key=call.key, collector="c-7"))

    with pytest.raises(WorkflowUpdateFailedError) as locked:
        await handle.execute_update(
            Case.complete_task,
            CompleteTaskInput(task_key=call.key, collector="c-9", outcome=TaskOutcome.REACHED),
        )
    assert "locked to c-7" in str(locked.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as wrong:
        await handle.execute_update(
            Case.complete_task,
            CompleteTaskInput(task_key=call.key, collector="c-7", outcome=TaskOutcome.APPROVED),
        )
    assert "not an outcome of a collector_call" in str(wrong.value.cause)

    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(task_key=call.key, collector="c-7", outcome=TaskOutcome.REACHED),
    )
    assert (await handle.query(Case.status)).open_tasks == ()
    [row] = await task_rows(harness, handle)
    assert (row.status, row.assignee, row.outcome) == ("done", "c-7", "reached")

    await harness.sleep_days(6)  # the quiet period after a conversation is 7 days
    assert (await handle.query(Case.status)).open_tasks == ()
    await harness.sleep_days(2)
    await open_task(handle, TaskKind.COLLECTOR_CALL)


async def test_a_task_past_its_deadline_escalates_to_a_supervisor(harness: CaseHarness) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    await harness.sleep_days(3)  # the deadline is 2 days

    escalation = await open_task(handle, TaskKind.ESCALATION)
    assert escalation.queue == "supervisor"
    rows = {row.idempotency_key: row for row in await task_rows(harness, handle)}
    assert rows[call.key].status == "escalated"
    assert rows[escalation.key].status == "open"

    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(
            task_key=escalation.key, collector="supervisor-1", outcome=TaskOutcome.REASSIGNED
        ),
    )
    await open_task(handle, TaskKind.COLLECTOR_CALL)


async def test_a_wrong_number_sends_two_collectors_on_a_field_visit(harness: CaseHarness) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(task_key=call.key, collector="c-1", outcome=TaskOutcome.WRONG_NUMBER),
    )
    visit = await open_task(handle, TaskKind.FIELD_VISIT)
    with pytest.raises(WorkflowUpdateFailedError) as alone:
        await handle.execute_update(
            Case.complete_task,
            CompleteTaskInput(
                task_key=visit.key,
                collector="c-1",
                outcome=TaskOutcome.REACHED,
                visit=FieldVisitReport(collectors=("c-1",), consent_to_enter=False),
            ),
        )
    assert "two collectors" in str(alone.value.cause)
    today = await harness.today()
    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(
            task_key=visit.key,
            collector="c-1",
            outcome=TaskOutcome.PROMISE_MADE,
            promised_amount_minor=50_000,
            promised_date=today + timedelta(days=5),
            visit=FieldVisitReport(collectors=("c-1", "c-2"), consent_to_enter=True),
        ),
    )
    status = await handle.query(Case.status)
    assert status.open_promise is not None and status.open_promise.amount_minor == 50_000
    events = [e.kind for e in await handle.query(Case.timeline)]
    assert "promise" in events


async def test_closing_a_case_cancels_its_open_tasks(harness: CaseHarness) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=500_000, currency="CNY", payment_ref="full"),
    )
    final = await handle.result()
    assert final.closed_reason is ClosureReason.PAID and final.open_tasks == ()
    [row] = await task_rows(harness, handle)
    assert (row.idempotency_key, row.status) == (call.key, "cancelled")
