"""Fault tolerance on the dev server, with workers as separate processes: a worker killed
again and again, the Temporal server stopped and started on its database, the database gone
for a while, Twilio failing a third of its requests. Each test checks that no case is lost
(every workflow runs on, where its policy takes it, with its row in the read model) and that
no message went out twice (Twilio, faked in this process, holds one record per attempt key and
per text; the attempts table one row per key, holding that record's id).

The strategies under `policies/` have 2-second days, so reminders fall due in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlmodel import col, select
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from models.case_status import NextAction
from readmodel.engine import Database
from readmodel.tables import AuditLogRow, ContactAttemptRow
from tests.integration.faults_support import (
    Case,
    Rig,
    TcpProxy,
    all_sent,
    assert_cases_settled,
    assert_no_record_taken_by_another,
    assert_sent_exactly_once,
    attempt_key,
    callbacks_applied,
    dev_server_argv,
    failed_local_try,
    fault_rig,
    kill,
    quiet,
    rebind,
    running,
    sent_records,
    server_ready,
    sqlite_write_lock,
    start_cases,
    statuses,
    stop,
    wait_until,
    writes_held,
)
from tests.integration.processes import free_port
from tests.temporal_env import installed_binary
from workflows.case import CollectionCaseWorkflow

pytestmark = pytest.mark.integration

# A send in flight when its worker dies is retried once its 60-second start-to-close timeout
# has passed, so recovery after a crash takes up to about a minute and a half.
RECOVERY = 150.0


def _address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


# --- 1. a worker killed again and again --------------------------------------------------


async def _kill_worker_repeatedly(
    env: WorkflowEnvironment,
    tmp: Path,
    database_url: str,
    db: Database,
    *,
    cases: int,
    kills: int,
    in_doubt: int,
) -> None:
    """Each life of the worker gets a share of the cases, started one by one until it is
    killed 1-3 s after it began to poll. Writes are held back for the last half second, so
    the kill meets transactions in flight (a case row, an attempt being reserved) besides
    workflow tasks. In the first `in_doubt` lives Twilio answers the first send late (it holds
    the message at once), so the kill meets a send that Twilio has accepted and the attempts
    table has not recorded: after the crash, only Twilio knows it went out. An activity in
    flight at a kill is retried once its start-to-close timeout (30 s; sends 60 s) passed."""
    rng = random.Random(kills)
    async with fault_rig(
        tmp,
        temporal_address=_address(env),
        database_url=database_url,
        policy="first_reminder.toml",
        hang_seconds=5.0,
    ) as rig:
        client = await rig.client()
        worker = rig.start_worker()
        await rig.worker_polling(client, worker)
        started: list[Case] = []
        per_life = -(-cases // kills)
        for number in range(kills):
            life = rng.uniform(1.0, 3.0)
            born = time.monotonic()
            if number < in_doubt:
                rig.fake.lose_next_responses(1, "hang")
            for n in range(min(per_life, cases - len(started))):
                await asyncio.sleep(max(0.0, born + life * n / per_life - time.monotonic()))
                started += await start_cases(client, rig, 1)
            await asyncio.sleep(max(0.0, born + life - 0.5 - time.monotonic()))
            async with writes_held(database_url):
                await asyncio.sleep(max(0.0, born + life - time.monotonic()))
                running(worker, "the worker")()
                kill(worker)
            worker = rig.start_worker()
            await rig.worker_polling(client, worker)

        await wait_until(
            lambda: all_sent(started, 1),
            within=RECOVERY,
            what="every case sent its first reminder",
            every=1.0,
            alive=running(worker, "the last worker"),
        )
        sent = assert_sent_exactly_once(rig.fake, started, ["message"])
        await assert_cases_settled(started, contacts=1, db=db, sent=sent)
        stop(worker)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_worker_killed_again_and_again_loses_nothing_and_sends_nothing_twice(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    await _kill_worker_repeatedly(
        dev_env, tmp_path, database_url, database, cases=20, kills=5, in_doubt=1
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_a_worker_killed_twenty_times_under_sixty_cases(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    await _kill_worker_repeatedly(
        dev_env, tmp_path, database_url, database, cases=60, kills=20, in_doubt=20
    )


# --- 2. the Temporal server stopped and started again -----------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cases_carry_on_after_the_temporal_server_restarts(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    """The server is stopped once every first text is out, and started again on its SQLite
    file after the calls fell due: the calls' timers fire late, once each."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    argv = dev_server_argv(installed_binary("temporal"), tmp_path / "temporal.db", port)
    async with fault_rig(
        tmp_path,
        temporal_address=address,
        database_url=database_url,
        policy="server_restart.toml",
    ) as rig:
        server = rig.processes.spawn(argv, env={}, log=tmp_path / "temporal-1.log")
        await server_ready(address)
        client = await rig.client()
        worker = rig.start_worker()
        alive = running(worker, "the worker")
        await rig.worker_polling(client, worker)
        cases = await start_cases(client, rig, 20)
        await wait_until(lambda: all_sent(cases, 1), within=30, what="first texts", alive=alive)
        await wait_until(lambda: quiet(cases), within=30, what="no activity in flight")
        due = await _calls_due(cases)

        # The window is time itself: the calls' timers must come due while the server is down,
        # and a stopped server has nothing to wait on. So it stays down until the last call the
        # cases announced is due, and the test fails, rather than passing without the window,
        # when the server went down after the first one was due (a slow start).
        stop(server)
        down = datetime.now(UTC)
        assert down < min(due), (
            f"the server stopped at {down:%H:%M:%S.%f}, after the first call fell due at "
            f"{min(due):%H:%M:%S.%f}: no timer came due while it was down"
        )
        await asyncio.sleep(max(0.0, (max(due) - datetime.now(UTC)).total_seconds()) + 2.0)
        alive()
        rig.processes.spawn(argv, env={}, log=tmp_path / "temporal-2.log")
        await server_ready(address)
        cases = rebind(cases, await rig.client())

        await wait_until(
            lambda: all_sent(cases, 2),
            within=60,
            what="every case sent its text and made its call",
            every=1.0,
            alive=alive,
        )
        sent = assert_sent_exactly_once(rig.fake, cases, ["message", "call"])
        await assert_cases_settled(cases, contacts=2, db=database, sent=sent)
        stop(worker)


