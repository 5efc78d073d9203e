"""Whoever acts through the gateway is named on the case's timeline and in its audit log; what
the case does on its own clock is the workflow's."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from models.contracts import AttemptStatus, ContactOutcome, ReasonInput, RecordPaymentInput
from models.people import Actor
from operations.gateway import Gateway
from readmodel.tables import AuditLogRow
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case


async def test_two_collectors_actions_land_under_their_own_names(harness: CaseHarness) -> None:
    handle = await harness.start(outstanding=300_000, overdue=100_000)
    gateway = Gateway(harness.client, answer_within=10)
    wang = gateway.acting(Actor("wang.fang", via="console"))
    li = gateway.acting(Actor("li.lei", via="cli"))
    assert (await wang.update(handle.id, Case.pause, ReasonInput(reason="asked"))).ok
    assert (await li.update(handle.id, Case.resume, ReasonInput(reason="back"))).ok
    paid = RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="A-1")
    assert (await wang.update(handle.id, Case.record_payment, paid)).ok
    unnamed = await gateway.update(handle.id, Case.pause, ReasonInput(reason="script"))
    assert unnamed.ok

    timeline = (await gateway.query(handle.id, Case.timeline)).unwrap()
    by = {(e.kind, e.actor) for e in timeline}
    assert {
        ("paused", "wang.fang (console)"),
        ("resumed", "li.lei (cli)"),
        ("payment", "wang.fang (console)"),
        ("paused", "workflow"),
    } <= by
    assert ("opened", "workflow") in by

    async def audit() -> list[tuple[str, str]]:
        async with harness.db.session() as s:
            rows = await s.exec(
                select(AuditLogRow)
                .where(AuditLogRow.case_id == handle.id)
                .order_by(col(AuditLogRow.seq))
            )
            return [(r.kind, r.actor) for r in rows]

    for _ in range(100):
        rows = await audit()
        if ("payment", "wang.fang (console)") in rows and rows.count(("paused", "workflow")):
            break
        await asyncio.sleep(0.05)
    assert ("paused", "wang.fang (console)") in rows and ("resumed", "li.lei (cli)") in rows
    assert ("payment", "wang.fang (console)") in rows


async def test_a_signal_carries_its_sender_too(harness: CaseHarness) -> None:
    await harness.sleep_until_local(10)  # the first reminder goes at once
    handle = await harness.start()
    gateway = Gateway(harness.client, answer_within=10)
    twilio = gateway.acting(Actor("twilio", via="webhook"))
    await harness.sleep_days(0.1)
    [sent] = [c for c in (await harness.attempts(handle)) if c.status != AttemptStatus.REFUSED]
    outcome = ContactOutcome(idempotency_key=sent.idempotency_key, status=AttemptStatus.DELIVERED)
    assert (await twilio.signal(handle.id, Case.contact_outcome, outcome)).ok
    for _ in range(100):
        timeline = (await gateway.query(handle.id, Case.timeline)).unwrap()
        if any(e.kind == "contact_outcome" for e in timeline):
            break
        await asyncio.sleep(0.05)
    [event] = [e for e in timeline if e.kind == "contact_outcome"]
    assert event.actor == "twilio (webhook)"
