"""A closed case is closed everywhere at once: the read model, the search attributes, the task
lists and every department, in the workflow task that closed it; only the closing message
waits for the contact window."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from models.case_status import NextAction
from models.contracts import ClosureReason, ReasonInput, RecordPaymentInput, Stage
from models.departments import AcceptReferralInput, Instalment, RiskDecision, RiskDecisionKind
from models.tasks import TaskKind
from models.visibility import CASE_STAGE
from readmodel.tables import AuditLogRow, CaseRow, HandoffRow, HumanTaskRow, PaymentRecordRow
from tests.workflows.harness import CaseHarness
from tests.workflows.test_case_departments import approve_referral, legal_ready_case, risk_review
from workflows.case import CollectionCaseWorkflow as Case
from workflows.legal_referral import LegalReferralWorkflow
from workflows.risk_review import RiskReviewWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


async def soon(read: Callable[[], Awaitable[T | None]], what: str, seconds: float = 10) -> T:
    """Polls on the wall clock, never the server's: 'at once' means before any timer fires."""
    for _ in range(int(seconds * 10)):
        if (value := await read()) is not None:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


async def test_a_case_paid_at_night_reads_closed_at_once_and_thanks_the_customer_at_eight(
    departments: CaseHarness,
) -> None:
    harness = departments
    mobile = "+8613900000231"
    handle = await harness.start(dpd=40, outstanding=300_000, overdue=120_000, mobile=mobile)
    await harness.sleep_days(0.5)
    status = await handle.query(Case.status)
    [call] = [t for t in status.open_tasks if t.kind is TaskKind.COLLECTOR_CALL]
    paid_at = await harness.sleep_until_local(23)
    texts_before = len(harness.texts_to(mobile))

    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=300_000, currency="CNY", payment_ref="NIGHT-1"),
    )

    async def closed_row() -> CaseRow | None:
        async with harness.db.session() as s:
            row = (await s.exec(select(CaseRow).where(CaseRow.case_id == handle.id))).one()
            return row if row.stage == Stage.CLOSED else None

    row = await soon(closed_row, "the cases row says closed")
    assert row.outstanding_minor == 0 and row.closed_reason == ClosureReason.PAID
    async with harness.db.session() as s:
        payment = (
            await s.exec(select(PaymentRecordRow).where(PaymentRecordRow.case_id == handle.id))
        ).one()
        task = (
            await s.exec(select(HumanTaskRow).where(HumanTaskRow.idempotency_key == call.key))
        ).one()
        audit = [
            r.kind
            for r in await s.exec(select(AuditLogRow).where(AuditLogRow.case_id == handle.id))
        ]
    assert payment.payment_ref == "NIGHT-1" and payment.amount_minor == 300_000
    assert task.status == "cancelled"
    assert {"payment", "stage", "task_cancelled"} <= set(audit)
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(CASE_STAGE) == Stage.CLOSED
    # All of that while it is still night for the customer, and no text went out at night.
    now = (await harness.env.get_current_time()).astimezone(SHANGHAI)
    assert now - paid_at < timedelta(hours=1)
    assert len(harness.texts_to(mobile)) == texts_before

    final = await handle.result()
    assert final.stage is Stage.CLOSED and final.next_action_kind is NextAction.CLOSED
    [closing] = harness.texts_to(mobile)[texts_before:]
    assert "结清" in closing or "paid" in closing.lower()
    sent = [e.at for e in await handle.query(Case.timeline) if e.kind == "contact_sent"]
    assert sent[-1].astimezone(SHANGHAI).hour == 8
    assert sent[-1] - paid_at < timedelta(hours=10)


async def test_paying_in_full_cancels_the_open_risk_review_with_the_reason(
    departments: CaseHarness,
) -> None:
    handle = await departments.start(dpd=3, outstanding=200_000, overdue=50_000)
    await departments.sleep_days(0.2)
    await handle.execute_update(Case.report_hardship, ReasonInput(reason="lost job"))
    review = await risk_review(departments, handle)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=200_000, currency="CNY", payment_ref="FULL-1"),
    )

    async def cancelled_row() -> HandoffRow | None:
        async with departments.db.session() as s:
            row = (
                await s.exec(select(HandoffRow).where(HandoffRow.idempotency_key == review.id))
            ).one()
            return row if row.status == "cancelled" else None

    row = await soon(cancelled_row, "the risk inbox row says cancelled")
    assert "case closed (paid)" in row.reason
    assert (await review.describe()).status is WorkflowExecutionStatus.CANCELED
    final = await handle.result()
    assert final.risk_review is None
    assert "risk_review_cancelled" in [e.kind for e in await handle.query(Case.timeline)]
    # A risk officer's late decision is refused: the review no longer runs.
    with pytest.raises(Exception, match=r"(?i)complete|cancel|not found"):
        await review.execute_update(
            RiskReviewWorkflow.decide,
            RiskDecision(kind=RiskDecisionKind.PROCEED, decided_by="risk-1", reason="late"),
        )


