"""Reading a workflow's history as a timeline of rows `(at, kind, detail)`.

The case's audit entries give the domain words (`opened`, `contact_sent`, `payment`, ...);
the history itself adds what the case cannot say about itself: timers it waited on, operator
updates and whether they were taken, signals, activity failures and retries, child workflows,
continue-as-new, failed workflow tasks. Updates a validator refused never enter history, so
they are not here. Payloads are decoded with the converter given (and its codec); one that
cannot be decoded leaves its row without details and `Timeline.undecoded` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import RetryState, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.converter import DataConverter

from cli.history_rows import Timeline, TimelineRow
from cli.history_words import (
    at_minute,
    audit_words,
    enum_words,
    failure_text,
    result_words,
    safe,
    summarize,
)
from models.people import SYSTEM


class Run(Protocol):
    """One run's history (a `WorkflowHistory`, as `operations.history` fetches it)."""

    @property
    def events(self) -> Sequence[HistoryEvent]: ...


STORE_ACTIVITY = "write_case"  # carries the case's audit entries
# Activities whose effect the audit entries already tell, when they can be read.
AUDITED_ACTIVITIES = frozenset(
    {"assess_case", "send_contact", "record_refused_attempt", "apply_delivery_status"}
)
# A run's end keeps its own time: it is the last thing its task did, after any local activity
# in that task moved the workflow's clock past the task's start (a closing message sent).
RUN_ENDS = frozenset(
    f"workflow_execution_{how}_event_attributes"
    for how in ("completed", "failed", "canceled", "continued_as_new")
)
MAX_TASK = timedelta(minutes=1)  # a workflow task takes milliseconds; never trust more
CHILD_STARTED = "child_workflow_execution_started"  # the handoff row is written when initiated
CHILD_WORDS = {"RiskReview": "risk review", "LegalReferral": "legal referral"}


def _is_command(kind: str, attributes: Any) -> bool:
    """An event that a workflow task's completion wrote: the code decided it at the task's start."""
    return kind.startswith("workflow_execution_update_") or any(
        f.name == "workflow_task_completed_event_id" for f in attributes.DESCRIPTOR.fields
    )


def _child_how(event_name: str) -> str:
    how = event_name.removeprefix("child_workflow_execution_")
    return {"canceled": "cancelled", "timed_out": "timed out"}.get(how, how)


