"""Project processes for integration tests: `collections worker` and `collections api` as the
production entry points run them, against a test's Temporal server and database.

The API signs its callers in from that database's staff directory (there are no shared keys),
so a test puts its people there (`staff_database`, then `tests.staffing.seed_staff`) and calls
with their tokens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from readmodel.engine import Database, migrate
from temporal.codec import generate_key
from tests.staffing import Staffed, add_person, seed_staff

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def project_process(
    args: list[str], env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `python -m cli.main ARGS`; stops it with SIGTERM (SIGKILL if it hangs). An
    API_KEYS of the shell running the tests is not passed on: the API refuses to start with
    it. A worker serves no metrics unless `env` names their ports: the well-known ones may be
    a `collections up`'s, or another worker's of the same test."""
    inherited = {name: value for name, value in os.environ.items() if name != "API_KEYS"}
    quiet = {"WORKER_METRICS_PORT": "0", "WORKER_SDK_METRICS_PORT": "0"}
    full_env = {**inherited, **quiet, **env, "PYTHONPATH": str(PROJECT_ROOT)}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            env=full_env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


async def wait_for_health(
    base_url: str, process: subprocess.Popen[bytes], within: float = 30.0
) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=1.0) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{base_url}/health did not answer 200 within {within} s")


def database_url(tmp: Path) -> str:
    """The SQLite database `api_and_worker` makes under `tmp`."""
    return f"sqlite+aiosqlite:///{tmp / 'collections.db'}"


async def staff_database(
    url: str, *, colleagues: Mapping[str, list[str]] | None = None
) -> tuple[Staffed, dict[str, str]]:
    """Puts the test people (one per role, `tests.staffing.PEOPLE`) and `colleagues` (person id:
    roles) in the migrated database at `url`, from outside the processes that use it; their
    tokens: by role, and by colleague."""
    db = Database(url)
    try:
        staffed = await seed_staff(db)
        tokens = {
            person: await add_person(db, person, roles)
            for person, roles in (colleagues or {}).items()
        }
    finally:
        await db.dispose()
    return staffed, tokens


@contextlib.asynccontextmanager
async def api_and_worker(
    temporal_address: str,
    tmp: Path,
    *,
    queues: str,
    policy: Path,
    keys: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[str]:
    """A `collections worker` for all three queues (named `<queues>-collections` ...) and a
    `collections api` in front of it, on a fresh migrated SQLite database under `tmp`
    (`database_url(tmp)`, with no staff yet: see `staff_database`), with payload encryption
    on; yields the API's base URL once `/health` answers 200.

    `keys` is what API_KEYS once held; the API refuses to start with it now, so only none is
    taken (a caller that still passes `{}` runs as before). `env` adds to or overrides the
    processes' environment (a worker's metrics ports, say)."""
    if keys:
        raise ValueError("API_KEYS is gone: put staff in the database (staff_database)")
    url = database_url(tmp)
    await asyncio.to_thread(migrate, url)
    port = free_port()
    environment = {
        "TEMPORAL_ADDRESS": temporal_address,
        "DATABASE_URL": url,
        "QUEUE_COLLECTIONS": f"{queues}-collections",
        "QUEUE_RISK": f"{queues}-risk",
        "QUEUE_LEGAL": f"{queues}-legal",
        "PAYLOAD_KEYS": f"k1:{generate_key()}",
        "API_PORT": str(port),
        "COLLECTIONS_POLICY": str(policy),
        "COLLECTIONS_VAR_DIR": str(tmp / "var"),
        **(env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    with (
        project_process(["worker"], environment, tmp / "worker.log"),
        project_process(["api"], environment, tmp / "api.log") as api_process,
    ):
        await wait_for_health(base_url, api_process)
        yield base_url
