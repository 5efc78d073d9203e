"""A case under test: the real workflow and activities on the time-skipping server, Twilio
faked at its REST API, the read model in a SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.messaging.senders import Sender, TwilioSender
from config.settings import Settings, TaskQueues, load_settings
from models.contracts import (
    Account,
    CaseInput,
    CaseStatus,
    ContactPoints,
    Language,
    TimelineEvent,
    case_id,
)
from models.db import Database
from models.tables import ContactAttemptRow
from tests.fakes.twilio_api import FakeTwilio
from workers.main import Services, build_worker
from workflows.case import CollectionCaseWorkflow

Case = CollectionCaseWorkflow

POLICIES = Path(__file__).parent / "policies"
_accounts = itertools.count(1)


def test_settings(queue: str) -> Settings:
    base = load_settings(environ={}, env_file=Path("/nonexistent"))
    return dataclasses.replace(base, task_queues=TaskQueues(collections=queue))


@dataclass
class CaseHarness:
    env: WorkflowEnvironment
    queue: str
    fake: FakeTwilio
    db: Database

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
        )
        handle = await self.client.start_workflow(
            CollectionCaseWorkflow.run, case, id=case_id(account_no), task_queue=self.queue
        )
        return handle

    async def sleep_days(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))

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


async def running_harness(
    env: WorkflowEnvironment, queue: str, fake: FakeTwilio, db: Database, sender: Sender
) -> AsyncIterator[CaseHarness]:
    fake.reset()
    services = Services(db=db, sender=sender)
    async with build_worker(env.client, test_settings(queue), queue, services):
        harness = CaseHarness(env=env, queue=queue, fake=fake, db=db)
        yield harness


@pytest.fixture
async def harness(
    ts_env: WorkflowEnvironment, task_queue: str, fake_twilio: FakeTwilio, sqlite_db: Database
) -> AsyncIterator[CaseHarness]:
    sender = twilio_sender(fake_twilio)
    async for h in running_harness(ts_env, task_queue, fake_twilio, sqlite_db, sender):
        yield h
    await sender.aclose()
