"""The gateway answers every call to a workflow with one `Answer`, whatever Temporal said."""

from __future__ import annotations

import dataclasses

import pytest
from temporalio.client import Client
from temporalio.service import RPCStatusCode

from models.case_status import CaseStatus
from models.contracts import (
    ActionResult,
    CaseInput,
    CloseInput,
    ClosureReason,
    ReasonInput,
    RecordPaymentInput,
    Stage,
    case_id,
)
from operations.answers import Answer, Outcome
from operations.gateway import MAX_INPUT_BYTES, Gateway
from temporal.client import data_converter
from tests.fakes.temporal_service import RefusingService, unreached_client
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case


def gateway_for(harness: CaseHarness, within: float = 10.0) -> Gateway:
    return Gateway(harness.client, answer_within=within)


async def test_an_update_is_accepted_with_the_workflow_s_answer(harness: CaseHarness) -> None:
    handle = await harness.start(outstanding=300_000, overdue=100_000)
    gateway = gateway_for(harness)
    answer = await gateway.update(
        handle.id,
        Case.record_payment,
        RecordPaymentInput(amount_minor=10_000, currency="CNY", payment_ref="G-1"),
    )
    assert answer.outcome is Outcome.ACCEPTED and answer.ok
    assert answer.unwrap().message == "payment recorded; outstanding 2,900.00 CNY"
    status = await gateway.query(handle.id, Case.status)
    assert isinstance(status.unwrap(), CaseStatus) and status.unwrap().outstanding_minor == 290_000


async def test_a_refusal_carries_the_workflow_s_message_and_changes_nothing(
    harness: CaseHarness,
) -> None:
    handle = await harness.start()
    gateway = gateway_for(harness)
    answer = await gateway.update(handle.id, Case.resume, ReasonInput(reason="back"))
    assert (answer.outcome, answer.message) == (Outcome.REFUSED, "case is not paused")
    with pytest.raises(ValueError, match="refused"):
        answer.unwrap()


async def test_a_closed_case_answers_closed_and_an_unknown_one_not_found(
    harness: CaseHarness,
) -> None:
    handle = await harness.start()
    gateway = gateway_for(harness)
    closed = await gateway.update(
        handle.id, Case.close, CloseInput(reason=ClosureReason.WRITTEN_OFF, note="cost")
    )
    assert closed.ok and closed.unwrap().stage is Stage.CLOSED
    await handle.result()
    again = await gateway.update(handle.id, Case.pause, ReasonInput(reason="x"))
    assert again.outcome is Outcome.CLOSED and "finished (completed)" in again.message
    assert (await gateway.running(handle.id)).outcome is Outcome.CLOSED
    unknown = await gateway.update("case-0000000000", Case.pause, ReasonInput(reason="x"))
    assert unknown.outcome is Outcome.NOT_FOUND
    assert (await gateway.query("case-0000000000", Case.status)).outcome is Outcome.NOT_FOUND


async def test_a_second_start_of_a_running_case_is_already_running(harness: CaseHarness) -> None:
    handle = await harness.start()
    description = await handle.describe()
    gateway = gateway_for(harness)
    again = await gateway.start(
        Case.run,
        await _input_of(harness, handle.id),
        id=handle.id,
        task_queue=description.task_queue,
    )
    assert again.outcome is Outcome.ALREADY_RUNNING


async def _input_of(harness: CaseHarness, workflow_id: str) -> object:
    history = await harness.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    return (await data_converter().decode([payload]))[0]


async def test_an_update_nobody_answers_is_no_answer_within_the_configured_time(
    harness: CaseHarness,
) -> None:
    handle = await harness.client.start_workflow(
        Case.run,
        await _input_of(harness, (await harness.start()).id),
        id="case-nobody-polls",
        task_queue="nobody-polls-this-queue",
    )
    gateway = gateway_for(harness, within=0.5)
    answer = await gateway.update(handle.id, Case.pause, ReasonInput(reason="x"))
    assert answer.outcome is Outcome.NO_ANSWER and "0.5 s" in answer.message
    await handle.terminate("test over")


@pytest.mark.parametrize(
    ("refusal", "outcome"),
    [
        (RPCStatusCode.RESOURCE_EXHAUSTED, Outcome.UNREACHABLE),
        (RPCStatusCode.UNAVAILABLE, Outcome.UNREACHABLE),
        (RPCStatusCode.DEADLINE_EXCEEDED, Outcome.NO_ANSWER),
        (RPCStatusCode.PERMISSION_DENIED, Outcome.FAILED),
    ],
)
async def test_what_temporal_cannot_do_now_is_told_apart_from_a_failure(
    refusal: RPCStatusCode, outcome: Outcome
) -> None:
    gateway = Gateway(Client(RefusingService(refusal), data_converter=data_converter()))
    answer = await gateway.update("case-1", Case.pause, ReasonInput(reason="x"))
    assert answer.outcome is outcome
    assert (answer.retry_after is not None) == (outcome is Outcome.UNREACHABLE)
    assert (await gateway.query("case-1", Case.status)).outcome is outcome


async def test_an_input_too_large_for_temporal_is_refused_before_any_call() -> None:
    """A reason of 600 KiB would pass an API's body limit on another front end and fail the
    case's workflow task at the server; the gateway refuses it with its size, and never calls
    (the client here reaches nothing: a call would answer UNREACHABLE)."""
    gateway = Gateway(unreached_client(), answer_within=2)
    huge = ReasonInput(reason="x" * (MAX_INPUT_BYTES + 1))
    for answer in (
        await gateway.update("case-6222000000000001", Case.pause, huge),
        await gateway.signal("case-6222000000000001", Case.contact_outcome, huge),  # type: ignore[arg-type]
    ):
        assert answer.outcome is Outcome.REFUSED
        assert "bytes once encoded; a workflow takes at most 524,288" in answer.message
        assert "xxxx" not in answer.message
    fits = await gateway.update("case-6222000000000001", Case.pause, ReasonInput(reason="x" * 1000))
    assert fits.outcome is Outcome.UNREACHABLE  # a normal input goes to Temporal


async def test_update_with_start_says_whether_it_started_the_case_even_as_two_calls(
    harness: CaseHarness,
) -> None:
    """The time-skipping server has no update-with-start: the gateway then starts and updates
    in two calls, with the same answer (the dev server's one call: tests/integration)."""
    history = await harness.client.get_workflow_handle((await harness.start()).id).fetch_history()
    [payload] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    [template] = await data_converter().decode([payload], [CaseInput])
    account = dataclasses.replace(template.account, account_no="6222999900000001")
    case = dataclasses.replace(template, account=account)
    gateway = gateway_for(harness)

    async def refresh(overdue: int) -> Answer[ActionResult]:
        changed = dataclasses.replace(account, overdue_minor=overdue)
        return await gateway.update_with_start(
            Case.refresh_account,
            changed,
            start=Case.run,
            start_arg=case,
            id=case_id(account.account_no),
            task_queue=harness.queue,
        )

    first = await refresh(account.overdue_minor)
    assert (first.outcome, first.started) == (Outcome.ACCEPTED, True)
    assert first.unwrap().message == "balances unchanged"  # a new case has the row's own
    second = await refresh(account.overdue_minor - 1_000)
    assert (second.outcome, second.started) == (Outcome.ACCEPTED, False)
    assert second.unwrap().message == "balances refreshed"
