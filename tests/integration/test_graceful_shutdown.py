"""A worker stopped by SIGTERM (as `up`, systemd or Kubernetes stop it) while a send is in
flight: it polls no more, lets the send finish and record itself, then exits 0; the worker
after it does not send again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from models.contracts import AttemptStatus
from readmodel.engine import Database
from readmodel.tables import ContactAttemptRow
from tests.integration.faults_support import (
    all_sent,
    assert_cases_settled,
    assert_sent_exactly_once,
    fault_rig,
    running,
    start_cases,
    stop,
    wait_until,
)

pytestmark = pytest.mark.integration

SLOW = 3.0  # Twilio takes this long to answer the create
GRACE = 20.0  # the worker's default WORKER_GRACE_SECONDS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_send_in_flight_finishes_when_the_worker_is_stopped(
    dev_env: WorkflowEnvironment, tmp_path: Path, database_url: str, database: Database
) -> None:
    async with fault_rig(
        tmp_path,
        temporal_address=dev_env.client.service_client.config.target_host,
        database_url=database_url,
        policy="first_reminder.toml",
    ) as rig:
        client = await rig.client()
        worker = rig.start_worker()
        await rig.worker_polling(client, worker)
        rig.fake.delay_next(1, SLOW)
        [case] = await start_cases(client, rig, 1)

        async def arrived() -> bool | None:
            return True if rig.fake.create_requests >= 1 else None

        await wait_until(
            arrived,
            within=30,
            what="the first text reached Twilio",
            every=0.05,
            alive=running(worker, "the worker"),
        )
        assert not rig.fake.messages, "the create was answered before the worker was stopped"

        asked = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, GRACE + 10)
        took = time.monotonic() - asked
        assert code == 0
        assert SLOW - 1.0 < took < GRACE, f"the worker left {took:.1f} s after SIGTERM"

        # Before any other worker runs: Twilio holds the text once, and the attempts table has
        # it as sent, with Twilio's id; nothing is left in doubt for a retry to settle.
        [record] = rig.fake.messages
        async with database.session() as session:
            [attempt] = (
                await session.exec(
                    select(ContactAttemptRow).where(ContactAttemptRow.case_id == case.case_id)
                )
            ).all()
        assert attempt.provider_id == record.sid
        assert attempt.status in (AttemptStatus.QUEUED, AttemptStatus.SENT)
        assert rig.fake.create_requests == 1

        # The next worker carries the case on from the recorded send: nothing goes out twice.
        worker = rig.start_worker()
        await wait_until(
            lambda: all_sent([case], 1),
            within=30,
            what="the case saw its text sent",
            alive=running(worker, "the second worker"),
        )
        sent = assert_sent_exactly_once(rig.fake, [case], ["message"])
        await assert_cases_settled([case], contacts=1, db=database, sent=sent)
        assert rig.fake.create_requests == 1
        assert stop(worker) == 0
