"""Key rotation on a live case: started under the old key, finished under the new one."""

from __future__ import annotations

import base64
from datetime import timedelta

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from models.contracts import Account, CaseInput, ClosureReason, ContactPoints, RecordPaymentInput
from readmodel.engine import Database
from temporal.client import data_converter
from temporal.codec import KEY_ID, EncryptionCodec, generate_key
from tests.fakes.twilio_api import FakeTwilio
from tests.time_skip import skip
from tests.workflows.harness import CaseHarness, twilio_sender
from tests.workflows.harness import test_settings as settings_for
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow as Case

OLD = ("k-2026-01", base64.b64decode(generate_key()))
NEW = ("k-2026-11", base64.b64decode(generate_key()))


async def client_with(env: WorkflowEnvironment, *keys: tuple[str, bytes]) -> Client:
    codec = EncryptionCodec(list(keys))
    return await env.connect_client(data_converter=data_converter(codec))


def key_ids(payloads: list[Payload]) -> set[str]:
    return {p.metadata[KEY_ID].decode() for p in payloads if KEY_ID in p.metadata}


async def test_a_case_started_under_the_old_key_finishes_under_the_new_one(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> None:
    fake_twilio.reset()
    sender = twilio_sender(fake_twilio)
    services = Services(db=sqlite_db, sender=sender)
    settings = settings_for(task_queue)

    old_client = await client_with(ts_env, OLD)
    # No sticky cache: the next worker takes the case over at once, as after a redeploy.
    async with build_worker(old_client, settings, task_queue, services, max_cached_workflows=0):
        harness = CaseHarness(env=ts_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
        handle = await old_client.start_workflow(
            Case.run,
            await _case_input(harness),
            id="case-rotation-1",
            task_queue=task_queue,
        )
        await skip(ts_env, timedelta(days=1), [handle.id])

    # The keys rotate: workers and clients now hold both, the new one last.
    new_client = await client_with(ts_env, OLD, NEW)
    async with build_worker(new_client, settings, task_queue, services):
        case = new_client.get_workflow_handle_for(Case.run, handle.id)
        await case.execute_update(
            Case.record_payment,
            RecordPaymentInput(amount_minor=500_000, currency="CNY", payment_ref="after-rotation"),
        )
        # This client knows the keys but not the test server's clock: move the clock, then read.
        await skip(ts_env, timedelta(days=2), [case.id])
        final = await case.result()
    await sender.aclose()

    assert final.closed_reason is ClosureReason.PAID
    history = await ts_env.client.get_workflow_handle(handle.id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    completed = history.events[-1].workflow_execution_completed_event_attributes
    assert key_ids(list(started.input.payloads)) == {OLD[0]}
    assert key_ids(list(completed.result.payloads)) == {NEW[0]}


async def _case_input(harness: CaseHarness) -> CaseInput:
    today = await harness.today()
    return CaseInput(
        customer_ref="CUST-ROT",
        customer_name="王芳",
        contact=ContactPoints(mobile="+8613911112222"),
        account=Account(
            account_no="6222000099990001",
            product="card",
            currency="CNY",
            outstanding_minor=500_000,
            overdue_minor=100_000,
            oldest_due_date=today - timedelta(days=5),
        ),
    )
