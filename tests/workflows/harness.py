"""A case under test: the real workflow and activities on the time-skipping server, Twilio
faked at its REST API, the read model in a SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.messaging.activities import MessagingActivities
from activities.messaging.senders import Sender, TwilioSender
from config.settings import Settings, TaskQueues, load_settings
from config.strategy import Assessor
from models.case_status import CaseStatus
from models.contracts import Account, CaseInput, ContactPoints, Language, TimelineEvent, case_id
from models.visibility import ALL_KEYS
from readmodel.engine import Database
from readmodel.tables import ContactAttemptRow
from temporal.client import data_converter
from tests.fakes.twilio_api import FakeTwilio
from tests.temporal_env import installed_binary
from tests.time_skip import skip
from workers.main import Services, activities_for, build_worker, workflows_for
from workers.runners import CHECKED
from workflows.acting import ActorInterceptor
from workflows.case import CollectionCaseWorkflow
from workflows.changes import NEWEST_RELEASE

Case = CollectionCaseWorkflow

POLICIES = Path(__file__).parent / "policies"
_accounts = itertools.count(1)


def test_settings(queue: str) -> Settings:
    base = load_settings(environ={}, env_file=Path("/nonexistent"))
    # Workflow code runs in the sandbox here, re-imported for each run under its restrictions.
    return dataclasses.replace(
        base, task_queues=TaskQueues(collections=queue), workflow_sandbox=True
    )


@dataclass
class CaseHarness:
    env: WorkflowEnvironment
    queue: str
    fake: FakeTwilio
    db: Database
    settings: Settings | None = None  # the workers', when not `test_settings(queue)`
    started: list[str] = dataclasses.field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def start(
        self,
        *,
        dpd: int = 5,
        outstanding: int = 500_000,
        overdue: int = 120_000,
        mobile: str | None = None,
        time_zone: str = "Asia/Shanghai",
        language: Language = Language.ZH_CN,
        strategy: str = "",
        release: str = NEWEST_RELEASE,  # as intake names it; "" as an older starter did
        assessed: bool = True,  # as intake assesses it; False: the case assesses itself
    ) -> WorkflowHandle[CollectionCaseWorkflow, CaseStatus]:
        n = next(_accounts)
        account_no = f"62220000{n:08d}"
        today = await self.today()
        case = CaseInput(
            customer_ref=f"CUST{n:06d}",
            customer_name="张伟",
            contact=ContactPoints(
                mobile=mobile or f"+86138{n:08d}", language=language, time_zone=time_zone
            ),
            account=Account(
                account_no=account_no,
                product="card",
                currency="CNY",
                outstanding_minor=outstanding,
                overdue_minor=overdue,
                oldest_due_date=today - timedelta(days=dpd),
            ),
            strategy_version=strategy,
            release=release,
        )
        if assessed:
            assessor = Assessor.configured(self.settings or test_settings(self.queue))
            assessment = await assessor.assess(case.account, strategy, today)
            case = dataclasses.replace(case, assessment=assessment)
        handle = await self.client.start_workflow(
            CollectionCaseWorkflow.run, case, id=case_id(account_no), task_queue=self.queue
        )
        self.started.append(handle.id)
        return handle

    async def sleep_days(self, days: float) -> None:
        await self.skip(timedelta(days=days))

    async def skip(self, by: timedelta) -> None:
        """Moves the clock by `by`, clear of the started cases' timers (see `tests.time_skip`)."""
        await skip(self.env, by, self.started)

    async def sleep_until(self, moment: datetime) -> None:
        """Skips the server's clock forward to `moment` (not at all if it has passed)."""
        left = moment - await self.env.get_current_time()
        if left > timedelta(0):
            await self.skip(left)

    async def sleep_until_local(self, hour: int, time_zone: str = "Asia/Shanghai") -> datetime:
        """Skips the clock to the next `hour`:00 on the wall clock of `time_zone`."""
        zone = ZoneInfo(time_zone)
        now = (await self.env.get_current_time()).astimezone(zone)
        day = now.date() if now.time() < time(hour) else now.date() + timedelta(days=1)
        moment = datetime.combine(day, time(hour), zone)
        await self.sleep_until(moment)
        return moment

    async def timeline(
        self, handle: WorkflowHandle[CollectionCaseWorkflow, CaseStatus]
    ) -> list[TimelineEvent]:
        return await handle.query(CollectionCaseWorkflow.timeline)

    async def attempts(
        self, handle: WorkflowHandle[CollectionCaseWorkflow, CaseStatus]
    ) -> list[ContactAttemptRow]:
        async with self.db.session() as session:
            rows = await session.exec(
                select(ContactAttemptRow)
                .where(ContactAttemptRow.case_id == handle.id)
                .order_by(col(ContactAttemptRow.id))
            )
            return list(rows)

    def texts_to(self, mobile: str) -> list[str]:
        return [m.body for m in self.fake.messages if m.to == mobile]

    def calls_to(self, mobile: str) -> list[str]:
        return [c.body for c in self.fake.calls if c.to == mobile]


