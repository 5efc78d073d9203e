"""A customer's complaint, on the time-skipping server: collection pauses while it is open, a
supervisor's task carries its regulatory deadline and escalates past it, the answer resumes
collection, and the register keeps both the complaint and its answer. A case whose debt ends
while a complaint is open still waits for the answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from models.complaints import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintInput,
    ComplaintOutcome,
    ResolveComplaintInput,
)
from models.contracts import RecordPaymentInput, Stage
from models.people import Actor, Role
from models.tasks import TaskKind, TaskStatus
from operations.answers import Outcome
from operations.gateway import Gateway
from readmodel.complaints import complaint_counts, list_complaints
from readmodel.queries import list_tasks
from tests.workflows.harness import CaseHarness, sent_at
from workflows.case import CollectionCaseWorkflow as Case

ANN = Actor("ann.li", via="console", roles=(Role.OPERATIONS,))
SUE = Actor("sup.sue", via="console", roles=(Role.SUPERVISOR,))
COMPLAINT = ComplaintInput(
    ComplaintCategory.CONTACT, ComplaintChannel.PHONE, "stop calling me at work; 500 CNY is paid"
)
DEADLINE_DAYS = 15  # the default strategy's [complaints] deadline_days


async def test_a_complaint_pauses_collection_escalates_past_its_deadline_and_its_answer_resumes(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(dpd=3)
    await harness.sleep_days(0.5)
    received = await handle.execute_update(Case.raise_complaint, COMPLAINT)
    assert received.accepted and "collection paused" in received.message
    status = await handle.query(Case.status)
    [complaint] = status.open_complaints
    assert complaint.deadline - complaint.received_at == timedelta(days=DEADLINE_DAYS)
    assert status.next_action_kind == "complaint"
    sent_before = len(sent_at(await harness.timeline(handle)))

    # Past the regulatory deadline: nothing went out, and a supervisor has the escalation.
    await harness.sleep_days(DEADLINE_DAYS + 1)
    assert len(sent_at(await harness.timeline(handle))) == sent_before
    tasks = {(t.kind, t.status) for t in (await handle.query(Case.status)).open_tasks}
    assert (TaskKind.ESCALATION, TaskStatus.OPEN) in tasks
    stored = await list_tasks(harness.db, case_id=handle.id, status="escalated")
    assert [t.kind for t in stored] == [TaskKind.COMPLAINT]
    now = await harness.env.get_current_time()
    [overdue] = await list_complaints(harness.db, show="overdue", now=now)
    assert overdue.key == complaint.key and overdue.asks == COMPLAINT.asks

    answer = ResolveComplaintInput(complaint.key, ComplaintOutcome.PARTLY_UPHELD, "calls moved")
    gateway = Gateway(harness.client, answer_within=10)
    by_a_collector = await gateway.acting(ANN).update(handle.id, Case.resolve_complaint, answer)
    assert by_a_collector.outcome is Outcome.FORBIDDEN  # a supervisor answers complaints
    answered = (
        await gateway.acting(SUE).update(handle.id, Case.resolve_complaint, answer)
    ).unwrap()
    assert answered.accepted and "collection resumes" in answered.message
    status = await handle.query(Case.status)
    assert not status.open_complaints
    assert not any(t.kind is TaskKind.ESCALATION for t in status.open_tasks)
    await harness.sleep_days(3)
    assert len(sent_at(await harness.timeline(handle))) > sent_before

    [row] = await list_complaints(harness.db, now=now, case_id=handle.id)
    assert (row.outcome, row.response, row.resolved_by) == (
        "partly_upheld",
        "calls moved",
        "sup.sue",
    )
    now = await harness.env.get_current_time()
    counts = await complaint_counts(harness.db, since=now - timedelta(days=30), until=now)
    assert (counts.received, counts.answered, counts.upheld, counts.open) == (1, 1, 1, 0)
    kinds = [e.kind for e in await harness.timeline(handle)]
    assert "complaint_received" in kinds and "complaint_resolved" in kinds


async def test_a_paid_case_waits_for_its_complaint_s_answer_before_it_ends(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(outstanding=50_000, overdue=50_000)
    await handle.execute_update(Case.raise_complaint, COMPLAINT)
    [complaint] = (await handle.query(Case.status)).open_complaints
    await handle.execute_update(Case.record_payment, RecordPaymentInput(50_000, "CNY", "PAY-1"))
    status = await handle.query(Case.status)
    assert status.stage is Stage.CLOSED and status.open_complaints
    assert [t.kind for t in status.open_tasks] == [TaskKind.COMPLAINT]  # not cancelled
    await harness.sleep_days(1)
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Case.raise_complaint, COMPLAINT)
    assert "case is closed" in str(refused.value.cause)

    answer = ResolveComplaintInput(complaint.key, ComplaintOutcome.REJECTED, "calls were lawful")
    await handle.execute_update(Case.resolve_complaint, answer)
    final = await handle.result()
    assert final.stage is Stage.CLOSED and not final.open_complaints


@pytest.mark.parametrize(
    ("answer", "refusal"),
    [
        (ResolveComplaintInput("nope", ComplaintOutcome.UPHELD, "x"), "no open complaint nope"),
        (ResolveComplaintInput("", ComplaintOutcome.UPHELD, " "), "answer to the customer"),
    ],
)
async def test_an_answer_to_no_open_complaint_is_refused(
    harness: CaseHarness, answer: ResolveComplaintInput, refusal: str
) -> None:
    handle = await harness.start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Case.resolve_complaint, answer)
    assert refusal in str(refused.value.cause)
    blank = ComplaintInput(ComplaintCategory.FEES, ComplaintChannel.LETTER, "  ")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Case.raise_complaint, blank)
    assert "what the customer asks is required" in str(refused.value.cause)
    assert not (await handle.query(Case.status)).open_complaints
