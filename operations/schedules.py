"""Temporal Schedules of the collection center, and the namespace's retention of closed
workflows: how long Temporal keeps a finished case's history (with its encrypted payloads).

`collections-retention` starts the retention workflow (`workflows.retention`) daily at 02:00
UTC, `collections-daily-intake` the daily intake (`workflows.daily_intake`) hourly at :05, and
`collections-allocation` the allocator (`workflows.allocation`) every `allocate_every_minutes`,
all on the collections queue; a run still going at the next tick is left to finish (overlap:
skip). `ensure_retention`, `ensure_intake` and `ensure_allocation` create them, or bring
existing ones up to date with the settings while keeping whether an operator paused them (an
allocation every 0 minutes removes its schedule). `collections up` calls them; on a cluster,
run `collections schedule ensure` once after deploying.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleListActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from config.settings import Settings
from models.allocation import ALLOCATION_SCHEDULE, ALLOCATION_WORKFLOW
from models.daily_intake import DAILY_INTAKE_SCHEDULE, DAILY_INTAKE_WORKFLOW, DailyIntakeInput
from models.retention import RETENTION_SCHEDULE, RETENTION_WORKFLOW, RetentionInput
from operations.gateway import Gateway

RUN_AT_HOUR_UTC = 2
# The intake looks into its drop folder every hour, a few minutes past it: a file due by the
# hour is late at the first look after it.
INTAKE_EVERY = timedelta(hours=1)
INTAKE_OFFSET = timedelta(minutes=5)


class ScheduleNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ScheduleView:
    id: str
    workflow: str
    paused: bool
    note: str
    next_run: datetime | None
    last_run: datetime | None
    last_workflow_id: str


def retention_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RETENTION_WORKFLOW,
            RetentionInput(years=settings.retention_years),
            id=RETENTION_SCHEDULE,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queues.collections,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(RUN_AT_HOUR_UTC)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment="daily at 02:00 UTC",
                )
            ],
            time_zone_name="UTC",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def intake_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DAILY_INTAKE_WORKFLOW,
            DailyIntakeInput(
                due_hour_utc=settings.intake_due_hour_utc,
                late_after_hours=settings.intake_late_after_hours,
            ),
            id=DAILY_INTAKE_SCHEDULE,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queues.collections,
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=INTAKE_EVERY, offset=INTAKE_OFFSET)],
            time_zone_name="UTC",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_retention(
    gateway: Gateway, settings: Settings, *, schedule_id: str = RETENTION_SCHEDULE
) -> str:
    """Creates the retention schedule, or updates it to the settings; "created" or
    "updated". A paused schedule stays paused."""
    return await _ensure(gateway.client, schedule_id, retention_schedule(settings))


async def ensure_intake(
    gateway: Gateway, settings: Settings, *, schedule_id: str = DAILY_INTAKE_SCHEDULE
) -> str:
    """Creates the daily intake's schedule, or updates it to the settings; "created" or
    "updated". A paused schedule stays paused."""
    return await _ensure(gateway.client, schedule_id, intake_schedule(settings))


def allocation_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ALLOCATION_WORKFLOW,
            id=ALLOCATION_SCHEDULE,  # Temporal appends each run's scheduled time
            task_queue=settings.task_queues.collections,
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(minutes=settings.allocate_every_minutes))
            ],
            time_zone_name="UTC",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_allocation(
    gateway: Gateway, settings: Settings, *, schedule_id: str = ALLOCATION_SCHEDULE
) -> str:
    """Creates the allocator's schedule, or updates it to the settings: "created" or "updated"
    (a paused schedule stays paused); with `allocate_every_minutes` 0, removes it: "removed",
    or "off" when there was none."""
    if settings.allocate_every_minutes > 0:
        return await _ensure(gateway.client, schedule_id, allocation_schedule(settings))
    try:
        await gateway.client.get_schedule_handle(schedule_id).delete()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return "off"
    return "removed"


async def _ensure(client: Client, schedule_id: str, wanted: Schedule) -> str:
    try:
        await client.create_schedule(schedule_id, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=replace(wanted, state=current.description.schedule.state))

    await client.get_schedule_handle(schedule_id).update(update)
    return "updated"


async def list_schedules(gateway: Gateway) -> list[ScheduleView]:
    views = []
    async for listed in await gateway.client.list_schedules():
        action = listed.schedule.action if listed.schedule else None
        state = listed.schedule.state if listed.schedule else None
        recent = listed.info.recent_actions if listed.info else []
        upcoming = listed.info.next_action_times if listed.info else []
        last = recent[-1] if recent else None
        views.append(
            ScheduleView(
                id=listed.id,
                workflow=action.workflow
                if isinstance(action, ScheduleListActionStartWorkflow)
                else "",
                paused=bool(state and state.paused),
                note=state.note or "" if state else "",
                next_run=upcoming[0] if upcoming else None,
                last_run=last.started_at if last else None,
                last_workflow_id=getattr(last.action, "workflow_id", "") if last else "",
            )
        )
    return sorted(views, key=lambda v: v.id)


async def pause(gateway: Gateway, schedule_id: str, note: str = "") -> None:
    with _known(schedule_id):
        await gateway.client.get_schedule_handle(schedule_id).pause(note=note or "paused")


async def unpause(gateway: Gateway, schedule_id: str, note: str = "") -> None:
    with _known(schedule_id):
        await gateway.client.get_schedule_handle(schedule_id).unpause(note=note or "unpaused")


async def trigger(gateway: Gateway, schedule_id: str) -> None:
    """Runs the schedule's action now (skipped, as at a tick, while its last run goes on)."""
    with _known(schedule_id):
        await gateway.client.get_schedule_handle(schedule_id).trigger()


async def set_closed_workflow_retention(gateway: Gateway, days: int) -> timedelta:
    """How long the namespace keeps closed workflows' histories; returns what it now says."""
    client = gateway.client
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=client.namespace,
            config=NamespaceConfig(
                workflow_execution_retention_ttl=Duration(seconds=days * 24 * 3600)
            ),
        )
    )
    return await closed_workflow_retention(gateway)


async def closed_workflow_retention(gateway: Gateway) -> timedelta:
    client = gateway.client
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


@contextmanager
def _known(schedule_id: str) -> Iterator[None]:
    try:
        yield
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ScheduleNotFound(f"no schedule {schedule_id}") from None
        raise
