"""What a case costs the engine where people feel it: a quiet day does not wake a case, yet the
read model shows its days past due current, and an operator's action is answered without
waiting for the read model (its writes are local activities only where no answer waits on
them). `test_case_quiet` follows a quiet case for half a year."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta
from pathlib import Path

from sqlmodel import select
from temporalio.api.enums.v1 import EventType

from models.contracts import RecordPaymentInput
from readmodel import queries
from readmodel.engine import Database
from readmodel.tables import CaseRow, PaymentRecordRow
from tests.integration.faults_support import sqlite_write_lock
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case

ANSWERED_WITHIN = 4.0  # seconds; an update's round trip here takes tens of milliseconds


async def _case_row(db: Database, case_id: str) -> CaseRow:
    async with db.session() as session:
        return (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).one()


async def test_a_quiet_day_does_not_wake_the_case_and_its_days_past_due_still_count(
    harness: CaseHarness,
) -> None:
    opened = await harness.sleep_until_local(10)
    handle = await harness.start(dpd=5)  # the low segment's ladder: 0, 5, 10 and 20 days
    await harness.sleep_days(4.5)  # days 1 to 4 are quiet: no reminder falls due

    quiet = (opened + timedelta(days=0.5), opened + timedelta(days=4.5))
    tasks = [
        event.event_time.ToDatetime(tzinfo=UTC)
        for event in (await handle.fetch_history()).events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    ]
    woke = [t for t in tasks if quiet[0] < t < quiet[1]]
    assert woke == [], (
        f"a quiet case woke on days {[(t - opened) / timedelta(days=1) for t in woke]}"
    )

    now = await harness.env.get_current_time()
    row = await queries.get_case(harness.db, account_no=handle.id.removeprefix("case-"), now=now)
    assert row is not None and row.days_past_due == 9  # written on day 0, counted on day 4
    assert (await handle.query(Case.status)).contacts_sent == 1


async def test_a_payment_is_answered_while_the_read_model_cannot_be_written(
    harness: CaseHarness,
) -> None:
    await harness.sleep_until_local(10)
    handle = await harness.start(dpd=5)
    await harness.sleep_days(1)  # past the first reminder and a quiet day's wake
    path = Path(harness.db.url.database or "")
    payment = RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="BANK-7")

    async with sqlite_write_lock(path):
        # Every write waits out SQLite's 15-s busy timeout, then fails and is retried. An
        # answer that waited for the write would come only when the SDK heartbeats the
        # workflow task, 8 s in (80 % of its 10-s timeout); one that does not, at once.
        update = handle.execute_update(Case.record_payment, payment)
        result = await asyncio.wait_for(update, ANSWERED_WITHIN)
        assert result.accepted and "outstanding 4,900.00 CNY" in result.message
        async with harness.db.session() as session:
            stored = (await session.exec(select(PaymentRecordRow))).all()
        assert stored == []

    for _ in range(200):  # the write was waiting for the lock, and lands once it is free
        async with harness.db.session() as session:
            stored = (await session.exec(select(PaymentRecordRow))).all()
        if stored:
            break
        await asyncio.sleep(0.1)
    assert [(p.payment_ref, p.amount_minor) for p in stored] == [("BANK-7", 10_000)]
    row = await _case_row(harness.db, handle.id)
    assert row.outstanding_minor == 490_000
