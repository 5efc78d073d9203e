"""Which changes a case takes, and what that costs in its history.

A case whose input names the newest release (as intake names it) takes the release without a
marker; a case whose input names none, or a release its worker does not know, records one
marker for the worker's newest release and none per change; a case recorded before the release
still replays change by change (tests/workflows/test_replay.py, over
tests/histories/before-release-2026-12). While workers of two releases serve one queue, either
may have recorded a case, and the newer one replays both.

Since release-2026-12b a case opens with the assessment its starter made (intake scores the
account), without the assessment activity; a case started without one, or by a worker of the
release before, assesses itself, and replays so."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from models.contracts import CaseInput
from readmodel.engine import Database
from temporal.client import data_converter
from tests.fakes.twilio_api import FakeTwilio
from tests.workflows import harness as case_harness
from tests.workflows.harness import CaseHarness, case_worker, local_activity, twilio_sender
from workflows import case_schedule, changes
from workflows.case import CollectionCaseWorkflow as Case
from workflows.changes import NEWEST_RELEASE, RELEASES

NEXT_RELEASE = "release-2099-01"  # a release after this code's: what a newer starter names


async def started_and_past_two_reminders(
    harness: CaseHarness, release: str, *, assessed: bool = True
) -> WorkflowHistory:
    await harness.sleep_until_local(10)
    # Its first reminder goes at once.
    handle = await harness.start(dpd=5, release=release, assessed=assessed)
    await harness.sleep_days(10.5)  # past the ladder's steps at 5 and 10 days
    assert (await handle.query(Case.status)).contacts_sent >= 2
    return await handle.fetch_history()


def patch_markers(history: WorkflowHistory) -> list[str]:
    return [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]


def local_activities(history: WorkflowHistory) -> list[str]:
    return [name for e in history.events if (name := local_activity(e))]


def events_to_first_reminder(history: WorkflowHistory) -> int:
    """Events up to the first send's completion: its local activity's marker, or (a case before
    LOCAL_SEND) its activity's completion."""
    sends: set[int] = set()
    for i, e in enumerate(history.events):
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if e.activity_task_scheduled_event_attributes.activity_type.name == "send_contact":
                sends.add(e.event_id)
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            if e.activity_task_completed_event_attributes.scheduled_event_id in sends:
                return i + 1
        elif local_activity(e) == "send_contact":
            return i + 1
    raise AssertionError("no send completed")


