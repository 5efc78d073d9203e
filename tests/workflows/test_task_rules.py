"""The task rules at their edges: booking a field visit inside the customer's contact hours
(in their own time zone, across a clock change), two collectors, the longest slot and the
booking horizon; checking in no earlier than half an hour before the slot; who may be given a
task; and what claiming, completing, escalating and cancelling record."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from models.strategy import ContactRules
from models.tasks import (
    AssignTaskInput,
    CompleteTaskInput,
    TaskKind,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
    VisitCheckInput,
    VisitSlotInput,
)
from workflows import task_rules

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SHANGHAI = "Asia/Shanghai"
RULES = ContactRules()  # 08:00-21:00
PAIR = ("ann.li", "bo.chen")


def task(kind: TaskKind = TaskKind.FIELD_VISIT, **changes: object) -> TaskRecord:
    base = TaskRecord(
        key="case-1/0/t1",
        case_id="case-1",
        kind=kind,
        queue="operations",
        deadline=NOW + timedelta(days=2),
        created_at=NOW,
    )
    return TaskRecord(**{**base.__dict__, **changes})


def slot(day: date, start: time, end: time, collectors: tuple[str, ...] = PAIR) -> VisitSlotInput:
    return VisitSlotInput("case-1/0/t1", day, start, end, collectors)


TOMORROW = date(2026, 12, 6)
HOURS = "a visit is within the contact hours"
TWO = "a field visit is made by two collectors: name both"
OFFSET = "the slot's hours are the customer's own clock time: give them without an offset"


@pytest.mark.parametrize(
    ("req", "problem"),
    [
        (slot(TOMORROW, time(8), time(10)), ""),  # the window's first minute
        (slot(TOMORROW, time(17), time(21)), ""),  # its last, and the longest slot
        (slot(TOMORROW, time(7, 59), time(9)), f"{HOURS}, 08:00-21:00 in the customer's time"),
        (slot(TOMORROW, time(19), time(21, 1)), f"{HOURS}, 08:00-21:00 in the customer's time"),
        (slot(TOMORROW, time(9), time(13, 1)), "a slot is at most 4 hours"),
        (slot(TOMORROW, time(10), time(10)), "the slot must end after it starts"),
        # An offset cannot be read against the customer's clock (the API fuzz test found a 502).
        (slot(TOMORROW, time(10), time(12, tzinfo=UTC)), OFFSET),
        (slot(TOMORROW, time(10, tzinfo=UTC), time(12)), OFFSET),
        (slot(TOMORROW, time(10), time(12), ("ann.li",)), TWO),
        (slot(TOMORROW, time(10), time(12), ("ann.li", " ann.li ")), TWO),
        (slot(date(2026, 12, 5), time(9), time(11)), "the slot has already begun"),  # 09:00 today
        (slot(date(2026, 12, 5), time(10), time(11)), "the slot has already begun"),  # now
        (slot(date(2026, 12, 5), time(14), time(16)), ""),  # later today
        (slot(date(2026, 12, 19), time(9), time(10)), ""),  # 14 days ahead, less an hour
        (slot(date(2026, 12, 19), time(10), time(11)), ""),  # 14 days ahead to the minute
        (slot(date(2026, 12, 19), time(11), time(12)), "a visit is booked at most 14 days ahead"),
    ],
)
def test_a_visit_is_booked_inside_the_customers_hours_and_horizon(
    req: VisitSlotInput, problem: str
) -> None:
    assert task_rules.booking_problem(task(), req, RULES, SHANGHAI, NOW) == problem


@pytest.mark.parametrize(
    ("zone", "req", "problem"),
    [
        # Read as instants, these overflow past year 1 or 9999 (found by the API's fuzz test).
        (SHANGHAI, slot(date.min, time(0), time(1)), "the slot has already begun"),
        ("Pacific/Kiritimati", slot(date.min, time(10), time(12)), "the slot has already begun"),
        (
            "Etc/GMT+12",
            slot(date.max, time(20), time(20, 30)),
            "a visit is booked at most 14 days ahead",
        ),
        # A day either side of the fast refusal still gets the exact checks.
        (SHANGHAI, slot(date(2026, 12, 4), time(10), time(12)), "the slot has already begun"),
        (
            SHANGHAI,
            slot(date(2026, 12, 20), time(9), time(10)),
            "a visit is booked at most 14 days ahead",
        ),
        (SHANGHAI, slot(date(2026, 12, 20), time(9), time(14)), "a slot is at most 4 hours"),
        # The fast refusal's edges, with a slot too long for the exact checks: a day past
        # either edge is refused for its day, a day inside gets the exact checks.
        (SHANGHAI, slot(date(2026, 12, 3), time(9), time(14)), "the slot has already begun"),
        (SHANGHAI, slot(date(2026, 12, 4), time(9), time(14)), "a slot is at most 4 hours"),
        (
            SHANGHAI,
            slot(date(2026, 12, 21), time(9), time(14)),
            "a visit is booked at most 14 days ahead",
        ),
        # Today is the customer's: 21:00 on 4 December in New York, whatever the machine's zone.
        (
            "America/New_York",
            slot(date(2026, 12, 3), time(9), time(14)),
            "a slot is at most 4 hours",
        ),
    ],
)
def test_a_day_far_from_today_is_refused_without_reading_it_as_an_instant(
    zone: str, req: VisitSlotInput, problem: str
) -> None:
    assert task_rules.booking_problem(task(), req, RULES, zone, NOW) == problem


def test_only_a_field_visit_is_booked_and_not_once_the_collectors_are_at_the_door() -> None:
    req = slot(TOMORROW, time(10), time(12))
    call = task(TaskKind.COLLECTOR_CALL)
    assert task_rules.booking_problem(call, req, RULES, SHANGHAI, NOW) == (
        "a collector_call task has no visit to book"
    )
    booked, _ = task_rules.book(task(), req, SHANGHAI)
    arrived, _ = task_rules.check_in(booked, VisitCheckInput(booked.key, "bo.chen"), NOW)
    assert task_rules.booking_problem(arrived, req, RULES, SHANGHAI, NOW) == (
        "the collectors are already at the door"
    )


def test_a_booked_slot_is_the_customers_wall_clock_and_its_end_the_deadline() -> None:
    # New York leaves daylight saving on 2026-11-01: 10:00 there is 14:00 UTC before, 15:00 after.
    before = slot(date(2026, 10, 31), time(10), time(12))
    after = slot(date(2026, 11, 2), time(10), time(12))
    booked_before, event = task_rules.book(task(), before, "America/New_York")
    booked_after, _ = task_rules.book(task(), after, "America/New_York")
    assert booked_before.visit is not None and booked_after.visit is not None
    assert booked_before.visit.slot_start == datetime(2026, 10, 31, 14, 0, tzinfo=UTC)
    assert booked_after.visit.slot_start == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert booked_after.visit.slot_end == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    assert booked_after.visit.slot_end.utcoffset() == timedelta(0)  # kept in UTC
    assert booked_after.deadline == booked_after.visit.slot_end
    assert (event.detail(), booked_after.visit.collectors) == (
        "field visit on 2026-10-31, 10:00-12:00 (customer's time), by ann.li,bo.chen",
        PAIR,
    )


def test_check_in_from_half_an_hour_before_the_slot_by_its_collectors_once() -> None:
    booked, _ = task_rules.book(task(), slot(TOMORROW, time(10), time(12)), SHANGHAI)
    assert booked.visit is not None
    start = booked.visit.slot_start
    bo = VisitCheckInput(booked.key, "bo.chen")
    early = start - timedelta(minutes=30, seconds=1)
    assert "slot starts at 2026-12-06 02:00 UTC" in task_rules.check_problem(
        booked, bo, early, leaving=False
    )
    assert task_rules.check_problem(booked, bo, start - timedelta(minutes=30), leaving=False) == ""
    stranger = VisitCheckInput(booked.key, "cy.zhou")
    assert "not one of" in task_rules.check_problem(booked, stranger, start, leaving=False)
    assert task_rules.check_problem(booked, bo, start, leaving=True) == (
        "check in before checking out"
    )

    arrived, event = task_rules.check_in(booked, bo, start + timedelta(minutes=5))
    assert event.detail() == "at the door: bo.chen"
    assert task_rules.check_problem(arrived, bo, start, leaving=True) == ""
    assert arrived.deadline == start + timedelta(minutes=5) + task_rules.REPORT_TIME
    assert task_rules.check_problem(arrived, bo, start, leaving=False) == "already checked in"
    left, event = task_rules.check_out(arrived, bo, start + timedelta(hours=1))
    assert left.visit is not None and left.visit.checked_out_at == start + timedelta(hours=1)
    assert task_rules.check_problem(left, bo, start, leaving=True) == "already checked out"
    assert event.detail() == "left: bo.chen"
    unbooked = task_rules.check_problem(task(), bo, start, leaving=False)
    assert unbooked == "book the visit's slot first"


def test_an_assignment_names_someone_and_moves_only_open_work() -> None:
    req = AssignTaskInput("case-1/0/t1", " bo.chen ", "speaks Cantonese")
    assert task_rules.assignment_problem(task(), AssignTaskInput("k", "  ")) == (
        "assignee is required"
    )
    assert task_rules.assignment_problem(task(status=TaskStatus.DONE), req) == "task is done"
    claimed = task(status=TaskStatus.CLAIMED, assignee="ann.li")
    assert task_rules.assignment_problem(claimed, req) == ""
    allocator = AssignTaskInput(req.task_key, "bo.chen", only_unassigned=True)
    assert task_rules.assignment_problem(claimed, allocator) == "task is already held by ann.li"
    assert task_rules.assignment_problem(task(), allocator) == ""
    placed, _ = task_rules.assign(task(), allocator, "svc-allocator")
    assert (placed.status, placed.assignee) == (TaskStatus.CLAIMED, "bo.chen")  # held now
    moved, event = task_rules.assign(claimed, req, "sup.sue")
    assert (moved.assignee, moved.status, moved.assigned_by) == (
        "bo.chen",
        TaskStatus.CLAIMED,
        "sup.sue",
    )
    assert event.detail() == "field_visit to bo.chen: speaks Cantonese"


def test_claiming_completing_escalating_and_cancelling_record_what_they_say() -> None:
    call = task(TaskKind.COLLECTOR_CALL, note="call the customer")
    claimed, event = task_rules.claim(call, "ann.li")
    assert (claimed.status, claimed.assignee, event.detail()) == (
        TaskStatus.CLAIMED,
        "ann.li",
        "collector_call by ann.li",
    )
    report = CompleteTaskInput(
        call.key, "ann.li", TaskOutcome.REACHED, right_party=True, call_seconds=95
    )
    noted = CompleteTaskInput(call.key, "ann.li", TaskOutcome.REFUSED, note=" will not pay ")
    with_note, event = task_rules.complete(claimed, noted, NOW)
    assert event.detail() == "collector_call by ann.li: refused (will not pay)"  # on the record
    assert with_note.note == " will not pay "
    done, event = task_rules.complete(call, report, NOW)  # completed without a claim first
    assert (done.status, done.assignee, done.outcome, done.closed_at, done.note) == (
        TaskStatus.DONE,
        "ann.li",
        TaskOutcome.REACHED,
        NOW,
        "call the customer",  # no note given: the task's own stays
    )
    assert (done.right_party, done.call_seconds, event.detail()) == (
        True,
        95,
        "collector_call by ann.li: reached",
    )
    escalated, event = task_rules.escalate(call, NOW)
    assert (escalated.status, escalated.closed_at, event.detail()) == (
        TaskStatus.ESCALATED,
        NOW,
        "collector_call missed its deadline",
    )
    cancelled, event = task_rules.cancel(call, "case closed", NOW)
    assert (cancelled.status, cancelled.closed_at, event.detail()) == (
        TaskStatus.CANCELLED,
        NOW,
        "collector_call: case closed",
    )
