"""`collections training up` as a trainee runs it, beside the session's dev server (standing in
for `collections up`'s): its namespace registered and its cases started there through the
intake, its read model with the trainee seated, its worker and API running without Twilio
though the environment holds credentials, the banner served, and SIGTERM stopping it all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen

import httpx
import pytest
from sqlmodel import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from readmodel.engine import Database
from readmodel.tables import CaseRow, HumanTaskRow, StaffRow
from temporal.codec import generate_key
from tests.cli.test_training import TWILIO
from tests.cli.test_up import _descendants
from tests.integration.processes import PROJECT_ROOT, free_port

pytestmark = pytest.mark.integration

CASES = 3
READY_WITHIN = 60.0
STOP_WITHIN = 40.0


async def test_a_trainees_stack_runs_beside_the_center_and_stops_cleanly(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    trainee = f"tia-{uuid.uuid4().hex[:6]}"
    port = free_port()
    var = tmp_path / "var"
    output = tmp_path / "training.out"
    env = {
        **{name: value for name, value in os.environ.items() if name != "API_KEYS"},
        **TWILIO,  # a center's credentials in the environment: the trainee's stack ignores them
        "COLLECTIONS_VAR_DIR": str(var),
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": "default",
        "PAYLOAD_KEYS": f"k1:{generate_key()}",
        "LOG_FORMAT": "text",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    argv = ["training", "up", trainee, "--cases", str(CASES), "--port", str(port)]
    with _running(argv, env, output) as stack:
        await _until_up(stack, output)
        children = _descendants(stack.pid)
        assert len(children) >= 2  # the worker and the API
        for child in children:
            environ = _environ(child)
            assert environ["COLLECTIONS_TRAINING"] == trainee
            assert environ["TEMPORAL_NAMESPACE"] == f"training-{trainee}"
            assert all(environ[name] == "" for name in TWILIO)

        db = Database(f"sqlite+aiosqlite:///{var / 'training' / f'{trainee}.db'}")
        try:
            # The cases' first writes follow their starts by a moment (longer on a busy machine).
            for _ in range(120):
                async with db.session() as session:
                    cases = (await session.exec(select(CaseRow))).all()
                    tasks = (await session.exec(select(HumanTaskRow))).all()
                    seat = (
                        await session.exec(select(StaffRow).where(StaffRow.person_id == trainee))
                    ).one()
                if len(cases) == len(tasks) == CASES:
                    break
                await asyncio.sleep(0.25)
        finally:
            await db.dispose()
        assert len(cases) == CASES and {c.stage for c in cases} == {"collector"}
        assert sorted(t.kind for t in tasks) == ["collector_call"] * CASES
        assert seat.roles == "operations" and seat.must_change_password
        password = var / "training" / f"{trainee}-password"
        assert password.stat().st_mode & 0o777 == 0o600

        client = await Client.connect(
            dev_env.client.service_client.config.target_host, namespace=f"training-{trainee}"
        )
        for _ in range(20):  # visibility follows the starts closely, not at once
            started = await client.count_workflows("WorkflowType = 'CollectionCase'")
            if started.count == CASES:
                break
            await asyncio.sleep(0.25)
        assert started.count == CASES

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            signin = await api.get("/console/signin")
            assert f'data-training="{trainee}"' in signin.text
            page = await api.get("/console/training")
            assert page.status_code == 303 and "/console/signin" in page.headers["location"]
        _stop(stack, output)


@contextmanager
def _running(argv: list[str], env: dict[str, str], output: Path) -> Iterator[Popen[bytes]]:
    """`python -m cli.main ARGV`; whatever the test does, nothing it started is left running."""
    with output.open("ab") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *argv],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield stack
    finally:
        if stack.poll() is None:
            for pid in [*_descendants(stack.pid), stack.pid]:
                os.kill(pid, signal.SIGKILL)
            stack.wait()


def _stop(stack: Popen[bytes], output: Path) -> None:
    """SIGTERM, as Ctrl-C or a service manager: exit 0, and the worker and the API gone."""
    children = _descendants(stack.pid)
    stack.send_signal(signal.SIGTERM)
    assert stack.wait(STOP_WITHIN) == 0, output.read_text()
    assert "Stopped." in output.read_text()
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


async def _until_up(stack: Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        text = _said(output)
        assert stack.poll() is None, text
        if "is up." in text:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not up within {READY_WITHIN:g} s:\n{_said(output)}")


def _said(output: Path) -> str:
    return output.read_text()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode().partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}
