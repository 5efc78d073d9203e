"""The collector's workspace on the time-skipping server: a call that ends in a promise (who
obtained it, whether it was the right party, how long it lasted), a task put in one
collector's queue by a supervisor, and a field visit booked in the customer's hours that
escalates when nobody checks in by the end of its slot."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from models.contracts import ChannelInput, Stage
from models.people import Actor, Role
from models.strategy import Channel
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskKind,
    TaskOutcome,
    TaskStatus,
    VisitCheckInput,
    VisitSlotInput,
)
from operations.answers import Outcome
from operations.gateway import Gateway
from readmodel.tables import HumanTaskRow, PromiseRecordRow
from tests.workflows.harness import CaseHarness
from tests.workflows.test_case_tasks import CaseHandle, collector_case, open_task, task_rows
from workflows.case import CollectionCaseWorkflow as Case

ANN = Actor("ann.li", via="console", roles=(Role.OPERATIONS,))
BO = Actor("bo.chen", via="console", roles=(Role.OPERATIONS,))
SUE = Actor("sup.sue", via="console", roles=(Role.SUPERVISOR,))
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the harness's customers live there


async def test_a_call_with_a_promise_records_who_obtained_it_and_how_the_call_went(
    harness: CaseHarness,
) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    gateway = Gateway(harness.client, answer_within=10).acting(ANN)
    await gateway.update(handle.id, Case.claim_task, ClaimTaskInput(call.key, "ann.li"))
    today = (await harness.env.get_current_time()).astimezone(SHANGHAI).date()
    outcome = CompleteTaskInput(
        task_key=call.key,
        collector="ann.li",
        outcome=TaskOutcome.PROMISE_MADE,
        note="will pay on payday",
        promised_amount_minor=50_000,
        promised_date=today + timedelta(days=5),
        right_party=True,
        call_seconds=245,
    )
    too_long = CompleteTaskInput(**{**outcome.__dict__, "call_seconds": 5 * 3600})
    refused = await gateway.update(handle.id, Case.complete_task, too_long)
    assert refused.outcome is Outcome.REFUSED and "call_seconds" in refused.message

    done = (await gateway.update(handle.id, Case.complete_task, outcome)).unwrap()
    assert "promise recorded" in done.message
    [row] = await rows_when_written(harness, handle)
    assert (row.status, row.outcome, row.right_party, row.call_seconds) == (
        "done",
        "promise_made",
        True,
        245,
    )
    async with harness.db.session() as session:
        [promise] = (
            await session.exec(
                select(PromiseRecordRow).where(PromiseRecordRow.case_id == handle.id)
            )
        ).all()
    assert (promise.amount_minor, promise.made_by, promise.status) == (50_000, "ann.li", "open")
    status = await handle.query(Case.status)
    assert status.open_promise is not None and status.open_tasks == ()


async def test_a_supervisor_puts_a_task_in_one_collectors_queue_and_nobody_else_takes_it(
    harness: CaseHarness,
) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    gateway = Gateway(harness.client, answer_within=10)
    to_bo = AssignTaskInput(call.key, "bo.chen", reason="speaks the customer's language")

    by_a_collector = await gateway.acting(ANN).update(handle.id, Case.assign_task, to_bo)
    assert by_a_collector.outcome is Outcome.FORBIDDEN
    assigned = (await gateway.acting(SUE).update(handle.id, Case.assign_task, to_bo)).unwrap()
    assert "assigned to bo.chen" in assigned.message

    taken = await gateway.acting(ANN).update(
        handle.id, Case.claim_task, ClaimTaskInput(call.key, "ann.li")
    )
    assert taken.outcome is Outcome.REFUSED and "locked to bo.chen" in taken.message
    [row] = await rows_when_written(harness, handle)
    assert (row.assignee, row.assigned_by, row.status) == ("bo.chen", "sup.sue", "claimed")
    [entry] = [e for e in await harness.timeline(handle) if e.kind == "task_assigned"]
    assert entry.actor.startswith("sup.sue") and "bo.chen" in entry.detail

    # Moved on again (an absent collector's queue): the new assignee completes it.
    to_ann = AssignTaskInput(call.key, "ann.li", reason="bo.chen is away")
    (await gateway.acting(SUE).update(handle.id, Case.assign_task, to_ann)).unwrap()
    report = CompleteTaskInput(call.key, "ann.li", TaskOutcome.REACHED, right_party=False)
    (await gateway.acting(ANN).update(handle.id, Case.complete_task, report)).unwrap()
    [row] = await rows_when_written(harness, handle)
    assert (row.assignee, row.outcome, row.right_party) == ("ann.li", "reached", False)


async def rows_when_written(harness: CaseHarness, handle: CaseHandle) -> list[HumanTaskRow]:
    """The task rows once the case's write after the last update has run."""
    await harness.skip(timedelta(seconds=1))
    return await task_rows(harness, handle)