def local_activity(event: HistoryEvent) -> str:
    """The type of the local activity whose marker `event` is, "" for any other event (the
    harness's payloads are not encrypted)."""
    if not event.HasField("marker_recorded_event_attributes"):
        return ""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != "core_local_activity":
        return ""
    return str(json.loads(marker.details["data"].payloads[0].data)["activity_type"])


def local_send_done(event: HistoryEvent) -> bool:
    """Whether `event` is a send that went out on its local try (a marker with no failure)."""
    failed = event.marker_recorded_event_attributes.HasField("failure")
    return local_activity(event) == "send_contact" and not failed


def sent_at(events: list[TimelineEvent]) -> list[datetime]:
    return [e.at for e in events if e.kind == "contact_sent"]


@pytest.fixture(scope="session")
def fake_twilio() -> AsyncIterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def twilio_sender(fake: FakeTwilio) -> TwilioSender:
    return TwilioSender(fake.account_sid, fake.auth_token, "+15005550006", base_url=fake.base_url)


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "collections.db"
    await asyncio.to_thread(shutil.copyfile, sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.dispose()


def department_settings(queue: str) -> Settings:
    """Settings whose collections, risk and legal queues are this test's own."""
    queues = TaskQueues(collections=queue, risk=f"{queue}-risk", legal=f"{queue}-legal")
    return dataclasses.replace(test_settings(queue), task_queues=queues)


def case_worker(
    env: WorkflowEnvironment,
    queue: str,
    db: Database,
    sender: Sender,
    *,
    settle: timedelta | None = None,
    settings: Settings | None = None,
    client: Client | None = None,
) -> Worker:
    """The production worker for `queue`; `settle` replaces the send activity's wait before
    it resends an attempt left in doubt. That wait is measured on the wall clock, while the
    time-skipping server fires the activity's retries (and its one-hour give-up) at once, so a
    test that goes through the in-doubt path passes `timedelta(0)` to stay deterministic.
    `client`: the environment's, unless given (a traced one, `temporal.tracing.traced`, gives
    the worker its interceptor as in production)."""
    services = Services(db=db, sender=sender)
    settings = settings or test_settings(queue)
    client = client or env.client
    if settle is None:
        return build_worker(client, settings, queue, services)
    send = MessagingActivities(sender, db, settle=settle).send_contact
    activities = [
        send if getattr(fn, "__name__", "") == "send_contact" else fn
        for fn in activities_for(settings, queue, services)
    ]
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows_for(settings, queue),
        activities=activities,
        workflow_runner=CHECKED,
        activity_executor=ThreadPoolExecutor(max_workers=8),
        interceptors=[ActorInterceptor()],
    )


@contextlib.asynccontextmanager
async def department_workers(
    env: WorkflowEnvironment,
    queue: str,
    db: Database,
    sender: Sender,
    *,
    settle: timedelta | None = None,
) -> AsyncIterator[Settings]:
    """Workers for the collections, risk and legal queues (`queue`, `queue`-risk, `queue`-legal),
    so that a case may go wherever it goes; a child workflow on a queue nobody polls would hold
    the time-skipping server's clock."""
    settings = department_settings(queue)
    async with contextlib.AsyncExitStack() as stack:
        for q in settings.task_queues.all():
            worker = case_worker(env, q, db, sender, settle=settle, settings=settings)
            await stack.enter_async_context(worker)
        yield settings


@pytest.fixture
async def departments(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> AsyncIterator[CaseHarness]:
    """Workers for the collections, risk and legal queues, as three departments run them."""
    fake_twilio.reset()
    sender = twilio_sender(fake_twilio)
    async with department_workers(ts_env, task_queue, sqlite_db, sender):
        yield CaseHarness(
            env=ts_env,
            queue=task_queue,
            fake=fake_twilio,
            db=sqlite_db,
            settings=department_settings(task_queue),
        )
    await sender.aclose()


async def running_harness(
    env: WorkflowEnvironment,
    queue: str,
    fake: FakeTwilio,
    db: Database,
    sender: Sender,
    *,
    settle: timedelta | None = None,
) -> AsyncIterator[CaseHarness]:
    fake.reset()
    async with case_worker(env, queue, db, sender, settle=settle):
        harness = CaseHarness(env=env, queue=queue, fake=fake, db=db)
        yield harness


@contextlib.asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server, as the `ts_env` fixture makes one, for tests that need
    several (one per hypothesis example)."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={key.name: key.indexed_value_type for key in ALL_KEYS},
            )
        )
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def harness(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> AsyncIterator[CaseHarness]:
    sender = twilio_sender(fake_twilio)
    async for h in running_harness(ts_env, task_queue, fake_twilio, sqlite_db, sender):
        yield h
    await sender.aclose()
