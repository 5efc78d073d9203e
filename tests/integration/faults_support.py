"""What the fault tests share: the processes they break (workers, a Temporal dev server of
their own), a TCP proxy that can cut a database off, batches of cases, and the checks that
nothing was lost and nothing went out twice.

Every process starts in a session of its own; `Processes` ends each group it started when its
block ends, whatever happened, so a failing test leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import psycopg
from sqlalchemy import make_url
from sqlmodel import col, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import SearchAttributeKey
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from config.settings import load_settings
from models.case_status import CaseStatus
from models.contracts import Account, AttemptStatus, CaseInput, ContactPoints, case_id
from models.messaging import CALLBACK_KEY_PARAM, DeliveryStatusInput
from models.visibility import ALL_KEYS
from readmodel.delivery import apply_delivery_status
from readmodel.engine import Database
from readmodel.tables import CaseRow, ContactAttemptRow
from temporal.client import connect
from temporal.codec import codec_from_settings, generate_key
from temporal.history import local_activity_type
from tests.conftest_db import libpq_url
from tests.fakes.twilio_api import CallbackSink, FakeTwilio, Record
from tests.integration.processes import PROJECT_ROOT
from workflows.case import CollectionCaseWorkflow

T = TypeVar("T")

POLICIES = Path(__file__).parent / "policies"
FROM_NUMBER = "+15005550006"
STOP_TIMEOUT = 15.0

CaseHandle = WorkflowHandle[CollectionCaseWorkflow, CaseStatus]


# --- waiting ---------------------------------------------------------------------------


async def wait_until(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    every: float = 0.5,
    alive: Callable[[], None] = lambda: None,
) -> T:
    """The probe's first answer that is not None; `TimeoutError` naming `what` otherwise.
    `alive` runs before each probe and raises when something the test needs has died."""
    deadline = time.monotonic() + within
    while True:
        alive()
        answer = await probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {within:.0f} s")
        await asyncio.sleep(every)


# --- processes -------------------------------------------------------------------------


class Processes:
    """Child processes, each the leader of its own process group; every group still running
    is killed when the block ends."""

    def __init__(self) -> None:
        self._started: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self._started):
            kill(process)

    def spawn(
        self, argv: Sequence[str], *, env: Mapping[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                list(argv),
                env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)},
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(process)
        return process


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process's group: no clean-up, no goodbye, as in a crash."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM to the group, SIGKILL if it is still there after `timeout`; the exit code."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        return process.wait()


def running(process: subprocess.Popen[bytes], name: str) -> Callable[[], None]:
    """For `wait_until(alive=...)`: fails at once when `process` has exited."""

    def check() -> None:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with code {process.returncode}")

    return check


# --- the system under test -------------------------------------------------------------


@dataclass
class Rig:
    """One test's system: a task queue on a Temporal server, a database, Twilio faked in this
    process, and the environment that workers are started with."""

    tmp: Path
    processes: Processes
    temporal_address: str
    database_url: str
    fake: FakeTwilio
    status_callback_url: str
    policy: Path
    worker_database_url: str = ""  # what workers use, when not `database_url` (a proxy)
    sink: CallbackSink | None = None  # where Twilio's status callbacks go
    queue: str = field(default_factory=lambda: f"faults-{secrets.token_hex(5)}")
    payload_keys: str = field(default_factory=lambda: f"k1:{generate_key()}")
    _worker_count: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _mobiles: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_mobile(self) -> str:
        """A number of its own for each case: Twilio's records are told apart by recipient."""
        return f"+86139{next(self._mobiles):08d}"

    def env(self) -> dict[str, str]:
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DATABASE_URL": self.worker_database_url or self.database_url,
            "QUEUE_COLLECTIONS": self.queue,
            "PAYLOAD_KEYS": self.payload_keys,
            "COLLECTIONS_POLICY": str(self.policy),
            "COLLECTIONS_VAR_DIR": str(self.tmp / "var"),
            "TWILIO_ACCOUNT_SID": self.fake.account_sid,
            "TWILIO_AUTH_TOKEN": self.fake.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_BASE_URL": self.fake.base_url,
            "TWILIO_STATUS_CALLBACK_URL": self.status_callback_url,
        }

    async def client(self) -> Client:
        settings = load_settings(environ=self.env(), env_file=Path("/nonexistent"))
        return await connect(settings, codec_from_settings(settings))

    def start_worker(self) -> subprocess.Popen[bytes]:
        """`collections worker --queue Q`, as production runs it; logs under tmp."""
        log = self.tmp / f"worker-{next(self._worker_count)}.log"
        argv = [sys.executable, "-m", "cli.main", "worker", "--queue", self.queue]
        return self.processes.spawn(argv, env=self.env(), log=log)

    async def worker_polling(
        self, client: Client, process: subprocess.Popen[bytes], within: float = 30.0
    ) -> None:
        """Waits until this very process polls the queue (its identity is pid@host)."""

        async def polling() -> bool | None:
            for kind in (
                TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            ):
                described = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=client.namespace,
                        task_queue=TaskQueue(name=self.queue),
                        task_queue_type=kind,
                    )
                )
                if any(p.identity.startswith(f"{process.pid}@") for p in described.pollers):
                    return True
            return None

        await wait_until(
            polling,
            within=within,
            what=f"worker {process.pid} polling {self.queue}",
            every=0.1,
            alive=running(process, "the worker"),
        )


