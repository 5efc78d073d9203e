"""The steering rules at their edges: what each outcome of a completed task does to the case
(its state, its events, the effects the workflow carries out, the collector's message), and
what the departments' clock makes due and does (escalations, the end of a forbearance, the
next collector call). No Temporal: the rules take a state and a clock, and leave the state
they were given as it was."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_events import StageChanged, StaleStepsSkipped
from models.complaints import Complaint, ComplaintCategory, ComplaintChannel
from models.contact_events import NumberMarkedWrong
from models.contracts import (
    Assessment,
    CaseState,
    ClosureReason,
    Promise,
    PromiseToPayInput,
    Stage,
)
from models.department_events import ForbearanceEnded, TaskEscalated
from models.departments import DepartmentState, Evidence, PlanInstalment
from models.strategy import Channel, Segment
from models.tasks import CompleteTaskInput, TaskKind, TaskOutcome, TaskRecord, TaskStatus
from workflows import steering_rules as steering
from workflows.steering_rules import (
    MakePromise,
    OpenTask,
    StartLegalReferral,
    Steered,
    WriteTask,
)

NOW = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
STRATEGY = load_strategy(POLICY_DIR / "default.toml")  # quiet 7 days, tasks due in 2, legal 91


def case(
    stage: Stage = Stage.COLLECTOR, *, days_ago: int = 3, dpd: int = 40, **dept: Any
) -> CaseState:
    assessment = Assessment(strategy=STRATEGY, score=40, segment=Segment.MEDIUM, lines=())
    return CaseState(
        started_at=NOW - DAY * days_ago,
        initial_dpd=dpd,
        assessment=assessment,
        stage=stage,
        outstanding_minor=100_000,
        overdue_minor=40_000,
        departments=DepartmentState(**dept),
    )


def task(
    kind: TaskKind = TaskKind.COLLECTOR_CALL, key: str = "case-1/0/t1", **changes: Any
) -> TaskRecord:
    base = TaskRecord(
        key=key,
        case_id="case-1",
        kind=kind,
        queue="operations",
        deadline=NOW + 2 * DAY,
        created_at=NOW - DAY,
    )
    return replace(base, **changes)


def done(outcome: TaskOutcome, by: str = "c-7", **changes: Any) -> CompleteTaskInput:
    return CompleteTaskInput(task_key="case-1/0/t1", collector=by, outcome=outcome, **changes)


def steer(state: CaseState, of: TaskRecord, req: CompleteTaskInput, approver: str = "") -> Steered:
    """Steers, and checks the rule left the state it was given as it was."""
    before = deepcopy(state)
    steered = steering.steer(state, of, req, NOW, currency="CNY", approver=approver)
    assert state == before
    return steered


# --- a conversation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (TaskKind.COLLECTOR_CALL, TaskOutcome.REACHED),
        (TaskKind.COLLECTOR_CALL, TaskOutcome.REFUSED),
        (TaskKind.FIELD_VISIT, TaskOutcome.REACHED),
        (TaskKind.FIELD_VISIT, TaskOutcome.REFUSED),
    ],
)
def test_a_conversation_is_an_effective_contact_and_starts_the_quiet_period(
    kind: TaskKind, outcome: TaskOutcome
) -> None:
    earlier = Evidence(at=NOW - 40 * DAY, how="sms delivered", key="case-1/0/a1")
    steered = steer(case(evidence=[earlier]), task(kind), done(outcome, note="spoke"))
    dept = steered.state.departments
    assert steered.state.last_conversation_at == NOW
    assert dept.evidence == [
        earlier,
        Evidence(at=NOW, how=f"{kind} {outcome} by c-7", key="case-1/0/t1"),
    ]
    assert dept.next_call_at == NOW + 7 * DAY
    assert (steered.events, steered.effects) == ((), ())
    assert steered.message == f"task done: {outcome}"


@pytest.mark.parametrize(("kept", "first"), [(49, 0), (50, 1), (51, 2)])
def test_a_case_keeps_its_latest_fifty_effective_contacts(kept: int, first: int) -> None:
    evidence = [
        Evidence(at=NOW - DAY * (60 - i), how="sms delivered", key=f"a{i}") for i in range(kept)
    ]
    steered = steer(case(evidence=evidence), task(), done(TaskOutcome.REACHED))
    after = steered.state.departments.evidence
    assert len(after) == min(kept + 1, 50) == steering.EVIDENCE_KEPT
    assert after[0].key == f"a{first}" and after[-1].key == "case-1/0/t1"


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        (TaskKind.COLLECTOR_CALL, TaskOutcome.NOT_FOUND),
        (TaskKind.COLLECTOR_CALL, TaskOutcome.WRONG_NUMBER),
        (TaskKind.SUPERVISOR_APPROVAL, TaskOutcome.REJECTED),
        (TaskKind.ESCALATION, TaskOutcome.REASSIGNED),
    ],
)
def test_no_conversation_leaves_the_last_one_and_the_evidence_alone(
    kind: TaskKind, outcome: TaskOutcome
) -> None:
    steered = steer(case(), task(kind), done(outcome))
    assert steered.state.last_conversation_at is None
    assert steered.state.departments.evidence == []


# --- each outcome -----------------------------------------------------------------------------


def test_a_promise_is_made_by_the_collector_after_the_conversation() -> None:
    on = date(2026, 6, 15)
    steered = steer(
        case(),
        task(),
        done(TaskOutcome.PROMISE_MADE, promised_amount_minor=50_000, promised_date=on),
    )
    assert steered.state.last_conversation_at == NOW
    assert steered.events == ()
    assert steered.effects == (
        MakePromise(
            PromiseToPayInput(amount_minor=50_000, currency="CNY", promised_date=on), by="c-7"
        ),
    )
    assert steered.message == "promise recorded; contact paused until it is due"


@pytest.mark.parametrize(
    ("amount", "on"), [(None, date(2026, 6, 15)), (50_000, None), (None, None)]
)
def test_a_promise_without_its_amount_or_date_is_never_made(
    amount: int | None, on: date | None
) -> None:
    # The update's validator refuses it first; the rule does not take half a promise.
    half = done(TaskOutcome.PROMISE_MADE, promised_amount_minor=amount, promised_date=on)
    with pytest.raises(AssertionError):
        steering.steer(case(), task(), half, NOW, currency="CNY", approver="")


def test_a_wrong_number_stops_texts_and_calls_and_plans_a_field_visit() -> None:
    steered = steer(case(), task(), done(TaskOutcome.WRONG_NUMBER, by="c-1"))
    assert steered.state.unavailable == [Channel.SMS, Channel.VOICE]
    assert steered.events == (NumberMarkedWrong("collector_call by c-1"),)
    assert steered.effects == (OpenTask(TaskKind.FIELD_VISIT, "operations", "the number is wrong"),)
    assert steered.message == "number marked wrong; a field visit is planned"


def test_nobody_found_by_phone_plans_a_field_visit() -> None:
    state = case()
    steered = steer(state, task(), done(TaskOutcome.NOT_FOUND))
    assert steered.state is state and steered.events == ()
    assert steered.effects == (OpenTask(TaskKind.FIELD_VISIT, "operations", "not found by phone"),)
    assert steered.message == "not found; a field visit is planned"


def test_nobody_found_at_home_resumes_calls_after_the_task_deadline() -> None:
    steered = steer(case(), task(TaskKind.FIELD_VISIT), done(TaskOutcome.NOT_FOUND))
    assert steered.state.departments.next_call_at == NOW + 2 * DAY
    assert (steered.events, steered.effects) == ((), ())
    assert steered.message == "not found at home; calls resume"


@pytest.mark.parametrize(("approver", "named"), [("sup-2", "sup-1 and sup-2"), ("", "sup-1")])
def test_an_approval_starts_the_legal_referral_named_by_both_supervisors(
    approver: str, named: str
) -> None:
    approval = task(TaskKind.SUPERVISOR_APPROVAL, queue="supervisor")
    state = case(approval_task=approval.key)
    steered = steer(state, approval, done(TaskOutcome.APPROVED, by="sup-1"), approver=approver)
    assert steered.state.departments.approval_task is None
    assert steered.state.departments.approval_rejected_at is None
    assert steered.events == ()
    assert steered.effects == (StartLegalReferral(named),)
    assert steered.message == "approved; the case is referred to the legal department"


def test_a_rejected_approval_is_asked_again_only_later() -> None:
    approval = task(TaskKind.SUPERVISOR_APPROVAL, queue="supervisor")
    state = case(approval_task=approval.key)
    steered = steer(state, approval, done(TaskOutcome.REJECTED, by="sup-1"), approver="sup-2")
    dept = steered.state.departments
    assert (dept.approval_task, dept.approval_rejected_at) == (None, NOW)
    assert (steered.events, steered.effects) == ((), ())
    assert steered.message == "referral not approved; collection goes on"


@pytest.mark.parametrize(
    ("note", "why"), [("receipt shown", "receipt shown"), ("", "investigation upheld it")]
)
def test_a_dispute_upheld_closes_the_case(note: str, why: str) -> None:
    state = replace(case(), dispute_reason="not mine")
    investigation = task(TaskKind.DISPUTE_INVESTIGATION, queue="supervisor")
    steered = steer(state, investigation, done(TaskOutcome.DISPUTE_UPHELD, note=note))
    assert steered.state.dispute_reason == ""
    assert (steered.state.stage, steered.state.closed_reason) == (
        Stage.CLOSED,
        ClosureReason.DISPUTE_UPHELD,
    )
    assert steered.events == (
        StageChanged(Stage.COLLECTOR, Stage.CLOSED, f"dispute_upheld: {why}"),
    )
    assert steered.effects == ()
    assert steered.message == "dispute upheld; case closed"


@pytest.mark.parametrize(("days_ago", "skipped"), [(2, 0), (3, 0), (7, 1), (8, 1), (14, 2)])
def test_a_dispute_rejected_resumes_with_the_latest_reminder_due(
    days_ago: int, skipped: int
) -> None:
    # The medium ladder's steps are due 0, 3, 7, 14 and 21 days in; the first has gone.
    state = replace(
        case(Stage.EARLY, days_ago=days_ago, dpd=5), dispute_reason="not mine", ladder_index=1
    )
    investigation = task(TaskKind.DISPUTE_INVESTIGATION, queue="supervisor")
    steered = steer(state, investigation, done(TaskOutcome.DISPUTE_REJECTED))
    assert steered.state.dispute_reason == ""
    assert steered.state.ladder_index == 1 + skipped
    assert steered.state.stage is Stage.EARLY
    assert steered.events == ((StaleStepsSkipped(skipped),) if skipped else ())
    assert steered.effects == ()
    assert steered.message == "dispute rejected; collection resumes"


def test_an_escalation_rejected_resumes_calls_at_once() -> None:
    state = case(next_call_at=NOW + 5 * DAY)
    escalation = task(TaskKind.ESCALATION, queue="supervisor", reopens=TaskKind.COLLECTOR_CALL)
    steered = steer(state, escalation, done(TaskOutcome.REJECTED, by="sup-1"))
    assert steered.state.departments.next_call_at == NOW
    assert (steered.events, steered.effects) == ((), ())
    assert steered.message == "escalation closed; calls resume"


@pytest.mark.parametrize(
    ("reopens", "queue", "opened"),
    [
        (
            TaskKind.FIELD_VISIT,
            "operations",
            OpenTask(TaskKind.FIELD_VISIT, "operations", "reassigned: to ann"),
        ),
        (
            TaskKind.DISPUTE_INVESTIGATION,
            "supervisor",
            OpenTask(TaskKind.DISPUTE_INVESTIGATION, "supervisor", "reassigned: to ann"),
        ),
        (None, "", OpenTask(TaskKind.COLLECTOR_CALL, "operations", "reassigned: to ann")),
        (
            TaskKind.SUPERVISOR_APPROVAL,
            "",
            OpenTask(TaskKind.SUPERVISOR_APPROVAL, "operations", "reassigned: to ann"),
        ),
    ],
)
def test_a_reassigned_escalation_opens_its_task_again(
    reopens: TaskKind | None, queue: str, opened: OpenTask
) -> None:
    state = case()
    escalation = task(TaskKind.ESCALATION, queue="supervisor", reopens=reopens, reopens_queue=queue)
    steered = steer(state, escalation, done(TaskOutcome.REASSIGNED, by="sup-1", note="to ann"))
    assert steered.state is state and steered.events == ()
    assert steered.effects == (opened,)
    assert steered.message == "task reassigned"


# --- the departments' clock -------------------------------------------------------------------


def test_tasks_past_their_deadline_escalate_one_after_the_other() -> None:
    call = task(deadline=NOW)  # due this instant: escalates
    approval = task(
        TaskKind.SUPERVISOR_APPROVAL, "case-1/0/t2", queue="supervisor", deadline=NOW - DAY
    )
    later = task(
        TaskKind.DISPUTE_INVESTIGATION, "case-1/0/t3", deadline=NOW + timedelta(microseconds=1)
    )
    waiting = task(TaskKind.ESCALATION, "case-1/0/t4", queue="supervisor", deadline=NOW - DAY)
    state = case(tasks=[call, waiting, approval, later], approval_task=approval.key)
    before = deepcopy(state)
    steered = steering.escalate_overdue(state, NOW)
    assert state == before
    assert steered.state.departments.approval_task is None
    assert steered.state.departments.tasks == [call, waiting, approval, later]  # the effects' work
    assert steered.events == ()
    assert steered.effects == (
        WriteTask(
            replace(call, status=TaskStatus.ESCALATED, closed_at=NOW),
            TaskEscalated("collector_call"),
        ),
        OpenTask(
            TaskKind.ESCALATION, "supervisor", "collector_call missed its deadline", escalates=call
        ),
        WriteTask(
            replace(approval, status=TaskStatus.ESCALATED, closed_at=NOW),
            TaskEscalated("supervisor_approval"),
        ),
        OpenTask(
            TaskKind.ESCALATION,
            "supervisor",
            "supervisor_approval missed its deadline",
            escalates=approval,
        ),
    )


def test_an_escalated_task_that_is_no_approval_leaves_the_approval_standing() -> None:
    call = task(deadline=NOW - DAY)
    state = case(tasks=[call], approval_task="case-1/0/t9")
    steered = steering.escalate_overdue(state, NOW)
    assert steered.state is state
    assert [type(e) for e in steered.effects] == [WriteTask, OpenTask]


def test_nothing_past_its_deadline_escalates_nothing() -> None:
    state = case(tasks=[task(deadline=NOW + timedelta(microseconds=1))])
    assert steering.escalate_overdue(state, NOW) == Steered(state)


@pytest.mark.parametrize(
    ("dpd", "stage", "events"),
    [
        (
            40,
            Stage.COLLECTOR,
            (StageChanged(Stage.RISK_REVIEW, Stage.COLLECTOR, "back to collection"),),
        ),
        (
            30,
            Stage.COLLECTOR,
            (StageChanged(Stage.RISK_REVIEW, Stage.COLLECTOR, "back to collection"),),
        ),
        (29, Stage.EARLY, (StageChanged(Stage.RISK_REVIEW, Stage.EARLY, "back to collection"),)),
    ],
)
def test_a_forbearance_ends_and_the_case_goes_back_to_collection(
    dpd: int, stage: Stage, events: tuple[StageChanged, ...]
) -> None:
    # Started 1 day ago at `dpd`: 31 days past due is the collector stage; the medium ladder's
    # step due 0 days in is current, none is stale.
    state = case(
        Stage.RISK_REVIEW,
        days_ago=1,
        dpd=dpd,
        forbearance_until=NOW,
        forbearance_until_date=date(2026, 6, 10),
    )
    before = deepcopy(state)
    steered = steering.end_forbearance(state, NOW)
    assert state == before
    dept = steered.state.departments
    assert (dept.forbearance_until, dept.forbearance_until_date) == (None, None)
    assert steered.state.stage is stage
    assert steered.events == (ForbearanceEnded(), *events)
    assert steered.effects == ()


def test_back_in_the_same_stage_only_the_stale_reminders_are_skipped() -> None:
    state = case(Stage.EARLY, days_ago=8, dpd=5, forbearance_until=NOW)
    steered = steering.end_forbearance(state, NOW)
    assert steered.state.stage is Stage.EARLY and steered.state.ladder_index == 2
    assert steered.events == (ForbearanceEnded(), StaleStepsSkipped(2))
    assert state.ladder_index == 0


def test_a_collector_call_is_opened_and_the_next_one_waits_for_it() -> None:
    state = case(next_call_at=NOW)
    steered = steering.open_collector_call(state)
    assert state.departments.next_call_at == NOW
    assert steered.state.departments.next_call_at is None
    assert steered.events == ()
    assert steered.effects == (
        OpenTask(TaskKind.COLLECTOR_CALL, "operations", "call the customer"),
    )


# --- what the departments' clock makes due -----------------------------------------------------


def test_every_task_but_an_escalation_is_due_at_its_deadline() -> None:
    call = task(TaskKind.DISPUTE_INVESTIGATION, deadline=NOW + DAY)
    escalation = task(TaskKind.ESCALATION, "case-1/0/t2", deadline=NOW - DAY)
    state = replace(case(tasks=[call, escalation]), dispute_reason="not mine")
    assert steering.department_due(state, NOW) == [(NOW + DAY, "task_deadline")]


def test_a_forbearance_and_an_active_plan_are_due_when_they_end() -> None:
    paid = PlanInstalment(due_at=NOW, due_date=date(2026, 6, 10), amount_minor=1, status="paid")
    due = PlanInstalment(due_at=NOW + DAY, due_date=date(2026, 6, 11), amount_minor=1)
    state = case(forbearance_until=NOW + 3 * DAY, plan=[paid, due], plan_status="active")
    assert steering.department_due(state, NOW) == [
        (NOW + 3 * DAY, "forbearance_end"),
        (NOW + DAY, "instalment"),
    ]
    assert steering.department_due(case(plan=[paid, due], plan_status="broken"), NOW) == [
        (NOW, "collector_call")
    ]
    assert steering.department_due(case(Stage.EARLY, plan=[paid], plan_status="active"), NOW) == []


@pytest.mark.parametrize(
    ("stage", "allowed", "tasks", "due"),
    [
        (Stage.COLLECTOR, False, [], True),
        (Stage.EARLY, False, [], False),
        (Stage.LEGAL, False, [], False),
        (Stage.LEGAL, True, [], True),
        (Stage.COLLECTOR, False, [task(TaskKind.COLLECTOR_CALL)], False),
        (Stage.COLLECTOR, False, [task(TaskKind.FIELD_VISIT)], False),
        (Stage.COLLECTOR, False, [task(TaskKind.ESCALATION, deadline=NOW + DAY)], False),
        (Stage.COLLECTOR, False, [task(TaskKind.COMPLAINT, deadline=NOW + DAY)], True),
    ],
)
def test_a_collector_call_is_due_when_collecting_with_no_collector_task_open(
    stage: Stage, allowed: bool, tasks: list[TaskRecord], due: bool
) -> None:
    state = case(stage, tasks=tasks, legal_contact_allowed=allowed, next_call_at=NOW + DAY)
    calls = [d for d in steering.department_due(state, NOW) if d[1] == "collector_call"]
    assert calls == ([(NOW + DAY, "collector_call")] if due else [])


def test_a_collector_call_with_no_time_set_is_due_now() -> None:
    assert steering.department_due(case(), NOW) == [(NOW, "collector_call")]


@pytest.mark.parametrize(("dpd", "due"), [(87, False), (88, True)])
def test_the_legal_check_is_due_from_the_legal_threshold(dpd: int, due: bool) -> None:
    # Started 3 days ago: 88 then is 91 days past due now.
    state = case(dpd=dpd, legal_check_at=NOW + 7 * DAY, next_call_at=NOW)
    checks = [d for d in steering.department_due(state, NOW) if d[1] == "legal_check"]
    assert checks == ([(NOW + 7 * DAY, "legal_check")] if due else [])
    assert [
        d
        for d in steering.department_due(replace(state, stage=Stage.LEGAL), NOW)
        if d[1] == "legal_check"
    ] == []
    blocked = replace(state, paused_reason="asked")
    assert steering.department_due(blocked, NOW) == []


def test_the_legal_check_with_no_time_set_is_due_now() -> None:
    assert (NOW, "legal_check") in steering.department_due(case(dpd=100), NOW)


COMPLAINT = Complaint(
    key="k",
    category=ComplaintCategory.FEES,
    channel=ComplaintChannel.LETTER,
    asks="refund",
    received_at=NOW,
    deadline=NOW + 15 * DAY,
    pauses_collection=True,
)
OPEN_PROMISE = Promise(
    amount_minor=1, promised_date=date(2026, 6, 12), made_at=NOW, check_at=NOW + DAY
)


@pytest.mark.parametrize(
    ("changes", "dept", "blocked"),
    [
        ({}, {}, False),
        ({"paused_reason": "asked"}, {}, True),
        ({"complaints": [COMPLAINT]}, {}, True),
        ({"complaints": [replace(COMPLAINT, pauses_collection=False)]}, {}, False),
        ({"dispute_reason": "not mine"}, {}, True),
        ({"hardship_reason": "ill"}, {}, True),
        ({}, {"forbearance_until": NOW}, True),
        ({}, {"plan_status": "active"}, True),
        ({}, {"plan_status": "kept"}, False),
        ({"promise": OPEN_PROMISE}, {}, True),
        ({"promise": replace(OPEN_PROMISE, status="kept")}, {}, False),
        ({"promise": replace(OPEN_PROMISE, status="broken")}, {}, False),
    ],
)
def test_what_blocks_the_collectors(
    changes: dict[str, Any], dept: dict[str, Any], blocked: bool
) -> None:
    state = replace(case(**dept), **changes)
    assert steering.collector_blocked(state) is blocked


# --- shared by the handoffs: a stage, an effective contact ------------------------------------


def test_a_case_moves_to_a_stage_after_what_led_to_it() -> None:
    state = case(Stage.COLLECTOR)
    moved, events = steering.set_stage(state, Stage.LEGAL, "referred", [ForbearanceEnded()])
    assert state.stage is Stage.COLLECTOR
    assert moved == replace(state, stage=Stage.LEGAL)
    assert events == (ForbearanceEnded(), StageChanged(Stage.COLLECTOR, Stage.LEGAL, "referred"))


def test_a_case_already_in_the_stage_stays_as_it_is() -> None:
    state = case(Stage.COLLECTOR)
    assert steering.set_stage(state, Stage.COLLECTOR, "again") == (state, ())
    led = steering.set_stage(state, Stage.COLLECTOR, "again", [ForbearanceEnded()])
    assert led[0] is state and led[1] == (ForbearanceEnded(),)


@pytest.mark.parametrize(("kept", "first"), [(0, 0), (49, 0), (50, 1), (51, 2)])
def test_an_effective_contact_is_added_to_the_latest_fifty(kept: int, first: int) -> None:
    evidence = [
        Evidence(at=NOW - DAY * (60 - i), how="sms delivered", key=f"a{i}") for i in range(kept)
    ]
    state = case(evidence=evidence)
    before = deepcopy(state)
    reached = Evidence(at=NOW, how="voice answered", key="c9")
    after = steering.add_evidence(state, reached).departments.evidence
    assert state == before
    assert len(after) == min(kept + 1, steering.EVIDENCE_KEPT)
    assert after[-1] == reached
    if kept:
        assert after[0].key == f"a{first}"