async def field_visit(harness: CaseHarness) -> tuple[CaseHandle, str]:
    """A case whose number is wrong: the collector's call plans a field visit."""
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    wrong = CompleteTaskInput(call.key, "ann.li", TaskOutcome.WRONG_NUMBER)
    await handle.execute_update(Case.complete_task, wrong)
    visit = await open_task(handle, TaskKind.FIELD_VISIT)
    return handle, visit.key


async def tomorrow(harness: CaseHarness) -> date:
    return (await harness.env.get_current_time()).astimezone(SHANGHAI).date() + timedelta(days=1)


async def test_a_visit_nobody_checks_in_to_escalates_at_the_end_of_its_slot(
    harness: CaseHarness,
) -> None:
    handle, key = await field_visit(harness)
    day = await tomorrow(harness)
    pair = ("ann.li", "bo.chen")

    for slot, problem in [
        (VisitSlotInput(key, day, time(6), time(8), pair), "within the contact hours"),
        (VisitSlotInput(key, day, time(10), time(12), ("ann.li",)), "two collectors"),
        (VisitSlotInput(key, day, time(12), time(10), pair), "end after it starts"),
        (VisitSlotInput(key, day, time(9), time(15), pair), "at most 4 hours"),
        (VisitSlotInput(key, day + timedelta(days=20), time(10), time(12), pair), "14 days"),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(Case.book_visit, slot)
        assert problem in str(refused.value.cause), slot
    assert (await open_task(handle, TaskKind.FIELD_VISIT)).visit is None  # nothing changed

    booked = await handle.execute_update(
        Case.book_visit, VisitSlotInput(key, day, time(10), time(12), pair)
    )
    assert "escalates if nobody checks in" in booked.message
    slot_end = booked_end = (await open_task(handle, TaskKind.FIELD_VISIT)).deadline
    assert booked_end.astimezone(SHANGHAI).time() == time(12)
    [row] = [r for r in await rows_when_written(harness, handle) if r.kind == "field_visit"]
    assert row.visit_collectors == "ann.li,bo.chen" and row.deadline == slot_end

    await harness.sleep_until(slot_end - timedelta(minutes=30))
    assert (await open_task(handle, TaskKind.FIELD_VISIT)).status is TaskStatus.OPEN
    await harness.sleep_until(slot_end + timedelta(minutes=5))
    status = await handle.query(Case.status)
    assert [t.kind for t in status.open_tasks] == [TaskKind.ESCALATION]
    [row] = [r for r in await rows_when_written(harness, handle) if r.kind == "field_visit"]
    assert row.status == "escalated"


async def test_a_visit_checked_in_during_its_slot_is_reported_and_does_not_escalate(
    harness: CaseHarness,
) -> None:
    handle, key = await field_visit(harness)
    day = await tomorrow(harness)
    await handle.execute_update(
        Case.book_visit, VisitSlotInput(key, day, time(14), time(16), ("ann.li", "bo.chen"))
    )
    gateway = Gateway(harness.client, answer_within=10)
    early = await gateway.acting(ANN).update(
        handle.id, Case.check_out_visit, VisitCheckInput(key, "ann.li")
    )
    assert early.outcome is Outcome.REFUSED and "check in before" in early.message
    stranger = Actor("cy.zhou", via="console", roles=(Role.OPERATIONS,))
    not_theirs = await gateway.acting(stranger).update(
        handle.id, Case.check_in_visit, VisitCheckInput(key, "cy.zhou")
    )
    assert not_theirs.outcome is Outcome.REFUSED and "not one of" in not_theirs.message

    await harness.sleep_until(datetime.combine(day, time(14, 20), SHANGHAI))
    (
        await gateway.acting(BO).update(
            handle.id, Case.check_in_visit, VisitCheckInput(key, "bo.chen")
        )
    ).unwrap()
    await harness.skip(timedelta(hours=3))  # past the slot's end: checked in, no escalation
    visit = await open_task(handle, TaskKind.FIELD_VISIT)
    assert visit.visit is not None and visit.visit.checked_in_at is not None
    (
        await gateway.acting(BO).update(
            handle.id, Case.check_out_visit, VisitCheckInput(key, "bo.chen")
        )
    ).unwrap()
    await harness.skip(timedelta(seconds=1))
    async with harness.db.session() as session:
        row = (
            await session.exec(select(HumanTaskRow).where(HumanTaskRow.idempotency_key == key))
        ).one()
    assert row.checked_in_at is not None and row.checked_out_at is not None
    assert abs(row.checked_out_at - row.checked_in_at - timedelta(hours=3)) < timedelta(minutes=1)

    report = CompleteTaskInput(
        key,
        "bo.chen",
        TaskOutcome.REACHED,
        note="spoke with the customer at home; lost their job in October",
        visit=FieldVisitReport(("bo.chen", "ann.li"), consent_to_enter=True),
        right_party=True,
    )
    (await gateway.acting(BO).update(handle.id, Case.complete_task, report)).unwrap()
    [row] = [r for r in await rows_when_written(harness, handle) if r.kind == "field_visit"]
    assert (row.status, row.outcome, row.right_party) == ("done", "reached", True)
    assert (await handle.query(Case.status)).stage is Stage.COLLECTOR


async def test_click_to_call_rings_the_customer_then_the_collector_within_the_policy(
    harness: CaseHarness,
) -> None:
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    gateway = Gateway(harness.client, answer_within=10).acting(ANN)
    agent = "+8613800000001"

    # At night in the customer's time the policy refuses, says when, and records the refusal.
    await harness.sleep_until_local(22)
    night = await gateway.update(
        handle.id, Case.place_call, PlaceCallInput(call.key, "ann.li", agent)
    )
    assert night.outcome is Outcome.ACCEPTED and night.value is not None
    assert not night.value.accepted and "outside_window" in night.value.message
    assert "may be called from" in night.value.message
    bad_phone = await gateway.update(
        handle.id, Case.place_call, PlaceCallInput(call.key, "ann.li", "13800000001")
    )
    assert bad_phone.outcome is Outcome.REFUSED and "agent_phone" in bad_phone.message

    await harness.sleep_until_local(10)
    calls_before = len(harness.fake.calls)
    placed = (
        await gateway.update(handle.id, Case.place_call, PlaceCallInput(call.key, "ann.li", agent))
    ).unwrap()
    assert placed.accepted and "your phone rings" in placed.message
    [bridge] = harness.fake.calls[calls_before:]
    assert f'<Dial timeout="30">{agent}</Dial>' in bridge.body
    assert "Please hold" in bridge.body or "请稍候" in bridge.body
    attempts = [(a.template, a.status, a.reason) for a in await harness.attempts(handle)]
    assert ("voice_bridge", "refused", "outside_window") in attempts
    assert any(t == "voice_bridge" and s != "refused" for t, s, _ in attempts)
    [row] = await rows_when_written(harness, handle)
    assert (row.assignee, row.status) == ("ann.li", "claimed")  # placing the call claimed it


async def test_a_call_to_a_customer_who_opted_out_of_calls_is_refused_for_good(
    harness: CaseHarness,
) -> None:
    """A refusal with no time it would lift (found by the update fuzz test: it failed the
    case's workflow task on every retry)."""
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    await handle.execute_update(Case.opt_out, ChannelInput(Channel.VOICE, "no calls, please"))
    gateway = Gateway(harness.client, answer_within=10).acting(ANN)
    bridge = PlaceCallInput(call.key, "ann.li", "+8613800000001")
    refused = (await gateway.update(handle.id, Case.place_call, bridge)).unwrap()
    assert not refused.accepted
    assert refused.message == "not called: opted_out; not by phone for now"
    assert (await handle.query(Case.status)).stage is Stage.COLLECTOR  # the case is fine


async def test_a_promise_from_a_task_is_the_collectors_whoever_sent_the_report(
    harness: CaseHarness,
) -> None:
    """The command line (the host's user, no roles) reports bo.chen's call: the promise is
    bo.chen's in the figures, not the host user's (found trying `make up`)."""
    handle = await collector_case(harness)
    call = await open_task(handle, TaskKind.COLLECTOR_CALL)
    today = (await harness.env.get_current_time()).astimezone(SHANGHAI).date()
    report = CompleteTaskInput(
        call.key,
        "bo.chen",
        TaskOutcome.PROMISE_MADE,
        promised_amount_minor=20_000,
        promised_date=today + timedelta(days=3),
    )
    await handle.execute_update(Case.complete_task, report)
    await harness.skip(timedelta(seconds=1))
    async with harness.db.session() as session:
        [promise] = (
            await session.exec(
                select(PromiseRecordRow).where(PromiseRecordRow.case_id == handle.id)
            )
        ).all()
    assert promise.made_by == "bo.chen"
