"""A quiet case costs nothing between the things it does: over half a year it wakes for its
ladder's steps and its thresholds (the collector stage, the collector call's deadline, the legal
threshold), never on a calendar tick; its days past due are counted where they are read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from config.settings import POLICY_DIR
from config.strategy import load_strategy
from models.case_status import CaseStatus
from models.contracts import Stage
from operations import cases
from operations.gateway import Gateway
from readmodel import queries
from tests.workflows.harness import CaseHarness, local_send_done
from workflows.case import CollectionCaseWorkflow as Case

STRATEGY = load_strategy(POLICY_DIR / "default.toml")  # what a case started with no name runs
DPD = 5  # days past due at the start: segment low, whose ladder is 0, 5, 10 (voice), 20 days
DAY = timedelta(days=1)


def _days(at: datetime, since: datetime) -> float:
    return round((at - since) / DAY, 3)


async def _quiet_case(harness: CaseHarness) -> tuple[WorkflowHandle[Case, CaseStatus], datetime]:
    opened = await harness.sleep_until_local(10)  # inside the contact window: steps go on time
    return await harness.start(dpd=DPD), opened


def _thresholds() -> dict[str, float]:
    """The days the case does something other than a ladder step, from the strategy."""
    stages = STRATEGY.stages
    collector = stages.collector_dpd - DPD
    return {
        "collector stage (and its first call)": collector,
        "the call's deadline": collector + STRATEGY.task_deadline_days,
        "legal threshold (and the legal check)": stages.legal_dpd - DPD,
    }


async def test_half_a_year_of_a_quiet_case_is_its_ladder_and_its_thresholds(
    harness: CaseHarness,
) -> None:
    handle, opened = await _quiet_case(harness)
    await harness.sleep_days(180)

    history = await handle.fetch_history()
    kinds = Counter(event.event_type for event in history.events)
    steps = [
        step.offset_days for step in STRATEGY.ladders[(await handle.query(Case.status)).segment]
    ]
    thresholds = _thresholds()
    woke = {
        _days(event.event_time.ToDatetime(tzinfo=UTC), opened)
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    }
    assert woke <= {float(day) for day in [*steps, *thresholds.values()]}, woke

    # Every timer is a step or a threshold (the first step goes out as the case opens); every
    # send a reminder, sent in the task that decided it; every workflow task the opening or a
    # timer's.
    timers = kinds[EventType.EVENT_TYPE_TIMER_STARTED]
    activities = kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    tasks = kinds[EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    assert timers <= len(steps) - 1 + len(thresholds)
    assert activities == 0
    assert sum(local_send_done(event) for event in history.events) == len(steps)
    assert tasks <= 1 + timers
    # A task is 3 events, a timer 2; a task records at most four markers and upserts (a local
    # write, the send, the write after it, the search attributes).
    bound = 1 + tasks * (3 + 4) + timers * 2
    assert len(history.events) <= bound, (len(history.events), bound, kinds)


async def test_the_legal_threshold_is_noted_on_its_day(harness: CaseHarness) -> None:
    handle, opened = await _quiet_case(harness)
    await harness.sleep_days(100)

    timeline = await harness.timeline(handle)
    noted = [e for e in timeline if e.kind == "legal_threshold"]
    legal_day = STRATEGY.stages.legal_dpd - DPD
    assert [_days(e.at, opened) for e in noted] == [legal_day]
    checked = [e for e in timeline if e.kind == "legal_not_ready"]
    assert [_days(e.at, opened) for e in checked] == [legal_day]  # checked then, not weekly
    status = await handle.query(Case.status)
    assert status.stage is Stage.COLLECTOR


async def test_days_past_due_are_read_right_on_any_day_without_a_wake(
    harness: CaseHarness,
) -> None:
    handle, opened = await _quiet_case(harness)
    gateway = Gateway(harness.client)
    account_no = (await handle.query(Case.status)).account_no
    for days in (3.5, 40.25, 150.75):  # between steps, between thresholds, after them all
        await harness.sleep_until(opened + days * DAY)
        now = await harness.env.get_current_time()
        history = await handle.fetch_history()
        last_task = max(
            event.event_time.ToDatetime(tzinfo=UTC)
            for event in history.events
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
        )
        assert now - last_task > DAY / 2, "the case woke: nothing here would show it counts"
        expected = DPD + int(days)

        row = await queries.get_case(harness.db, account_no=account_no, now=now)
        assert row is not None and row.days_past_due == expected
        [listed] = await queries.search_cases(
            harness.db, min_dpd=expected, max_dpd=expected, now=now
        )
        assert listed.case_id == handle.id
        live = (await cases.live_status(gateway, account_no, now=now)).unwrap()
        assert live.days_past_due == expected
        assert (await handle.query(Case.status)).as_of(now).days_past_due == expected
