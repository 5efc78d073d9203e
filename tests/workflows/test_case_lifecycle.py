"""A case's life on the time-skipping server: payments, promises, disputes, opt-outs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from models.contracts import (
    AttemptStatus,
    ChannelInput,
    ClosureReason,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
)
from models.strategy import Channel
from tests.workflows.harness import CaseHarness, sent_at
from workflows.case import CollectionCaseWorkflow as Case


async def test_full_payment_midway_stops_contact_and_closes_as_paid(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=5, outstanding=300_000, overdue=100_000)
    await harness.sleep_days(6)
    mobile = (await handle.query(Case.status)).account_no and harness.fake.messages[0].to
    reminders = len(harness.texts_to(mobile)) + len(harness.calls_to(mobile))
    assert reminders >= 1

    result = await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=300_000, currency="CNY", payment_ref="P-1"),
    )
    assert result.stage is Stage.CLOSED
    final = await handle.result()
    await harness.sleep_days(30)

    assert final.closed_reason is ClosureReason.PAID
    assert final.outstanding_minor == 0
    texts = harness.texts_to(mobile)
    # Only the closing confirmation went out after the payment, never another reminder.
    assert len(texts) + len(harness.calls_to(mobile)) == reminders + 1
    assert "结清" in texts[-1] or "paid" in texts[-1].lower()


async def test_arrears_paid_cures_the_case(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=10, outstanding=500_000, overdue=80_000)
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=50_000, currency="CNY", payment_ref="A"),
    )
    status = await handle.query(Case.status)
    assert status.stage is not Stage.CLOSED and status.overdue_minor == 30_000

    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=30_000, currency="CNY", payment_ref="B"),
    )
    final = await handle.result()
    assert final.closed_reason is ClosureReason.CURED
    assert final.outstanding_minor == 420_000


async def test_a_payment_reference_counts_once(harness: CaseHarness) -> None:
    handle = await harness.start(outstanding=500_000, overdue=100_000)
    pay = RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="BANK-77")
    first = await handle.execute_update(Case.record_payment, pay)
    again = await handle.execute_update(Case.record_payment, pay)
    assert first.accepted and not again.accepted
    assert (await handle.query(Case.status)).paid_minor == 10_000


@pytest.mark.parametrize(
    ("payment", "message"),
    [
        (RecordPaymentInput(amount_minor=-5, currency="CNY", payment_ref="x"), "positive"),
        (RecordPaymentInput(amount_minor=0, currency="CNY", payment_ref="x"), "positive"),
        (RecordPaymentInput(amount_minor=100, currency="USD", payment_ref="x"), "currency"),
        (RecordPaymentInput(amount_minor=100, currency="CNY", payment_ref=" "), "payment_ref"),
    ],
)
async def test_bad_payments_are_refused_before_history(
    harness: CaseHarness, payment: RecordPaymentInput, message: str
) -> None:
    handle = await harness.start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Case.record_payment, payment)
    assert message in str(refused.value.cause)
    history = await handle.fetch_history()
    assert not [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]


async def test_kept_promise_pauses_contact_and_is_counted(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=5, outstanding=400_000, overdue=100_000)
    await harness.sleep_days(1)
    today = await harness.today()
    await handle.execute_update(
        Case.promise_to_pay,
        PromiseToPayInput(
            amount_minor=100_000, currency="CNY", promised_date=today + timedelta(days=10)
        ),
    )
    sent_before = len(sent_at(await harness.timeline(handle)))
    await harness.sleep_days(8)
    assert len(sent_at(await harness.timeline(handle))) == sent_before  # quiet while promised

    # 96% of the promise is within the 5% tolerance.
    await handle.execute_update(
        Case.record_payment,
        RecordPaymentInput(amount_minor=96_000, currency="CNY", payment_ref="K"),
    )
    status = await handle.query(Case.status)
    assert status.promises_kept == 1 and status.open_promise is None


async def test_broken_promise_resumes_contact_and_counts_against_the_next(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(dpd=3, outstanding=400_000, overdue=100_000)
    today = await harness.today()
    await harness.sleep_days(0.5)
    await handle.execute_update(
        Case.promise_to_pay,
        PromiseToPayInput(
            amount_minor=100_000, currency="CNY", promised_date=today + timedelta(days=3)
        ),
    )
    sent_before = len(sent_at(await harness.timeline(handle)))
    await harness.sleep_days(12)
    status = await handle.query(Case.status)
    assert status.promises_broken == 1
    assert len(sent_at(await harness.timeline(handle))) > sent_before  # contact resumed

    # The policy allows two broken promises; the third is refused.
    for _ in range(1):
        today = await harness.today()
        await handle.execute_update(
            Case.promise_to_pay,
            PromiseToPayInput(
                amount_minor=50_000, currency="CNY", promised_date=today + timedelta(days=1)
            ),
        )
        await harness.sleep_days(5)
    assert (await handle.query(Case.status)).promises_broken == 2
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            Case.promise_to_pay,
            PromiseToPayInput(
                amount_minor=50_000, currency="CNY", promised_date=await harness.today()
            ),
        )
    assert "broken" in str(refused.value.cause)


async def test_promise_beyond_the_horizon_is_refused(harness: CaseHarness) -> None:
    handle = await harness.start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            Case.promise_to_pay,
            PromiseToPayInput(
                amount_minor=1_000,
                currency="CNY",
                promised_date=await harness.today() + timedelta(days=45),
            ),
        )
    assert "horizon" in str(refused.value.cause)


async def test_dispute_stops_collection_until_resolved(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=3)
    await harness.sleep_days(0.5)
    await handle.execute_update(
        Case.raise_dispute, ReasonInput(reason="customer says the card was stolen")
    )
    sent_before = len(sent_at(await harness.timeline(handle)))
    await harness.sleep_days(20)
    status = await handle.query(Case.status)
    assert status.dispute_open
    assert len(sent_at(await harness.timeline(handle))) == sent_before
    assert status.stage is Stage.EARLY  # no escalation while the debt is contested

    await handle.execute_update(
        Case.resolve_dispute, ResolveDisputeInput(upheld=False, reason="transactions verified")
    )
    await harness.sleep_days(3)
    assert len(sent_at(await harness.timeline(handle))) > sent_before


async def test_upheld_dispute_closes_the_case(harness: CaseHarness) -> None:
    handle = await harness.start()
    await handle.execute_update(Case.raise_dispute, ReasonInput(reason="not my account"))
    await handle.execute_update(
        Case.resolve_dispute, ResolveDisputeInput(upheld=True, reason="identity theft confirmed")
    )
    assert (await handle.result()).closed_reason is ClosureReason.DISPUTE_UPHELD


async def test_opt_out_is_honoured_at_once(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=5)
    await harness.sleep_days(0.5)
    mobile = harness.fake.messages[-1].to
    await handle.execute_update(
        Case.opt_out, ChannelInput(channel=Channel.SMS, reason="replied TD")
    )
    texts_before = len(harness.texts_to(mobile))
    await harness.sleep_days(25)

    assert len(harness.texts_to(mobile)) == texts_before
    assert harness.calls_to(mobile), "voice reminders still go out"
    attempts = await harness.attempts(handle)
    assert any(a.status == AttemptStatus.REFUSED and a.reason == "opted_out" for a in attempts)


async def test_pause_stops_everything_until_resumed(harness: CaseHarness) -> None:
    handle = await harness.start(dpd=2)
    await harness.sleep_days(0.5)
    await handle.execute_update(Case.pause, ReasonInput(reason="branch review"))
    sent_before = len(sent_at(await harness.timeline(handle)))
    await harness.sleep_days(15)
    status = await handle.query(Case.status)
    assert status.paused and status.stage is Stage.EARLY
    assert len(sent_at(await harness.timeline(handle))) == sent_before
    await handle.execute_update(Case.resume, ReasonInput(reason="review done"))
    await harness.sleep_days(2)
    events = await harness.timeline(handle)
    # After a long pause only the latest due reminder goes, never a burst of stale ones.
    assert len(sent_at(events)) - sent_before <= 2
    assert any(e.kind == "ladder" for e in events)


async def test_past_the_collector_threshold_the_case_moves_to_the_collector_stage(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(dpd=25)
    await harness.sleep_days(7)
    status = await handle.query(Case.status)
    assert status.stage is Stage.COLLECTOR and status.days_past_due >= 31
    assert any(
        e.kind == "stage" and "collector" in e.detail for e in await harness.timeline(handle)
    )


async def test_close_needs_a_reason_and_cannot_claim_paid(harness: CaseHarness) -> None:
    handle = await harness.start()
    from models.contracts import CloseInput

    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(Case.close, CloseInput(reason=ClosureReason.PAID, note="x"))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            Case.close, CloseInput(reason=ClosureReason.WRITTEN_OFF, note="")
        )
    await handle.execute_update(
        Case.close, CloseInput(reason=ClosureReason.WRITTEN_OFF, note="uneconomic")
    )
    assert (await handle.result()).closed_reason is ClosureReason.WRITTEN_OFF


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 2_001, "reason is longer than 2000 characters"),
        ("call back\x00later", "reason holds a control character"),
    ],
)
async def test_an_operator_text_the_case_could_not_store_is_refused_and_the_case_goes_on(
    harness: CaseHarness, text: str, message: str
) -> None:
    """A reason that would fail every write of the case (a NUL: PostgreSQL refuses it) or bloat
    its history is refused up front, not taken in. (A lone surrogate never gets this far: the
    client's converter cannot encode it.)"""
    handle = await harness.start()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(Case.pause, ReasonInput(reason=text))
    assert message in str(refused.value.cause)
    assert text not in str(refused.value.cause)
    await handle.execute_update(Case.pause, ReasonInput(reason="x" * 2_000))  # at the limit
    assert (await handle.query(Case.status)).paused