async def test_paying_in_full_in_legal_tells_the_referral_and_legal_decides(
    departments: CaseHarness,
) -> None:
    handle = await legal_ready_case(departments)
    referral = await approve_referral(departments, handle)
    await referral.execute_update(LegalReferralWorkflow.accept, AcceptReferralInput(by="counsel-1"))
    outstanding = (await handle.query(Case.status)).outstanding_minor
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=outstanding, currency="CNY", payment_ref="LEGAL-PAID"),
    )

    async def told() -> str | None:
        return (await referral.query(LegalReferralWorkflow.referral)).case_closed or None

    assert "case closed (paid)" in await soon(told, "the referral hears the case closed")

    async def row_told() -> HandoffRow | None:
        async with departments.db.session() as s:
            row = (
                await s.exec(select(HandoffRow).where(HandoffRow.idempotency_key == referral.id))
            ).one()
            return row if "legal decides what follows" in row.reason else None

    # The referral is still legal's: its row says accepted, and why it may end.
    row = await soon(row_told, "the legal inbox row says the case closed")
    assert row.status == "accepted" and "case closed (paid)" in row.reason
    assert (await referral.describe()).status is WorkflowExecutionStatus.RUNNING
    assert (await handle.query(Case.status)).stage is Stage.CLOSED
    await referral.terminate("test over")


async def test_a_payment_above_the_balance_is_refused_unless_marked_as_an_overpayment(
    departments: CaseHarness,
) -> None:
    handle = await departments.start(dpd=5, outstanding=859_044, overdue=100_000)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            Case.record_payment,
            RecordPaymentInput(amount_minor=747_487_153, currency="CNY", payment_ref="TYPO"),
        )
    assert "mark it as an overpayment" in str(refused.value.cause)
    status = await handle.query(Case.status)
    assert status.stage is not Stage.CLOSED and status.outstanding_minor == 859_044

    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(
            amount_minor=860_044, currency="CNY", payment_ref="OVER", overpayment=True
        ),
    )
    final = await handle.result()
    assert final.closed_reason is ClosureReason.PAID and final.overpaid_minor == 1_000
    overpayments = [e for e in await handle.query(Case.timeline) if e.kind == "overpayment"]
    assert len(overpayments) == 1 and "10.00 CNY" in overpayments[0].detail
    assert overpayments[0].data == {"amount_minor": 1_000, "currency": "CNY", "payment_ref": "OVER"}


async def test_after_a_risk_decision_the_status_tells_its_terms_and_what_comes_next(
    departments: CaseHarness,
) -> None:
    handle = await departments.start(dpd=20, outstanding=300_000, overdue=60_000)
    await departments.sleep_days(0.2)
    await handle.execute_update(Case.report_hardship, ReasonInput(reason="illness"))
    await departments.sleep_days(0.1)
    waiting = await handle.query(Case.status)
    assert waiting.next_action_kind is NextAction.RISK_DECISION
    review = await risk_review(departments, handle)
    today = await departments.today()
    plan = (
        Instalment(due_date=today + timedelta(days=10), amount_minor=30_000),
        Instalment(due_date=today + timedelta(days=20), amount_minor=30_000),
    )
    await review.execute_update(
        RiskReviewWorkflow.decide,
        RiskDecision(
            kind=RiskDecisionKind.PAYMENT_PLAN,
            decided_by="risk-officer-2",
            reason="two parts",
            instalments=plan,
        ),
    )
    await departments.sleep_days(0.5)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=30_000, currency="CNY", payment_ref="I-1"),
    )
    status = await handle.query(Case.status)
    assert status.plan_status == "active"
    assert [(i.due_date, i.amount_minor, i.paid_minor, i.status) for i in status.plan] == [
        (plan[0].due_date, 30_000, 30_000, "paid"),
        (plan[1].due_date, 30_000, 0, "due"),
    ]
    assert status.next_action_kind is NextAction.INSTALMENT
    assert status.next_action == "check the plan's next instalment"


async def test_a_forbearance_shows_its_end_date_and_its_end_as_the_next_action(
    departments: CaseHarness,
) -> None:
    handle = await departments.start(dpd=3)
    await departments.sleep_days(0.2)
    await handle.execute_update(Case.report_hardship, ReasonInput(reason="flood"))
    review = await risk_review(departments, handle)
    until = await departments.today() + timedelta(days=30)
    await review.execute_update(
        RiskReviewWorkflow.decide,
        RiskDecision(
            kind=RiskDecisionKind.FORBEARANCE,
            decided_by="risk-officer-1",
            reason="disaster relief",
            forbearance_until=until,
        ),
    )
    await departments.sleep_days(1)
    status = await handle.query(Case.status)
    assert status.forbearance_until == until
    assert status.next_action_kind is NextAction.FORBEARANCE_END
    assert status.next_action == "end the forbearance"
    assert status.next_action_at is not None
    assert status.next_action_at.date() >= until - timedelta(days=1)
