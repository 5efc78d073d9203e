"""A case left alone for months, on the time-skipping server: what its history costs at 30 and
180 days, and how long one wake from a cold cache takes to replay it, against the bare engine.

The case runs the production `default` strategy (real days, 08:00-21:00 contact window),
started at 10:00 in Shanghai by the skipped clock, with its worker in this process
(`build_worker`, the read model in SQLite, the local outbox). The bare workflow sends the same
ladder's reminders at the same offsets as no-op activities and otherwise sleeps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.messaging.senders import OutboxSender
from bench import bare
from bench.measure import HistoryCost, cost, median
from config.settings import POLICY_DIR, TaskQueues, load_settings
from config.strategy import Assessor
from models.contracts import Account, CaseInput, ContactPoints, case_id
from models.visibility import ALL_KEYS
from readmodel import sealing
from readmodel.engine import Database, migrate
from temporal.client import data_converter
from tests.temporal_env import installed_binary
from workers.main import Services, build_worker
from workers.runners import runner_for
from workflows.case import CollectionCaseWorkflow
from workflows.changes import NEWEST_RELEASE

POLICY = POLICY_DIR / "default.toml"
ZONE = ZoneInfo("Asia/Shanghai")
DPD_AT_START = 5
ACCOUNT = Account(
    account_no="6222020000009999",
    product="card",
    currency="CNY",
    outstanding_minor=500_000,
    overdue_minor=120_000,
    oldest_due_date=date(2000, 1, 1),  # replaced by the skipped clock's date at the start
)


@dataclass(frozen=True)
class AgeCost:
    days: int
    total: HistoryCost  # every run of the case so far (continue-as-new chains them)
    runs: int
    current_run_events: int  # what a cold wake replays; bounded by the history limit
    replay_s: float  # median of a few replays of the current run


@dataclass(frozen=True)
class AgingResult:
    segment: str
    history_limit: int
    project: list[AgeCost]
    bare: list[AgeCost]


async def _histories(client: Client, workflow_id: str, first_run: str) -> list[WorkflowHistory]:
    """Every run of `workflow_id`, first to latest, following continue-as-new."""
    histories = []
    run = first_run
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run).fetch_history()
        histories.append(history)
        last = history.events[-1]
        if not last.HasField("workflow_execution_continued_as_new_event_attributes"):
            return histories
        run = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


async def _replay_seconds(replayer: Replayer, history: WorkflowHistory, runs: int) -> float:
    await replayer.replay_workflow(history)  # first use: the sandbox loads the modules
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        await replayer.replay_workflow(history)
        took.append(time.perf_counter() - began)
    return median(took)


async def _age_cost(
    client: Client, handle: WorkflowHandle[Any, Any], days: int, replayer: Replayer, replays: int
) -> AgeCost:
    assert handle.first_execution_run_id is not None
    histories = await _histories(client, handle.id, handle.first_execution_run_id)
    events = [event for history in histories for event in history.events]
    current = histories[-1]
    return AgeCost(
        days=days,
        total=cost(events),
        runs=len(histories),
        current_run_events=len(current.events),
        replay_s=await _replay_seconds(replayer, current, replays),
    )


async def _skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    left = moment - await env.get_current_time()
    if left > timedelta(0):
        await env.sleep(left)


async def run_aging(tmp: Path, ages: tuple[int, ...], replays: int) -> AgingResult:
    # The test server does not advertise every capability; the SDK's warnings about that
    # would land in the middle of the table.
    quiet = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=installed_binary("temporal-test-server"),
        runtime=Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=quiet))),
    )
    try:
        return await _run(env, tmp, ages, replays)
    finally:
        await env.shutdown()


async def _run(
    env: WorkflowEnvironment, tmp: Path, ages: tuple[int, ...], replays: int
) -> AgingResult:
    client = env.client
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in ALL_KEYS
            },
        )
    )
    url = f"sqlite+aiosqlite:///{tmp / 'aging.db'}"
    migrate(url)
    # The read model seals personal fields, as every process does: a throwaway key.
    sealing.configure(sealing.DataKeys([("bench-aging", bytes(32))]))
    queues = TaskQueues(collections="age-cases", risk="age-risk", legal="age-legal")
    base = load_settings(environ={}, env_file=Path("/nonexistent"))
    settings = dataclasses.replace(
        base, task_queues=queues, database_url=url, policy_file=POLICY, var_dir=tmp / "var"
    )
    services = Services(db=Database(url), sender=OutboxSender())
    now = (await env.get_current_time()).astimezone(ZONE)
    ten = datetime.combine(now.date() + timedelta(days=1), clock(10), ZONE)
    await _skip_to(env, ten)
    today = (await env.get_current_time()).date()
    account = dataclasses.replace(ACCOUNT, oldest_due_date=today - timedelta(days=DPD_AT_START))
    assessment = await Assessor.configured(settings).assess(account, "", today)
    strategy, segment = assessment.strategy, assessment.segment
    offsets = tuple(step.offset_days * strategy.day_seconds for step in strategy.ladders[segment])
    case = CaseInput(
        customer_ref="CUST-AGING",
        customer_name="张伟",
        contact=ContactPoints(mobile="+8613800009999"),
        account=account,
        release=NEWEST_RELEASE,  # as intake names it, and assesses it
        assessment=assessment,
    )
    bare_id = "bare-aging"
    replayer = Replayer(
        workflows=[CollectionCaseWorkflow],
        workflow_runner=runner_for(settings),
        data_converter=data_converter(),
    )
    bare_replayer = Replayer(workflows=[bare.BareCase], data_converter=data_converter())
    workers = [build_worker(client, settings, queue, services) for queue in queues.all()]
    workers.append(
        Worker(
            client,
            task_queue="age-bare",
            workflows=[bare.BareCase],
            activities=[bare.Reminders().remind],
        )
    )
    project: list[AgeCost] = []
    bare_costs: list[AgeCost] = []
    async with contextlib.AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker)
        started = await env.get_current_time()
        handle = await client.start_workflow(
            CollectionCaseWorkflow.run,
            case,
            id=case_id(account.account_no),
            task_queue=queues.collections,
        )
        bare_handle = await client.start_workflow(
            bare.CASE, bare.BareInput(reminder_offsets_s=offsets), id=bare_id, task_queue="age-bare"
        )
        for days in ages:
            await _skip_to(env, started + timedelta(days=days))
            project.append(await _age_cost(client, handle, days, replayer, replays))
            bare_costs.append(await _age_cost(client, bare_handle, days, bare_replayer, replays))
    await services.db.dispose()
    return AgingResult(
        segment=str(segment),
        history_limit=strategy.history_limit,
        project=project,
        bare=bare_costs,
    )
