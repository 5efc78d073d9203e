"""`--profile DIR`: where the project's worker spends its CPU during first contact, by py-spy.

py-spy (`pip install py-spy`; not a dependency of the project) samples the worker process from
the first start until it is idle again, GIL-holding threads only (what costs the process CPU in
Python), and writes collapsed stacks (`worker-n<N>.txt`, one stack and its count a line, for
flame graph tools). `summary` reads them back: the share of samples under each kind of work
(a sample counts for every kind found in its stack) and the functions with most samples in
them and under them. The Rust core's threads are not Python and are not sampled.

    .venv/bin/python -m bench.profile DIR/worker-n200.txt   # the summary of a recorded file
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Kinds of work, by the file a frame is in (or its function); the first that matches names it.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("workflow activation (sandbox, SDK workflow instance)", ("_workflow_instance.py",)),
    ("workflow sandbox machinery", ("workflow_sandbox/",)),
    ("activities (the project's)", ("/activities/",)),
    ("sealing (read model AES)", ("readmodel/sealing.py",)),
    ("read model writes (readmodel/)", ("/readmodel/",)),
    ("SQLAlchemy / sqlmodel", ("sqlalchemy/", "sqlmodel/")),
    ("aiosqlite / sqlite3", ("aiosqlite/", "sqlite3/")),
    ("payload codec (AES)", ("temporal/codec.py",)),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("SDK data converter", ("temporalio/converter.py", "temporalio/contrib/pydantic")),
    ("SDK payload visitor", ("temporalio/bridge/_visitor.py",)),
    ("protobuf", ("google/protobuf/",)),
    ("logging", ("logging/__init__.py", "config/logs.py")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("OpenTelemetry", ("opentelemetry/",)),
    ("asyncio event loop", ("asyncio/",)),
    ("SDK activity worker", ("temporalio/worker/_activity.py",)),
    ("SDK workflow worker", ("temporalio/worker/_workflow.py",)),
)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each thread of `pid`, summed by thread name (the main
    thread, the event loop's, is `main`; the Rust core's are `tokio-*`)."""
    used: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


@contextlib.contextmanager
def recording(pid: int, out: Path, *, rate: int = 200) -> Iterator[None]:
    """py-spy records `pid` while the block runs (nothing, and says so, without py-spy); the
    CPU of each of its threads over the block goes beside, in `<out>.threads`."""
    threads_before = thread_cpu(pid)
    try:
        yield from _spied(pid, out, rate)
    finally:
        after = thread_cpu(pid)
        used = {name: after[name] - threads_before.get(name, 0.0) for name in after}
        lines = [f"{name}\t{s:.2f}" for name, s in sorted(used.items(), key=lambda i: -i[1])]
        out.with_suffix(".threads").write_text("\n".join(lines) + "\n")


def _spied(pid: int, out: Path, rate: int) -> Iterator[None]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("--profile: py-spy is not installed (pip install py-spy); not profiling", flush=True)
        yield
        return
    args = [spy, "record", "--pid", str(pid), "--gil", "--rate", str(rate)]
    args += ["--format", "raw", "--output", str(out), "--nonblocking"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def kind_of(frame: str) -> str | None:
    for kind, marks in KINDS:
        if any(mark in frame for mark in marks):
            return kind
    return None


def summary(path: Path, top: int = 25) -> str:
    """Shares of samples by kind of work (inclusive) and the heaviest functions."""
    total = 0
    kinds: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, count in _stacks(path):
        total += count
        for kind in {k for k in map(kind_of, frames) if k is not None}:
            kinds[kind] += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if not total:
        return f"{path}: no samples"
    threads = path.with_suffix(".threads")
    lines = [f"{path}: {total} samples"]
    if threads.exists():
        lines += ["", "worker CPU seconds by thread:", threads.read_text().replace("\t", ": ")]
    lines += ["", "| kind of work (inclusive) | share |", "|---|---|"]
    lines += [f"| {kind} | {n / total:.1%} |" for kind, n in kinds.most_common()]
    lines += ["", "| function (inclusive) | share |", "|---|---|"]
    lines += [f"| {f} | {n / total:.1%} |" for f, n in inclusive.most_common(top)]
    lines += ["", "| function (self) | share |", "|---|---|"]
    lines += [f"| {f} | {n / total:.1%} |" for f, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(summary(Path(name)))
