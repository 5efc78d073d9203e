"""A case with its departments: hardship to the risk team and back, payment plans, legal."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from models.case_status import CaseStatus
from models.contracts import ClosureReason, ReasonInput, RecordPaymentInput, Stage
from models.departments import (
    AcceptReferralInput,
    ContactPermissionInput,
    Instalment,
    ProceedingInput,
    ProceedingKind,
    ReturnReferralInput,
    RiskDecision,
    RiskDecisionKind,
)
from models.tasks import CompleteTaskInput, TaskKind, TaskOutcome
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case
from workflows.legal_referral import LegalReferralWorkflow
from workflows.risk_review import RiskReviewWorkflow

CaseHandle = WorkflowHandle[Case, CaseStatus]


async def risk_review(
    harness: CaseHarness, handle: CaseHandle
) -> WorkflowHandle[RiskReviewWorkflow, RiskDecision]:
    for _ in range(50):
        review = (await handle.query(Case.status)).risk_review
        if review:
            child = harness.client.get_workflow_handle_for(RiskReviewWorkflow.run, review)
            with contextlib.suppress(RPCError):  # started by the case's next workflow task
                await child.describe()
                return child
        await asyncio.sleep(0.1)
    raise AssertionError("no risk review was opened")


async def test_hardship_goes_to_risk_which_grants_forbearance_then_contact_resumes(
    departments: CaseHarness,
) -> None:
    harness = departments
    handle = await harness.start(dpd=3)
    await harness.sleep_days(0.2)
    await handle.execute_update(Case.report_hardship, ReasonInput(reason="lost job in October"))
    review = await risk_review(harness, handle)
    today = await harness.today()
    await review.execute_update(
        RiskReviewWorkflow.decide,
        RiskDecision(
            kind=RiskDecisionKind.FORBEARANCE,
            decided_by="risk-officer-1",
            reason="temporary unemployment",
            forbearance_until=today + timedelta(days=30),
        ),
    )
    await harness.sleep_days(1)
    status = await handle.query(Case.status)
    assert status.stage is Stage.RISK_REVIEW and status.risk_review is None
    sent_before = status.contacts_sent
    await harness.sleep_days(20)
    assert (await handle.query(Case.status)).contacts_sent == sent_before  # quiet in forbearance
    await harness.sleep_days(12)
    status = await handle.query(Case.status)
    assert status.stage in (Stage.EARLY, Stage.COLLECTOR)
    assert status.forbearance_until is None  # ended: no longer shown
    kinds = [e.kind for e in await handle.query(Case.timeline)]
    assert {"risk_review", "risk_decision", "forbearance_ended"} <= set(kinds)


async def plan_case(harness: CaseHarness) -> CaseHandle:
    handle = await harness.start(dpd=20, outstanding=300_000, overdue=60_000)
    await harness.sleep_days(0.2)
    await handle.execute_update(Case.report_hardship, ReasonInput(reason="illness"))
    review = await risk_review(harness, handle)
    today = await harness.today()
    await review.execute_update(
        RiskReviewWorkflow.decide,
        RiskDecision(
            kind=RiskDecisionKind.PAYMENT_PLAN,
            decided_by="risk-officer-2",
            reason="can pay in two parts",
            instalments=(
                Instalment(due_date=today + timedelta(days=10), amount_minor=30_000),
                Instalment(due_date=today + timedelta(days=20), amount_minor=30_000),
            ),
        ),
    )
    await harness.sleep_days(0.5)
    return handle


async def test_a_payment_plan_kept_returns_the_case_to_collection_cured(
    departments: CaseHarness,
) -> None:
    handle = await plan_case(departments)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=30_000, currency="CNY", payment_ref="i1"),
    )
    await departments.sleep_days(15)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=30_000, currency="CNY", payment_ref="i2"),
    )
    final = await handle.result()
    assert final.closed_reason is ClosureReason.CURED
    kinds = [e.kind for e in await handle.query(Case.timeline)]
    assert "plan_kept" in kinds and "plan_broken" not in kinds


async def test_a_missed_instalment_breaks_the_plan(departments: CaseHarness) -> None:
    handle = await plan_case(departments)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="x"),
    )
    await departments.sleep_days(14)  # due in 10 days, plus 2 days' grace
    status = await handle.query(Case.status)
    assert status.stage in (Stage.EARLY, Stage.COLLECTOR)
    kinds = [e.kind for e in await handle.query(Case.timeline)]
    assert "plan_broken" in kinds


async def legal_ready_case(harness: CaseHarness) -> CaseHandle:
    """A case past the legal threshold whose collectors reached the customer over 30 days,
    worked until a supervisor is asked to approve its referral."""
    handle = await harness.start(dpd=60, outstanding=900_000, overdue=400_000)
    for _ in range(60):
        await harness.sleep_days(1)
        tasks = (await handle.query(Case.status)).open_tasks
        if any(t.kind is TaskKind.SUPERVISOR_APPROVAL for t in tasks):
            return handle
        for task in tasks:
            outcome = {
                TaskKind.COLLECTOR_CALL: TaskOutcome.REFUSED,
                TaskKind.ESCALATION: TaskOutcome.REASSIGNED,
            }.get(task.kind)
            if outcome is not None:
                await handle.execute_update(
                    Case.complete_task,
                    CompleteTaskInput(task_key=task.key, collector="c-1", outcome=outcome),
                )
    raise AssertionError("no supervisor approval was asked for")


async def approve_referral(
    harness: CaseHarness, handle: CaseHandle
) -> WorkflowHandle[LegalReferralWorkflow, object]:
    status = await handle.query(Case.status)
    [approval] = [t for t in status.open_tasks if t.kind is TaskKind.SUPERVISOR_APPROVAL]
    await handle.execute_update(
        Case.complete_task,
        CompleteTaskInput(
            task_key=approval.key, collector="supervisor-1", outcome=TaskOutcome.APPROVED
        ),
    )
    await harness.sleep_days(0.1)
    status = await handle.query(Case.status)
    assert status.stage is Stage.LEGAL and status.legal_referral
    return harness.client.get_workflow_handle_for(LegalReferralWorkflow.run, status.legal_referral)


async def test_a_referral_is_refused_while_preconditions_are_missing(
    departments: CaseHarness,
) -> None:
    handle = await departments.start(dpd=95)
    await departments.sleep_days(1)
    status = await handle.query(Case.status)
    assert status.stage is Stage.COLLECTOR
    assert not [t for t in status.open_tasks if t.kind is TaskKind.SUPERVISOR_APPROVAL]
    events = await handle.query(Case.timeline)
    [refusal] = [e for e in events if e.kind == "legal_not_ready"]
    assert "two effective contacts 30 days apart" in refusal.detail


async def test_legal_returns_a_referral_and_the_case_goes_back_to_the_collectors(
    departments: CaseHarness,
) -> None:
    handle = await legal_ready_case(departments)
    referral = await approve_referral(departments, handle)
    await referral.execute_update(
        LegalReferralWorkflow.return_referral,
        ReturnReferralInput(by="counsel-1", reason="balance below the litigation floor"),
    )
    await departments.sleep_days(0.1)
    status = await handle.query(Case.status)
    assert status.stage is Stage.COLLECTOR and status.legal_referral is None
    assert any("litigation floor" in e.detail for e in await handle.query(Case.timeline))


async def test_legal_accepts_a_referral_carries_it_to_judgment_and_closes_the_case(
    departments: CaseHarness,
) -> None:
    handle = await legal_ready_case(departments)
    referral = await approve_referral(departments, handle)
    today = await departments.today()
    await referral.execute_update(LegalReferralWorkflow.accept, AcceptReferralInput(by="counsel-1"))
    assert (await handle.query(Case.status)).legal_accepted_by == "counsel-1"
    for kind in (ProceedingKind.FILED, ProceedingKind.HEARING):
        await referral.execute_update(
            LegalReferralWorkflow.record_proceeding,
            ProceedingInput(kind=kind, on=today, by="counsel-1"),
        )
    status = await handle.query(Case.status)
    assert not [t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL]
    await departments.sleep_days(30)
    status = await handle.query(Case.status)
    assert status.contacts_sent == 0 or status.open_tasks == ()  # legal holds the case
    assert not [t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL]

    # Legal lets the collectors call again while it holds the case.
    await referral.execute_update(
        LegalReferralWorkflow.set_contact_permission,
        ContactPermissionInput(allowed=True, by="counsel-1", reason="settlement talks"),
    )
    await departments.sleep_days(1)
    status = await handle.query(Case.status)
    assert [t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL]
    await referral.execute_update(
        LegalReferralWorkflow.set_contact_permission,
        ContactPermissionInput(allowed=False, by="counsel-1", reason="talks failed"),
    )
    await departments.sleep_days(0.1)
    status = await handle.query(Case.status)
    assert not [t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL]
    today = await departments.today()
    await referral.execute_update(
        LegalReferralWorkflow.record_proceeding,
        ProceedingInput(
            kind=ProceedingKind.JUDGMENT, on=today, by="counsel-1", amount_minor=900_000
        ),
    )
    await referral.execute_update(
        LegalReferralWorkflow.record_proceeding,
        ProceedingInput(
            kind=ProceedingKind.CLOSED, on=today, by="counsel-1", note="judgment enforced"
        ),
    )
    final = await handle.result()
    assert final.closed_reason is ClosureReason.LEGAL_CLOSED