@contextlib.asynccontextmanager
async def fault_rig(
    tmp: Path,
    *,
    temporal_address: str,
    database_url: str,
    policy: str,
    worker_database_url: str = "",
    hang_seconds: float = 3.0,
) -> AsyncIterator[Rig]:
    """Twilio faked in this process (status callbacks to a sink, so each record carries its
    attempt key), and a `Processes` block that ends every process the test starts."""
    with (
        FakeTwilio(hang_seconds=hang_seconds) as fake,
        CallbackSink() as sink,
        Processes() as processes,
    ):
        yield Rig(
            tmp=tmp,
            processes=processes,
            temporal_address=temporal_address,
            database_url=database_url,
            fake=fake,
            status_callback_url=sink.url,
            policy=POLICIES / policy,
            worker_database_url=worker_database_url,
            sink=sink,
        )


@contextlib.asynccontextmanager
async def callbacks_applied(rig: Rig, db: Database) -> AsyncIterator[None]:
    """For the block, Twilio's status callbacks are applied to the attempts table as they
    reach the sink, as the API's webhook applies them (the cases are not told)."""
    assert rig.sink is not None
    sink = rig.sink

    async def pump() -> None:
        done = 0
        while True:
            received = list(sink.received)
            for url, params, _ in received[done:]:
                key = parse_qs(urlsplit(url).query).get(CALLBACK_KEY_PARAM, [""])[0]
                report = DeliveryStatusInput(
                    status=params.get("MessageStatus") or params.get("CallStatus", ""),
                    provider_id=params.get("MessageSid") or params.get("CallSid", ""),
                    idempotency_key=key,
                    error_code=int(params["ErrorCode"]) if "ErrorCode" in params else None,
                )
                await apply_delivery_status(db, report=report)
            done = len(received)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(pump())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    handle: CaseHandle
    account_no: str
    mobile: str

    @property
    def case_id(self) -> str:
        return self.handle.id


# Account numbers (hence workflow ids) unique in this test session, whose servers they share.
_SESSION = f"{secrets.randbelow(10**6):06d}"
_accounts = itertools.count(1)


async def start_cases(client: Client, rig: Rig, count: int, *, customer: str = "") -> list[Case]:
    """`count` new cases, 5 days overdue, on `rig.policy`; each for a customer of its own, or
    all for `customer` (one person, one mobile, several overdue accounts)."""
    mobile = rig.next_mobile() if customer else ""
    cases = []
    for _ in range(count):
        number = f"{_SESSION}{next(_accounts):06d}"
        account_no = f"62{number}"
        mobile = mobile if customer else rig.next_mobile()
        case = CaseInput(
            customer_ref=customer or f"F{number}",
            customer_name="王芳",
            contact=ContactPoints(mobile=mobile),
            account=Account(
                account_no=account_no,
                product="card",
                currency="CNY",
                outstanding_minor=600_000,
                overdue_minor=90_000,
                oldest_due_date=date.today() - timedelta(days=5),
            ),
            strategy_version=str(rig.policy),
        )
        handle = await client.start_workflow(
            CollectionCaseWorkflow.run, case, id=case_id(account_no), task_queue=rig.queue
        )
        cases.append(Case(handle, account_no, mobile))
    return cases


def rebind(cases: Iterable[Case], client: Client) -> list[Case]:
    """The same cases through another client (after the server restarted, say)."""
    return [Case(client.get_workflow_handle(c.case_id), c.account_no, c.mobile) for c in cases]


async def statuses(cases: Iterable[Case]) -> dict[str, CaseStatus]:
    """Each case's live `status` query, by case id."""
    answers = await asyncio.gather(*(c.handle.query(CollectionCaseWorkflow.status) for c in cases))
    return {a.case_id: a for a in answers}