async def replay_on_a_newer_worker(
    history: WorkflowHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replays as a worker of the next release would: it knows `NEXT_RELEASE` as its newest,
    gathering every change this code's newest gathers and one more."""
    releases = ((NEXT_RELEASE, RELEASES[0][1] | {"a-later-change"}), *RELEASES)
    monkeypatch.setattr(changes, "RELEASES", releases)
    monkeypatch.setattr(changes, "NEWEST_RELEASE", NEXT_RELEASE)
    monkeypatch.setattr(changes, "_GATHERED", dict(releases))
    replayer = Replayer(
        workflows=[Case],
        workflow_runner=UnsandboxedWorkflowRunner(),  # the module's patched constants apply
        data_converter=data_converter(),
    )
    await replayer.replay_workflow(history)


async def test_a_case_that_names_the_newest_release_records_no_marker(
    harness: CaseHarness,
) -> None:
    history = await started_and_past_two_reminders(harness, NEWEST_RELEASE)
    assert patch_markers(history) == []
    assert not any(
        e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TemporalChangeVersion"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in history.events
    )
    # Started, its first task (3), the send (a local activity): nothing else before the first
    # reminder. The assessment came in its input; the opening is written with the send's result.
    assert events_to_first_reminder(history) == 5
    assert local_activities(history)[:2] == ["send_contact", "write_case"]
    assert "assess_case" not in local_activities(history)


async def test_a_case_that_names_no_release_records_one_marker_for_the_newest(
    harness: CaseHarness,
) -> None:
    # An older starter's input: no release named, no assessment made.
    history = await started_and_past_two_reminders(harness, "", assessed=False)
    assert patch_markers(history) == [NEWEST_RELEASE]
    assert local_activities(history)[0] == "assess_case"
    # The same five, the assessment's marker, the release's marker and its
    # `TemporalChangeVersion` upsert.
    assert events_to_first_reminder(history) == 8


async def test_a_case_an_older_worker_took_replays_on_a_newer_one(
    harness: CaseHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A newer starter named its release; this worker does not know it, so it took its own.
    history = await started_and_past_two_reminders(harness, NEXT_RELEASE)
    assert patch_markers(history) == [NEWEST_RELEASE]
    # The newer worker knows the named release, and finds the marker this one recorded.
    await replay_on_a_newer_worker(history, monkeypatch)


async def test_a_case_that_took_its_release_silently_replays_on_a_newer_worker(
    harness: CaseHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = await started_and_past_two_reminders(harness, NEWEST_RELEASE)
    # No marker of its own newer release there: the newer worker takes the one named.
    await replay_on_a_newer_worker(history, monkeypatch)


async def test_an_assessed_case_that_a_worker_of_release_2026_12_took_replays_here(
    on_a_worker_of: OlderWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While workers of release-2026-12 and of this release serve one queue, an older worker may
    take a case that intake assessed and that names this release: it knows neither, records its
    own release's marker and runs the assessment activity. This worker replays that."""
    own_assessment = case_schedule._assessment

    async def ignoring_the_field(shell: Any, input: CaseInput, now: Any) -> Any:
        return await own_assessment(shell, dataclasses.replace(input, assessment=None), now)

    monkeypatch.setattr(case_schedule, "_assessment", ignoring_the_field)
    history = await on_a_worker_of("release-2026-12")
    assert patch_markers(history) == ["release-2026-12"]
    assert local_activities(history)[0] == "assess_case"
    assert "send_contact" not in local_activities(history)
    await _replays_here(history)


async def test_a_case_that_a_worker_of_release_2026_12b_took_replays_here(
    on_a_worker_of: OlderWorker,
) -> None:
    """A worker of release-2026-12b takes the assessment from the input but sends through the
    server: it records its own release's marker and an activity per send."""
    history = await on_a_worker_of("release-2026-12b")
    assert patch_markers(history) == ["release-2026-12b"]
    assert local_activities(history)[:2] == ["write_case", "write_case"]
    assert "send_contact" not in local_activities(history)
    assert events_to_first_reminder(history) == 11  # its marker and upsert, the activity's 3
    await _replays_here(history)


OlderWorker = Callable[[str], Awaitable[WorkflowHistory]]


@pytest.fixture
def on_a_worker_of(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    fake_twilio: FakeTwilio,
    sqlite_db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> OlderWorker:
    """A case that names this code's newest release, run by a worker whose newest is the
    release given (unsandboxed, so that its constants apply)."""

    async def run(release: str) -> WorkflowHistory:
        older = RELEASES[[name for name, _ in RELEASES].index(release) :]
        if changes.LOCAL_SEND not in older[0][1]:  # its code never asks about it
            asks = changes.Changes.taken

            def older_code(self: changes.Changes, change: str) -> bool:
                return change != changes.LOCAL_SEND and asks(self, change)

            monkeypatch.setattr(changes.Changes, "taken", older_code)
        monkeypatch.setattr(changes, "RELEASES", older)
        monkeypatch.setattr(changes, "NEWEST_RELEASE", older[0][0])
        monkeypatch.setattr(changes, "_GATHERED", dict(older))
        settings = dataclasses.replace(
            case_harness.test_settings(task_queue), workflow_sandbox=False
        )
        sender = twilio_sender(fake_twilio)
        try:
            async with case_worker(ts_env, task_queue, sqlite_db, sender, settings=settings):
                harness = CaseHarness(env=ts_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
                return await started_and_past_two_reminders(harness, RELEASES[0][0])
        finally:
            await sender.aclose()
            monkeypatch.undo()

    return run


async def _replays_here(history: WorkflowHistory) -> None:
    replayer = Replayer(
        workflows=[Case],
        workflow_runner=UnsandboxedWorkflowRunner(),
        data_converter=data_converter(),
    )
    await replayer.replay_workflow(history)
