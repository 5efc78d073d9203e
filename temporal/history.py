"""Fetching a workflow's recorded history from Temporal: one run, or a continue-as-new chain;
reading which local activity a marker records."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode


class NoSuchWorkflow(Exception):
    """Temporal has no such workflow (or run) in the namespace; the message names it."""


async def fetch_run(client: Client, workflow_id: str, run_id: str | None = None) -> WorkflowHistory:
    """One run's history: the latest without `run_id`."""
    try:
        return await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        run = f" run {run_id}" if run_id else ""
        raise NoSuchWorkflow(
            f"no workflow {workflow_id}{run} in namespace {client.namespace}"
        ) from None


async def fetch_runs(
    client: Client, workflow_id: str, *, max_runs: int = 0
) -> list[WorkflowHistory]:
    """The latest run and the runs it continues (at most `max_runs`, 0: all), oldest first."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        try:
            history = await fetch_run(client, workflow_id, run_id)
        except NoSuchWorkflow:
            if runs:
                break  # an older run past the namespace's retention
            raise NoSuchWorkflow(
                f"no workflow {workflow_id} in namespace {client.namespace}"
            ) from None
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id
        if not run_id or len(runs) == max_runs:
            break
    return runs[::-1]


async def pending_activities(client: Client, workflow_id: str) -> Sequence[PendingActivityInfo]:
    """Activities the latest run is still trying: their failures are not in the history yet."""
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.raw_description.pending_activities


async def local_activity_type(event: HistoryEvent, converter: DataConverter) -> str:
    """The type of the local activity whose marker `event` is (done or failed: the marker's
    `failure` says which), "" for any other event. A marker keeps the type in its `data`
    payload, which `converter` decodes."""
    if not event.HasField("marker_recorded_event_attributes"):
        return ""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != "core_local_activity" or "data" not in marker.details:
        return ""
    values = await converter.decode(marker.details["data"].payloads)
    found = values[0] if values and isinstance(values[0], dict) else {}
    return str(found.get("activity_type", ""))