async def all_sent(cases: Sequence[Case], expected: int) -> bool | None:
    """True once every case reports `expected` contacts sent: each send has returned to its
    workflow, so no attempt of it is left to go out again."""
    for case in cases:
        try:
            status = await case.handle.query(CollectionCaseWorkflow.status)
        except WorkflowQueryFailedError:  # still being assessed
            return None
        except RPCError as err:
            # Its workflow task is being tried again: a worker died in it (the first reminder is
            # sent in the case's first task), and the next one has not finished it yet.
            if err.status is RPCStatusCode.FAILED_PRECONDITION:
                return None
            raise
        if status.contacts_sent < expected:
            return None
    return True


async def failed_local_try(
    handle: WorkflowHandle[Any, Any], activity: str, converter: DataConverter
) -> bool:
    """Whether the workflow's history holds a failed local try of `activity` (its marker,
    decoded with `converter`: the rig's payloads are encrypted)."""
    for event in (await handle.fetch_history()).events:
        failed = event.marker_recorded_event_attributes.HasField("failure")
        if failed and await local_activity_type(event, converter) == activity:
            return True
    return False


async def quiet(cases: Sequence[Case]) -> bool | None:
    """True once no case has an activity scheduled or running."""
    described = await asyncio.gather(*(c.handle.describe() for c in cases))
    return None if any(d.raw_description.pending_activities for d in described) else True


# --- the checks ------------------------------------------------------------------------


def attempt_key(record: Record) -> str:
    """The attempt's idempotency key, carried in the StatusCallback URL of what was sent."""
    query = parse_qs(urlsplit(record.status_callback or "").query)
    keys = query.get(CALLBACK_KEY_PARAM, [])
    assert len(keys) == 1, f"{record.sid} carries no attempt key in its status callback URL"
    return keys[0]


def sent_records(fake: FakeTwilio, cases: Sequence[Case]) -> list[Record]:
    mobiles = {c.mobile for c in cases}
    return [r for r in [*fake.messages, *fake.calls] if r.to in mobiles]


def assert_sent_exactly_once(
    fake: FakeTwilio, cases: Sequence[Case], per_case: Sequence[str]
) -> dict[str, Record]:
    """Twilio holds, for every case, one record per expected contact (`per_case`: their kinds,
    "message" or "call"), no two for one attempt key and no two with the same recipient and
    body. Returns the records by attempt key."""
    records = sent_records(fake, cases)
    twice_by_key = {k: n for k, n in Counter(attempt_key(r) for r in records).items() if n > 1}
    assert not twice_by_key, f"attempts sent more than once: {twice_by_key}"
    twice_by_body = [k for k, n in Counter((r.to, r.body) for r in records).items() if n > 1]
    assert not twice_by_body, f"{len(twice_by_body)} texts or calls went out twice"
    wrong = {}
    for case in cases:
        kinds = sorted(r.kind for r in records if r.to == case.mobile)
        if kinds != sorted(per_case):
            wrong[case.case_id] = kinds
    assert not wrong, f"cases whose contacts differ from {sorted(per_case)}: {wrong}"
    return {attempt_key(r): r for r in records}


async def assert_cases_settled(
    cases: Sequence[Case], *, contacts: int, db: Database, sent: Mapping[str, Record]
) -> None:
    """No case lost: every workflow runs, in the early stage, with `contacts` sent and nothing
    refused; the read model has its case row; the attempts table has one row per attempt key,
    each holding the provider id of the one record Twilio has for that key."""
    described = await asyncio.gather(*(c.handle.describe() for c in cases))
    not_running = {d.id: d.status for d in described if d.status != WorkflowExecutionStatus.RUNNING}
    assert not not_running, f"cases no longer running: {not_running}"
    answers = await statuses(cases)
    off = {
        cid: (s.stage.value, s.contacts_sent, s.contacts_refused, s.next_action)
        for cid, s in answers.items()
        if (s.stage.value, s.contacts_sent, s.contacts_refused) != ("early", contacts, 0)
    }
    assert not off, f"cases not where the policy takes them (stage, sent, refused, next): {off}"

    ids = [c.case_id for c in cases]
    async with db.session() as session:
        rows = (await session.exec(select(CaseRow).where(col(CaseRow.case_id).in_(ids)))).all()
        attempts = (
            await session.exec(
                select(ContactAttemptRow).where(col(ContactAttemptRow.case_id).in_(ids))
            )
        ).all()
    missing = sorted(set(ids) - {r.case_id for r in rows})
    assert not missing, f"cases without a row in the read model: {missing}"
    assert len(rows) == len(ids), "a case has more than one row"

    keys = Counter(a.idempotency_key for a in attempts)
    assert all(n == 1 for n in keys.values()), "an attempt key has more than one row"
    assert set(keys) == set(sent), (
        f"attempt rows without a Twilio record: {sorted(set(keys) - set(sent))}; "
        f"Twilio records without an attempt row: {sorted(set(sent) - set(keys))}"
    )
    unsettled = {
        a.idempotency_key: (a.status, a.reason, a.provider_id)
        for a in attempts
        if a.provider_id != sent[a.idempotency_key].sid
        or a.status in (AttemptStatus.REFUSED, AttemptStatus.FAILED)
    }
    assert not unsettled, f"attempt rows that do not match what Twilio holds: {unsettled}"