class _RunReader:
    """Walks one run's events in order, remembering what later events refer to."""

    def __init__(self, converter: DataConverter, timeline: Timeline) -> None:
        self._converter = converter
        self._timeline = timeline
        self._activities: dict[int, tuple[str, int]] = {}  # scheduled id -> (type, attempt)
        self._timers: dict[int, datetime] = {}  # started id -> fires at
        self._updates: dict[str, tuple[str, str, datetime]] = {}  # id -> (name, args, at)
        self._children: dict[int, str] = {}  # initiated id -> words
        self._audit_readable = False
        self._opened_row: TimelineRow | None = None  # told from the assessment, until an entry

    def _add(self, at: datetime, kind: str, detail: str) -> None:
        self._timeline.rows.append(TimelineRow(at, kind, detail))

    async def _decode(self, payloads: Payloads) -> list[Any] | None:
        if not payloads.payloads:
            return []
        try:
            return await self._converter.decode(payloads.payloads)
        except Exception as exc:  # an encrypted payload without its key, among others
            if not self._timeline.undecoded:
                self._timeline.undecoded = safe(f"{type(exc).__name__}: {exc}")
            return None

    async def _failure_words(self, failure: Failure) -> str:
        """A failure as words; one whose message travels encoded (the payload codec's encoded
        failure attributes) is decoded first, when this reader has the key."""
        if failure.HasField("encoded_attributes"):
            values = await self._decode(Payloads(payloads=[failure.encoded_attributes]))
            if values and isinstance(values[0], dict) and "message" in values[0]:
                decoded = Failure()
                decoded.CopyFrom(failure)
                decoded.message = str(values[0]["message"])
                failure = decoded
        return failure_text(failure)

    async def _summary(self, payloads: Payloads) -> str:
        values = await self._decode(payloads)
        return "encrypted" if values is None else summarize(values)

    async def read(self, events: Sequence[HistoryEvent]) -> None:
        for event in events:
            audit = await self._audit_of(event)
            if audit is not None:
                self._audit_readable = True
                break
        task_time = datetime.min.replace(tzinfo=UTC)
        for event in events:
            kind = event.WhichOneof("attributes") or ""
            attributes = getattr(event, kind)
            at = event.event_time.ToDatetime(tzinfo=UTC)
            if kind == "workflow_task_started_event_attributes":
                task_time = at
            elif _is_command(kind, attributes) and kind not in RUN_ENDS:
                at = max(task_time, at - MAX_TASK)  # as the workflow saw it: `workflow.now()`
            name = kind.removesuffix("_event_attributes")
            handler = getattr(self, "_on_" + name, None)
            if handler is not None:
                await handler(at, attributes, event)
            elif name.startswith("child_workflow_execution_") and name != CHILD_STARTED:
                await self._child_closed(at, attributes, _child_how(name))
        for fires_at in self._timers.values():
            self._add(fires_at, "timer", f"waiting until {at_minute(fires_at)}")
        for name, args, at in self._updates.values():
            self._add(at, "update", f"{name} ({args}) accepted, still running")

    # --- the run itself ------------------------------------------------------------------

    async def _on_workflow_execution_started(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        where = f"started {a.workflow_type.name} on queue {a.task_queue.name}"
        if a.continued_execution_run_id:
            detail = f"{where}, continuing run {a.continued_execution_run_id[:8]}"
        elif a.parent_workflow_execution.workflow_id:
            detail = f"{where}, for {a.parent_workflow_execution.workflow_id}"
        else:
            detail = where
        self._add(at, "started", detail)

    async def _on_workflow_execution_completed(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        values = await self._decode(a.result)
        words = "" if not values else result_words(values[0])
        self._add(at, "completed", f"completed ({words})" if words else "completed")

    async def _on_workflow_execution_failed(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        self._add(at, "failed", f"workflow failed: {await self._failure_words(a.failure)}")

    async def _on_workflow_execution_terminated(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        self._add(at, "terminated", safe(f"terminated: {a.reason or 'no reason given'}"))

    async def _on_workflow_execution_canceled(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        self._add(at, "cancelled", "workflow cancelled")

    async def _on_workflow_execution_timed_out(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        self._add(at, "timed_out", "workflow timed out")

    async def _on_workflow_execution_continued_as_new(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        self._add(
            at, "continued_as_new", f"continued as new (next run {a.new_execution_run_id[:8]})"
        )

    async def _on_workflow_task_failed(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        cause = enum_words(WorkflowTaskFailedCause.Name(a.cause), "WORKFLOW_TASK_FAILED_CAUSE_")
        self._add(
            at,
            "workflow_task_failed",
            f"workflow task failed ({cause}): {await self._failure_words(a.failure)}",
        )

    async def _on_workflow_task_timed_out(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        self._add(
            at, "workflow_task_timed_out", "workflow task timed out (a worker was slow or gone)"
        )

    async def _on_marker_recorded(self, at: datetime, a: Any, event: HistoryEvent) -> None:
        if a.marker_name == "core_local_activity":
            await self._local_activity(at, a.details, event)
        elif a.marker_name == "core_patch":
            key = next((k for k in ("patch-data", "patch_data") if k in a.details), None)
            values = await self._decode(a.details[key]) if key else None
            patch = values[0] if values and isinstance(values[0], dict) else {}
            self._add(at, "patch", f"code version marker {patch.get('id', '?')}")

    async def _audit_of(self, event: HistoryEvent) -> list[dict[str, Any]] | None:
        """The audit entries a case write carries: in a write activity's input, or in the
        receipt a local write returns (its marker keeps the result, not the input). None when
        the event is no write, or its payloads cannot be read."""
        values: list[Any] | None = None
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == STORE_ACTIVITY:
                values = await self._decode(scheduled.input)
        elif event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            details = marker.details
            local = marker.marker_name == "core_local_activity" and "result" in details
            if local and await self._local_activity_name(details) == STORE_ACTIVITY:
                values = await self._decode(details["result"])
        if not values or not isinstance(values[0], dict):
            return None
        return list(values[0].get("audit", []))

    async def _local_activity_name(self, details: Any) -> str:
        data = await self._decode(details["data"]) if "data" in details else None
        return str(data[0].get("activity_type", "")) if data and isinstance(data[0], dict) else ""

    def _add_audit(self, at: datetime, audit: list[dict[str, Any]]) -> None:
        for entry in audit:
            kind = str(entry.get("kind", ""))
            if kind == "opened" and self._opened_row is not None:
                self._timeline.rows.remove(self._opened_row)  # the entry itself says it better
                self._opened_row = None
            when = datetime.fromisoformat(entry["at"]) if entry.get("at") else at
            words = audit_words(kind, entry.get("detail", ""), entry.get("data"))
            actor = str(entry.get("actor", ""))
            self._add(when, kind, words if actor in ("", SYSTEM) else f"{words}, by {actor}")

    async def _local_activity(self, at: datetime, details: Any, event: HistoryEvent) -> None:
        """A local activity leaves a marker with its result but not its input. A local write
        returns the audit entries it stored; a case opened before writes asked for that
        receipt is told from its assessment's result."""
        name = await self._local_activity_name(details)
        if name == STORE_ACTIVITY:
            audit = await self._audit_of(event)
            if audit:
                self._add_audit(at, audit)
            return
        if name == "assess_case" and "result" in details:
            values = await self._decode(details["result"])
            found = values[0] if values and isinstance(values[0], dict) else None
            if found is not None:
                strategy = found.get("strategy") or {}
                detail = (
                    f"strategy {strategy.get('name', '?')} {strategy.get('version', '?')}, "
                    f"score {found.get('score', '?')}, segment {found.get('segment', '?')}"
                )
                self._add(at, "opened", audit_words("opened", detail))
                self._opened_row = self._timeline.rows[-1]
                return
        marker = event.marker_recorded_event_attributes
        if marker.HasField("failure"):
            words = await self._failure_words(marker.failure)
            self._add(at, "activity_failed", f"{name or 'local activity'} failed (local): {words}")
        elif name and not (self._audit_readable and name in AUDITED_ACTIVITIES):
            self._add(at, "activity", f"{name} done (local)")

    # --- activities and timers -----------------------------------------------------------

    async def _on_activity_task_scheduled(self, at: datetime, a: Any, event: HistoryEvent) -> None:
        name = a.activity_type.name
        self._activities[event.event_id] = (name, 1)
        if name != STORE_ACTIVITY:
            return
        self._add_audit(at, await self._audit_of(event) or [])

    def _activity(self, scheduled_id: int) -> tuple[str, int]:
        return self._activities.get(scheduled_id, ("activity", 1))

    async def _on_activity_task_started(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        name, _attempt = self._activity(a.scheduled_event_id)
        self._activities[a.scheduled_event_id] = (name, a.attempt)
        if a.attempt <= 1:
            return
        # The server writes this event when the last attempt ends: the failures before it are
        # counted, and only the latest is kept (some test servers keep none).
        before = a.attempt - 1
        if a.HasField("last_failure"):
            failed = f"failed (attempt {before}): {await self._failure_words(a.last_failure)}"
        else:
            failed = f"failed {before} time{'s' if before > 1 else ''}"
        self._add(at, "activity_retry", f"{name} {failed}; retried (attempt {a.attempt})")

    async def _on_activity_task_completed(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        name, _attempt = self._activity(a.scheduled_event_id)
        if name == STORE_ACTIVITY or (self._audit_readable and name in AUDITED_ACTIVITIES):
            return
        self._add(at, "activity", f"{name} done")

    async def _on_activity_task_failed(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        name, attempt = self._activity(a.scheduled_event_id)
        why = enum_words(RetryState.Name(a.retry_state), "RETRY_STATE_")
        self._add(
            at,
            "activity_failed",
            f"{name} failed (attempt {attempt}): {await self._failure_words(a.failure)}; {why}",
        )

    async def _on_activity_task_timed_out(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        name, attempt = self._activity(a.scheduled_event_id)
        self._add(
            at,
            "activity_failed",
            f"{name} timed out (attempt {attempt}): {await self._failure_words(a.failure)}",
        )

    async def _on_timer_started(self, at: datetime, a: Any, event: HistoryEvent) -> None:
        self._timers[event.event_id] = at + a.start_to_fire_timeout.ToTimedelta()

    async def _on_timer_fired(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        fires_at = self._timers.pop(a.started_event_id, at)
        self._add(at, "timer", f"waited until {at_minute(fires_at)}")

    async def _on_timer_canceled(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        self._timers.pop(a.started_event_id, None)  # something happened first; that is shown

    # --- people and other workflows ------------------------------------------------------

    async def _on_workflow_execution_update_accepted(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        request = a.accepted_request
        args = await self._summary(request.input.args)
        self._updates[request.meta.update_id] = (request.input.name, args, at)

    async def _on_workflow_execution_update_completed(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        name, args, _since = self._updates.pop(a.meta.update_id, ("update", "", at))
        head = f"{name} ({args})" if args else name
        if a.outcome.HasField("failure"):
            self._add(
                at, "update", f"{head} rejected: {await self._failure_words(a.outcome.failure)}"
            )
            return
        values = await self._decode(a.outcome.success)
        answer = values[0] if values else None
        if values is None:
            self._add(at, "update", f"{head} accepted; its answer is encrypted")
        elif isinstance(answer, dict) and "accepted" in answer:
            verdict = "accepted" if answer["accepted"] else "rejected"
            self._add(at, "update", safe(f"{head} {verdict}: {answer.get('message', '')}"))
        else:
            said = summarize(answer) if answer else ""
            self._add(at, "update", f"{head} accepted" + (f": {said}" if said != args else ""))

    async def _on_workflow_execution_update_rejected(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        name = a.rejected_request.input.name
        self._add(at, "update", f"{name} rejected: {await self._failure_words(a.failure)}")

    async def _on_workflow_execution_signaled(self, at: datetime, a: Any, _: HistoryEvent) -> None:
        args = await self._summary(a.input)
        self._add(at, "signal", f"{a.signal_name} ({args})" if args else a.signal_name)

    async def _on_start_child_workflow_execution_initiated(
        self, at: datetime, a: Any, event: HistoryEvent
    ) -> None:
        words = CHILD_WORDS.get(a.workflow_type.name, a.workflow_type.name)
        self._children[event.event_id] = words
        self._add(
            at,
            "child_started",
            f"{words} handed off ({a.workflow_id} on queue {a.task_queue.name})",
        )

    async def _on_start_child_workflow_execution_failed(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        words = self._children.get(a.initiated_event_id, a.workflow_type.name)
        self._add(at, "child_failed", f"{words} could not start ({a.workflow_id}: {a.cause})")

    async def _child_closed(self, at: datetime, a: Any, how: str) -> None:
        words = self._children.get(a.initiated_event_id, a.workflow_type.name)
        if "failure" in a.DESCRIPTOR.fields_by_name and a.HasField("failure"):
            how = f"{how}: {await self._failure_words(a.failure)}"
        self._add(at, "child_closed", f"{words} {how} ({a.workflow_execution.workflow_id})")

    async def _on_signal_external_workflow_execution_initiated(
        self, at: datetime, a: Any, _: HistoryEvent
    ) -> None:
        target = a.workflow_execution.workflow_id
        self._add(at, "signal_sent", f"{a.signal_name} sent to {target}")


async def history_timeline(runs: Sequence[Run], converter: DataConverter) -> Timeline:
    """The rows of `runs` (a continue-as-new chain, oldest first), in time order."""
    timeline = Timeline()
    for run in runs:
        await _RunReader(converter, timeline).read(run.events)
    # The case writes its audit entries at its next flush; each row goes back to its moment.
    timeline.rows.sort(key=lambda row: row.at)
    return timeline
