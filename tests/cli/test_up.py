"""`collections up` as a user runs it: a real process tree, stopped by SIGTERM; a worker that
dies comes back, the Temporal server dying stops it all."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus

from cli.stack import Backoff
from config.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

READY_WITHIN = 120.0
STOP_WITHIN = 60.0
WORKER = b"\0worker\0"  # in a child's command line (/proc/<pid>/cmdline)
API = b"\0api\0"


@dataclass
class Ports:
    temporal: int
    ui: int
    api: int


@pytest.fixture
def ports() -> Ports:
    return Ports(*_free_ports(3))


def test_up_serves_and_stops_cleanly(tmp_path: Path, ports: Ports) -> None:
    with _up(tmp_path, ports) as up:
        assert _get(f"http://127.0.0.1:{ports.api}/health").json() == {
            "status": "ok",
            "temporal": "ok",
            "database": "ok",
        }
        assert _get(f"http://127.0.0.1:{ports.ui}/").status_code == 200
        assert _get(f"http://127.0.0.1:{ports.api}/docs").status_code == 200
        assert len(_descendants(up.pid)) >= 3  # temporal, worker, api
        # var/ holds customers' data (databases, logs) and the keys: its owner's alone.
        var = tmp_path / "var"
        assert stat.S_IMODE(var.stat().st_mode) == 0o700
        written = [p for p in var.rglob("*") if p.is_file()]
        assert {"collections.db", "temporal.db", "payload.key", "first-admin-password"} <= {
            p.name for p in written
        }
        assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in written), [
            (p.name, oct(p.stat().st_mode)) for p in written
        ]
        # The first admin signs in with the one-time password from the file, and is sent to
        # change it before anything else.
        lines = (var / "first-admin-password").read_text().splitlines()
        assert lines[0] == "staff ID: admin"
        password = lines[1].removeprefix("one-time password: ")
        signed = httpx.post(
            f"http://127.0.0.1:{ports.api}/console/signin",
            data={"staff": "admin", "password": password},
        )
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"].startswith("/console/password")
        wrong = httpx.post(
            f"http://127.0.0.1:{ports.api}/console/signin",
            data={"staff": "admin", "password": password + "x"},
        )
        assert wrong.status_code == 403
        _stop(up, tmp_path)

    output = _output(tmp_path)
    assert f"http://127.0.0.1:{ports.ui}" in output
    assert f"http://127.0.0.1:{ports.api}/docs" in output


async def test_second_up_finds_the_cases_of_the_first(tmp_path: Path, ports: Ports) -> None:
    workflow_id = f"case-up-test-{uuid.uuid4().hex[:8]}"
    address = f"127.0.0.1:{ports.temporal}"
    with _up(tmp_path, ports) as up:
        client = await Client.connect(address)
        # A task queue nobody polls: the workflow stays RUNNING and untouched by any worker.
        await client.start_workflow("NoSuchWorkflow", id=workflow_id, task_queue="nobody-polls")
        _stop(up, tmp_path)

    with _up(tmp_path, ports) as up:
        client = await Client.connect(address)
        handle = client.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("test over")
        _stop(up, tmp_path)


async def test_up_brings_a_killed_worker_back_while_the_api_answers(
    tmp_path: Path, ports: Ports
) -> None:
    health = f"http://127.0.0.1:{ports.api}/health"
    with _up(tmp_path, ports) as up:
        client = await Client.connect(f"127.0.0.1:{ports.temporal}")
        api = _child(up, API)
        for restart, delay in ((1, 1), (2, 2)):  # killed again at once: a longer wait
            killed = _child(up, WORKER)
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + READY_WITHIN
            while True:
                assert up.poll() is None, _output(tmp_path)
                assert _get(health).status_code == 200
                worker = _child(up, WORKER)
                if worker not in (0, killed) and await _polled_by(client, worker):
                    break
                assert time.monotonic() < deadline, f"no worker polls again:\n{_output(tmp_path)}"
                await asyncio.sleep(0.2)
            assert (
                f"worker exited with code -9; restarting in {delay} s (restart {restart})"
                in _output(tmp_path)
            )
        assert _child(up, API) == api, "the API was restarted"
        _stop(up, tmp_path)


def test_a_worker_that_keeps_dying_waits_longer_each_time_until_a_run_lasts() -> None:
    backoff = Backoff()
    assert [backoff.next(ran_for=5.0) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next(ran_for=60.0) == 1
    assert backoff.restarts == 8


def test_up_stops_everything_when_the_temporal_server_dies(tmp_path: Path, ports: Ports) -> None:
    with _up(tmp_path, ports) as up:
        children = _descendants(up.pid)
        os.kill(_child(up, b"\0start-dev\0"), signal.SIGKILL)
        assert up.wait(STOP_WITHIN) == 1
    assert "temporal exited with code -9 unexpectedly" in _output(tmp_path)
    assert not [pid for pid in children if _alive(pid)], "a child outlived `up`"


def test_up_refuses_a_taken_temporal_port(tmp_path: Path, ports: Ports) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.temporal))
        squatter.listen()
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "up"],
            cwd=PROJECT_ROOT,
            env=_env(tmp_path, ports),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {ports.temporal} is already taken by a program" in result.stdout


@contextmanager
def _up(tmp_path: Path, ports: Ports) -> Iterator[subprocess.Popen[bytes]]:
    """`up`, ready to serve; whatever the test does, nothing it started is left running."""
    with (tmp_path / "up.out").open("ab") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up"],
            cwd=PROJECT_ROOT,
            env=_env(tmp_path, ports),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(up, ports, tmp_path)
        yield up
    finally:
        if up.poll() is None:
            for pid in [*_descendants(up.pid), up.pid]:
                os.kill(pid, signal.SIGKILL)
            up.wait()


def _stop(up: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """SIGTERM, as a service manager sends it: `up` exits 0 and takes every child along."""
    children = _descendants(up.pid)
    up.send_signal(signal.SIGTERM)
    assert up.wait(STOP_WITHIN) == 0, _output(tmp_path)
    assert not [pid for pid in children if _alive(pid)], "a child outlived `up`"


def _child(up: subprocess.Popen[bytes], marker: bytes) -> int:
    """The child of `up` whose command line holds `marker` (0 while there is none)."""
    return next((pid for pid in _descendants(up.pid) if marker in _cmdline(pid)), 0)


async def _polled_by(client: Client, pid: int) -> bool:
    """Whether the worker process `pid` polls the collections queue (its identity: pid@host)."""
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name="collections"),
                task_queue_type=kind,
            )
        )
        if not any(p.identity.startswith(f"{pid}@") for p in described.pollers):
            return False
    return True


def _output(tmp_path: Path) -> str:
    return (tmp_path / "up.out").read_text()


def _env(tmp_path: Path, ports: Ports) -> dict[str, str]:
    var = tmp_path / "var"
    return {
        **os.environ,
        "COLLECTIONS_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var / 'collections.db'}",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports.temporal}",
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_TLS": "",
        "TEMPORAL_TLS_CERT": "",
        "TEMPORAL_API_KEY": "",
        "TEMPORAL_UI_PORT": str(ports.ui),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(ports.api),
    }


def _wait_ready(up: subprocess.Popen[bytes], ports: Ports, tmp_path: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        assert up.poll() is None, _output(tmp_path)
        if (
            "Collections is up." in _output(tmp_path)
            and _answers(f"http://127.0.0.1:{ports.api}/health")
            and _answers(f"http://127.0.0.1:{ports.ui}/")
        ):
            return
        time.sleep(0.5)
    pytest.fail(f"`up` was not ready in {READY_WITHIN} s:\n{_output(tmp_path)}")


def _answers(url: str) -> bool:
    try:
        return _get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=5.0)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (children of `up` run in their own sessions)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""
