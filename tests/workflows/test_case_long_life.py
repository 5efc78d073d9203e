"""A case that lives 200 days continues as new many times and forgets nothing on the way.

The test policy keeps at most 40 history events per run, so the case continues as new every
few of the things it does (a quiet case wakes only for those); everything below is checked
across those runs.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from temporalio.client import Client, WorkflowHandle

from models.case_status import CaseStatus
from models.contracts import ChannelInput, PromiseToPayInput, RecordPaymentInput, Stage
from models.strategy import Channel
from readmodel import queries
from readmodel.tables import PaymentRecordRow
from tests.workflows.harness import POLICIES, CaseHarness, sent_at
from workflows.case import CollectionCaseWorkflow as Case

SHORT_HISTORY = POLICIES / "short_history.toml"


async def run_chain(client: Client, handle: WorkflowHandle[Case, CaseStatus]) -> list[str]:
    """The run ids of the case, first to latest, following each continue-as-new."""
    runs = [handle.first_execution_run_id or ""]
    while True:
        run = client.get_workflow_handle(handle.id, run_id=runs[-1])
        history = await run.fetch_history()
        last = history.events[-1]
        if not last.HasField("workflow_execution_continued_as_new_event_attributes"):
            return runs
        runs.append(last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id)


async def test_a_200_day_case_continues_as_new_and_keeps_its_state(harness: CaseHarness) -> None:
    await harness.sleep_until_local(10)
    handle = await harness.start(
        dpd=5, outstanding=500_000, overdue=120_000, strategy=str(SHORT_HISTORY)
    )
    await harness.sleep_days(0.5)
    today = await harness.today()
    await handle.execute_update(
        Case.promise_to_pay,
        PromiseToPayInput(
            amount_minor=50_000, currency="CNY", promised_date=today + timedelta(days=1)
        ),
    )
    payment = RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="BANK-1")
    await handle.execute_update(Case.record_payment, payment)  # too little to keep the promise
    await handle.execute_update(Case.opt_out, ChannelInput(channel=Channel.SMS, reason="TD"))
    await harness.sleep_days(6)
    early = await handle.query(Case.status)
    early_timeline = await harness.timeline(handle)
    assert early.promises_broken == 1 and early.paid_minor == 10_000
    assert early.contacts_sent >= 2

    await harness.sleep_days(200)

    runs = await run_chain(harness.client, handle)
    assert len(runs) >= 3, "the case should have continued as new more than once"
    assert (await handle.describe()).run_id == runs[-1] != runs[0]
    now = await harness.env.get_current_time()
    status = (await handle.query(Case.status)).as_of(now)  # the handle follows to the latest run
    assert status.stage is Stage.COLLECTOR and status.days_past_due >= 205
    assert status.paid_minor == 10_000 and status.outstanding_minor == 490_000
    assert (status.promises_broken, status.promises_kept) == (1, 0)
    assert status.contacts_sent >= early.contacts_sent
    assert status.opted_out == (Channel.SMS,)
    assert status.strategy_version == early.strategy_version

    timeline = await harness.timeline(handle)
    # Nothing was trimmed yet (the kept window is 200 events): the early story is still there.
    assert timeline[: len(early_timeline)] == early_timeline
    assert [e.kind for e in timeline[:1]] == ["opened"]
    assert {"promise", "payment", "opted_out", "promise_broken"} <= {e.kind for e in early_timeline}
    assert len(sent_at(timeline)) == status.contacts_sent
    assert sum(e.kind == "stage" for e in timeline) == 1
    assert sum(e.kind == "legal_threshold" for e in timeline) == 1

    again = await handle.execute_update(Case.record_payment, payment)
    assert not again.accepted
    assert (await handle.query(Case.status)).paid_minor == 10_000
    case = await queries.get_case(harness.db, account_no=status.account_no, now=now)
    assert case is not None
    async with harness.db.session() as session:
        payments = (
            await session.exec(
                select(PaymentRecordRow).where(PaymentRecordRow.case_id == handle.id)
            )
        ).all()
    assert (case.stage, case.outstanding_minor) == ("collector", 490_000)
    assert case.days_past_due >= 205
    assert [p.payment_ref for p in payments] == ["BANK-1"]