async def _calls_due(cases: Sequence[Case]) -> list[datetime]:
    """When each case's call falls due, as the case says: its next step, a contact."""
    answers = await statuses(cases)
    due = [s.next_action_at for s in answers.values() if s.next_action_kind == NextAction.CONTACT]
    assert len(due) == len(cases), "a case's next step is no contact"
    return [at for at in due if at is not None]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cases_survive_the_temporal_server_killed_again_and_again(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    """The server SIGKILLed four times while cases start, assess, write and send: whatever
    it had not stored is lost, so activity results go missing and time out."""
    rng = random.Random(4)
    port = free_port()
    address = f"127.0.0.1:{port}"
    argv = dev_server_argv(installed_binary("temporal"), tmp_path / "temporal.db", port)
    async with fault_rig(
        tmp_path,
        temporal_address=address,
        database_url=database_url,
        policy="first_reminder.toml",
    ) as rig:
        server = rig.processes.spawn(argv, env={}, log=tmp_path / "temporal-0.log")
        await server_ready(address)
        client = await rig.client()
        worker = rig.start_worker()
        alive = running(worker, "the worker")
        await rig.worker_polling(client, worker)
        cases: list[Case] = []
        for crash in range(1, 5):
            life = rng.uniform(2.0, 4.0)
            born = time.monotonic()
            while time.monotonic() < born + life:
                cases += await start_cases(client, rig, 1)
                await asyncio.sleep(0.3)
            kill(server)
            alive()
            server = rig.processes.spawn(argv, env={}, log=tmp_path / f"temporal-{crash}.log")
            await server_ready(address)
            client = await rig.client()
        cases = rebind(cases, client)

        await wait_until(
            lambda: all_sent(cases, 1),
            within=2 * RECOVERY,
            what="every case sent its text",
            every=1.0,
            alive=alive,
        )
        sent = assert_sent_exactly_once(rig.fake, cases, ["message"])
        await assert_cases_settled(cases, contacts=1, db=database, sent=sent)
        stop(worker)


# --- 3. the database unreachable for a while --------------------------------------------


async def _database_outage(
    env: WorkflowEnvironment,
    tmp: Path,
    database_url: str,
    db: Database,
    *,
    blackhole: bool = False,
    seconds: float | None = None,
) -> None:
    """Cases that sent before, cases whose send Twilio accepted just before the outage, and
    cases started during it: every one sends once, and the read model catches up."""
    hang = 4.0  # Twilio answers the in-doubt sends this long after it accepted them
    async with contextlib.AsyncExitStack() as stack:
        outage: contextlib.AbstractAsyncContextManager[None]
        if db.dialect == "sqlite":
            outage = sqlite_write_lock(Path(make_url(database_url).database or ""))
            worker_url = database_url
            seconds = seconds or hang + 16.0  # past the 15-s busy timeout: writes fail
        else:
            proxy = await stack.enter_async_context(TcpProxy(*_host_port(database_url)))
            outage = proxy.blackholed() if blackhole else proxy.cut_off()
            worker_url = _via(database_url, proxy.port)
            seconds = seconds or hang + 8.0
        rig = await stack.enter_async_context(
            fault_rig(
                tmp,
                temporal_address=_address(env),
                database_url=database_url,
                worker_database_url=worker_url,
                policy="first_reminder.toml",
                hang_seconds=hang,
            )
        )
        client = await rig.client()
        worker = rig.start_worker()
        await rig.worker_polling(client, worker)
        alive = running(worker, "the worker")
        before = await start_cases(client, rig, 8)
        await wait_until(lambda: all_sent(before, 1), within=30, what="first texts", alive=alive)

        # Three sends that Twilio accepts but answers late, so the outage strikes between
        # Twilio's accept and the attempt's record: the worst moment for exactly-once.
        rig.fake.lose_next_responses(3, "hang")
        in_doubt = await start_cases(client, rig, 3)

        async def accepted() -> bool | None:
            return len(sent_records(rig.fake, in_doubt)) == len(in_doubt) or None

        await wait_until(accepted, within=30, what="Twilio accepted", every=0.05, alive=alive)
        async with outage:
            cut = time.monotonic()
            during = await start_cases(client, rig, 5)
            # Twilio answers them during the outage and the worker cannot record the answers:
            # each send fails (a write past SQLite's busy timeout, a connection reset, a write
            # hung past the send's timeout) and waits to be tried again.
            await wait_until(
                lambda: _retried(in_doubt, client.data_converter),
                within=seconds + 60,
                what="each send Twilio accepted failing, as Twilio's answer cannot be recorded",
                alive=alive,
            )
            # This test reads the database directly (SQLite readers are not locked out,
            # PostgreSQL not proxied).
            assert await _unrecorded(db, in_doubt) == len(in_doubt)
            # How long the outage lasts is what is under test (past SQLite's busy timeout, past
            # the sends' timeout), not an event to wait for.
            await asyncio.sleep(max(0.0, cut + seconds - time.monotonic()))
            alive()

        everyone = [*before, *in_doubt, *during]
        await wait_until(
            lambda: all_sent(everyone, 1),
            within=RECOVERY,
            what="every case sent its text after the outage",
            every=1.0,
            alive=alive,
        )

        async def caught_up() -> bool | None:
            """Every entry of every case's timeline is in the audit log: the read model caught
            up with what the cases recorded, the outage's writes included. (A quiet case writes
            only when something happens to it, so its row's time says nothing.)"""
            for case in everyone:
                timeline = await case.handle.query(CollectionCaseWorkflow.timeline)
                async with db.session() as session:
                    stored = await session.exec(
                        select(AuditLogRow.kind).where(AuditLogRow.case_id == case.case_id)
                    )
                    if sorted(stored) != sorted(e.kind for e in timeline):
                        return None
            return True

        # Checked last, so that an attempt the outage held up has had time to finish late.
        await wait_until(caught_up, within=60, what="the read model written after the outage")
        sent = assert_sent_exactly_once(rig.fake, everyone, ["message"])
        await assert_cases_settled(everyone, contacts=1, db=db, sent=sent)
        stop(worker)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
async def test_cases_wait_while_the_database_is_unreachable(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    """SQLite: another writer holds the lock longer than the 15-s busy timeout, so writes
    fail. PostgreSQL: workers reach it through a proxy that resets every connection."""
    await _database_outage(dev_env, tmp_path, database_url, database)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_cases_wait_while_the_database_stops_answering(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    """A partition rather than a refusal: the proxy holds every byte for 75 s, so queries hang
    past the activities' timeouts (30 s, sends 60 s), Temporal retries while the first
    attempts still wait, and those finish late once the network heals."""
    await _database_outage(dev_env, tmp_path, database_url, database, blackhole=True, seconds=75)


def _host_port(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


def _via(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


async def _retried(cases: Sequence[Case], converter: DataConverter) -> bool | None:
    """True once every case's send in flight has failed at least once: its local try failed
    (its marker is in the history once the task that holds it is sent in, while the case
    retries its write), or its activity is pending on a later attempt."""
    described = await asyncio.gather(*(c.handle.describe() for c in cases))
    for case, d in zip(cases, described, strict=True):
        sends = [
            p
            for p in d.raw_description.pending_activities
            if p.activity_type.name == "send_contact"
        ]
        if sends and sends[0].attempt >= 2:
            continue
        if not await failed_local_try(case.handle, "send_contact", converter):
            return None
    return True


async def _unrecorded(db: Database, cases: list[Case]) -> int:
    """Attempts reserved and not recorded: no provider id, though Twilio holds them."""
    async with db.session() as session:
        rows = await session.exec(
            select(ContactAttemptRow).where(
                col(ContactAttemptRow.case_id).in_([c.case_id for c in cases]),
                col(ContactAttemptRow.provider_id).is_(None),
            )
        )
        return len(rows.all())


# --- 4. Twilio failing a third of its requests for a while ------------------------------


async def _twilio_fails_a_third(
    env: WorkflowEnvironment,
    tmp: Path,
    database_url: str,
    db: Database,
    *,
    status: int,
    cases: int,
    within: float,
) -> None:
    async with fault_rig(
        tmp,
        temporal_address=_address(env),
        database_url=database_url,
        policy="twilio_faults.toml",
    ) as rig:
        client = await rig.client()
        worker = rig.start_worker()
        await rig.worker_polling(client, worker)
        rig.fake.fail_fraction(0.33, seed=status, status=status)
        started = await start_cases(client, rig, cases)
        # Faults through the first reminders and until every second one has met them.
        await wait_until(
            lambda: _calls_tried(rig, db, started, client.data_converter),
            within=within,
            what="every case's call tried at Twilio while it failed a third of requests",
            every=0.2,
            alive=running(worker, "the worker"),
        )
        rig.fake.fail_fraction(0.0)
        await wait_until(
            lambda: all_sent(started, 2),
            within=within,
            what="every case sent both reminders",
            every=1.0,
            alive=running(worker, "the worker"),
        )
        sent = assert_sent_exactly_once(rig.fake, started, ["message", "call"])
        await assert_cases_settled(started, contacts=2, db=db, sent=sent)
        assert rig.fake.create_requests > len(sent), f"Twilio never answered {status}"
        stop(worker)


async def _calls_tried(
    rig: Rig, db: Database, cases: Sequence[Case], converter: DataConverter
) -> bool | None:
    """True once Twilio has answered every case's call: it holds the call, or the call's send
    failed and waits to be tried again (the call's attempt row is there, so the send in flight
    is the call's, and it is past its first attempt)."""
    called = {r.to for r in rig.fake.calls}
    waiting = [c for c in cases if c.mobile not in called]
    if not waiting:
        return True
    async with db.session() as session:
        rows = await session.exec(
            select(ContactAttemptRow.case_id).where(
                col(ContactAttemptRow.case_id).in_([c.case_id for c in waiting]),
                ContactAttemptRow.channel == "voice",
            )
        )
        calling = set(rows.all())
    if len(calling) < len(waiting):
        return None
    return await _retried(waiting, converter)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_due_message_goes_out_once_while_twilio_rate_limits_a_third(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    await _twilio_fails_a_third(
        dev_env, tmp_path, database_url, database, status=429, cases=20, within=60
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_due_message_goes_out_once_while_twilio_fails_a_third_with_500(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    """A 500 may hide an accepted message, so a retry looks for it at Twilio and sends again
    only once the attempt has settled (60 s): slow, hence not in the default run."""
    await _twilio_fails_a_third(
        dev_env, tmp_path, database_url, database, status=500, cases=20, within=240
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_customer_with_two_accounts_is_never_called_twice_while_twilio_fails(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    """One customer, two overdue accounts, so two cases call one number at the same moment.
    Twilio answers 500 to both calls: the first it never made, the second it made. Twilio's
    call list cannot tell whose call that is, so neither attempt takes it while the other is
    in doubt. The call's status callback names its attempt (its URL carries the key); the
    other attempt then finds no call of its own and, once its send has settled (60 s), places
    it. The customer gets one call per account, none twice, and each attempt names its own.
    That wait makes it slow (75 s); the same protocol is tested in-process, in a second, in
    tests/activities/test_messaging.py."""
    async with (
        fault_rig(
            tmp_path,
            temporal_address=_address(dev_env),
            database_url=database_url,
            policy="twilio_faults.toml",
        ) as rig,
        callbacks_applied(rig, database),
    ):
        client = await rig.client()
        worker = rig.start_worker()
        await rig.worker_polling(client, worker)
        cases = await start_cases(client, rig, 2, customer=f"TWO-{rig.queue}")
        await wait_until(lambda: all_sent(cases, 1), within=30, what="first texts")
        rig.fake.fail_next(1, status=500)  # the first call: refused, nothing made
        rig.fake.lose_next_responses(1, "500")  # the second: made, then answered 500

        await wait_until(
            lambda: all_sent(cases, 2),
            within=RECOVERY,
            what="both cases past their call",
            every=1.0,
            alive=running(worker, "the worker"),
        )
        await assert_no_record_taken_by_another(database, rig.fake)
        calls = rig.fake.calls
        assert [c.answered for c in calls] == [500, 201], "the call Twilio made, then one more"
        assert len({attempt_key(c) for c in calls}) == 2, "an attempt placed twice"
        sent = {attempt_key(r): r for r in sent_records(rig.fake, cases)}
        await assert_cases_settled(cases, contacts=2, db=database, sent=sent)
        async with database.session() as session:
            rows = (
                await session.exec(
                    select(ContactAttemptRow).where(ContactAttemptRow.channel == "voice")
                )
            ).all()
        assert sorted(row.provider_id or "" for row in rows) == sorted(c.sid for c in calls)
        stop(worker)
