"""The processes a bench run starts: a Temporal dev server, worker processes; and their memory.

Every process runs in its own session, so stopping it stops its children and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from models.visibility import ALL_KEYS
from tests.temporal_env import installed_binary

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(
    args: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `args` with `env` over this environment; SIGTERM at the end (SIGKILL if it hangs)."""
    full_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            env=full_env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def dev_server_args(db_file: Path, port: int) -> list[str]:
    """`temporal server start-dev` with the project's search attributes, state in `db_file`."""
    args = [installed_binary("temporal"), "server", "start-dev", "--headless"]
    args += ["--db-filename", str(db_file), "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--log-level", "warn"]
    for key in ALL_KEYS:
        kind = IndexedValueType.Name(IndexedValueType.ValueType(key.indexed_value_type))
        args += ["--search-attribute", f"{key.name}={kind.split('_')[-1].title()}"]
    return args


async def wait_for_server(address: str, proc: subprocess.Popen[bytes], within: float = 60) -> None:
    """Until the server answers and lists the project's search attributes (they race start-up)."""
    wanted = {key.name for key in ALL_KEYS}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dev server exited with {proc.returncode}")
        with contextlib.suppress(Exception):
            client = await Client.connect(address)
            listed = await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace="default")
            )
            if wanted <= set(listed.custom_attributes):
                return
        await asyncio.sleep(0.3)
    raise TimeoutError(f"the dev server at {address} was not ready within {within} s")


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` (psutil when installed, else /proc)."""
    try:
        psutil = importlib.import_module("psutil")
    except ImportError:
        status = Path(f"/proc/{pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return int(psutil.Process(pid).memory_info().rss)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def wait_idle(pids: list[int], *, below: float = 0.05, within: float = 60) -> None:
    """Until every process in `pids` uses under `below` of a core over a second."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = [cpu_seconds(pid) for pid in pids]
        await asyncio.sleep(1.0)
        after = [cpu_seconds(pid) for pid in pids]
        if all(b - a < below for a, b in zip(before, after, strict=True)):
            return
