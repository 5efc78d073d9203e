"""A case started on a release records one marker for all the changes the release gathers;
a case recorded before it still replays change by change (tests/workflows/test_replay.py,
over tests/histories/before-release-2026-12)."""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType

from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case
from workflows.changes import RELEASES


async def test_a_new_case_records_one_marker_for_its_release_and_none_per_change(
    harness: CaseHarness,
) -> None:
    await harness.sleep_until_local(10)
    handle = await harness.start(dpd=5)  # its first reminder goes at once
    await harness.sleep_days(10.5)  # past the ladder's steps at 5 and 10 days
    assert (await handle.query(Case.status)).contacts_sent >= 2

    events = (await handle.fetch_history()).events
    patches = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert patches == [RELEASES[0][0]]
    first_send = next(
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "send_contact"
    )
    # Started, its first task (3), the release (marker and upsert), the assessment, the search
    # attributes, the first write, the send scheduled: nothing else before the first reminder.
    assert first_send + 1 == 10