async def assert_no_record_taken_by_another(db: Database, fake: FakeTwilio) -> None:
    """Every attempt row that names a Twilio record names one sent for that very attempt (the
    record's status callback URL carries the attempt's key)."""
    keys = {r.sid: attempt_key(r) for r in [*fake.messages, *fake.calls]}
    async with db.session() as session:
        rows = (
            await session.exec(
                select(ContactAttemptRow).where(col(ContactAttemptRow.provider_id).is_not(None))
            )
        ).all()
    taken = {
        row.idempotency_key: keys[row.provider_id]
        for row in rows
        if row.provider_id in keys and keys[row.provider_id] != row.idempotency_key
    }
    assert not taken, f"attempts that took another attempt's record as their own: {taken}"


# --- a Temporal dev server of the test's own -------------------------------------------


def _type_name(key: SearchAttributeKey[Any]) -> str:
    return "".join(part.title() for part in key.indexed_value_type.name.split("_"))


def dev_server_argv(binary: str, db_file: Path, port: int) -> list[str]:
    """`temporal server start-dev` keeping its state in `db_file`, as `collections up` does."""
    argv = [
        binary, "server", "start-dev",
        "--db-filename", str(db_file),
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--headless",
        "--log-level", "warn",
    ]  # fmt: skip
    for key in ALL_KEYS:
        argv += ["--search-attribute", f"{key.name}={_type_name(key)}"]
    return argv


async def server_ready(address: str, within: float = 60.0) -> Client:
    """A client once the server answers and lists the project's search attributes (they are
    registered while the server starts, so a case may start only once they are listed)."""

    async def ready() -> Client | None:
        try:
            client = await Client.connect(address)
            listed = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=client.namespace)
            )
        except RuntimeError:
            return None
        return client if all(k.name in listed.custom_attributes for k in ALL_KEYS) else None

    return await wait_until(ready, within=within, what=f"Temporal at {address}")


# --- a database that goes away ---------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a database server, and breaks the way networks break:
    - `cut_off()`: every connection is reset and each new one is reset at once, as when the
      server fails over or refuses connections;
    - `blackholed()`: bytes are held, not delivered, on old and new connections alike, as in a
      partition; when it heals, what was held goes through.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._refusing = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._flowing.set()
        self._reset_all()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    @contextlib.asynccontextmanager
    async def cut_off(self) -> AsyncIterator[None]:
        self._refusing = True
        self._reset_all()
        try:
            yield
        finally:
            self._refusing = False

    @contextlib.asynccontextmanager
    async def blackholed(self) -> AsyncIterator[None]:
        self._flowing.clear()
        try:
            yield
        finally:
            self._flowing.set()

    def _reset_all(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._refusing:
            writer.transport.abort()
            return
        self._open.add(writer)
        try:
            await self._flowing.wait()
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            self._open.discard(writer)
            writer.transport.abort()
            return
        self._open.add(up_writer)
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for w in (writer, up_writer):
                self._open.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()


@contextlib.asynccontextmanager
async def writes_held(database_url: str) -> AsyncIterator[None]:
    """For the block, nobody else writes a case row or a contact attempt: writers wait."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        async with sqlite_write_lock(Path(url.database or "")):
            yield
        return
    conn = await psycopg.AsyncConnection.connect(libpq_url(database_url))
    async with conn, conn.transaction():
        await conn.execute("LOCK TABLE cases, contact_attempts IN EXCLUSIVE MODE")
        yield


@contextlib.asynccontextmanager
async def sqlite_write_lock(path: Path) -> AsyncIterator[None]:
    """Holds SQLite's write lock on `path` (BEGIN EXCLUSIVE) for the block: every other writer
    waits out its busy timeout, then fails with "database is locked". Readers go on (WAL).
    Taken in a thread, since it waits for a worker's write that holds the lock now."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    try:
        await asyncio.to_thread(conn.execute, "BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()
