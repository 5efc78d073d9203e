"""One scale of the live bench, on the dev server with worker processes: intake, first contact,
memory, and (when asked) the operator's `record_payment` latency, each against the bare engine.

Per scale: a fresh SQLite read model, fresh task queues, and fresh worker processes (the
project's `python -m cli.main worker` and `python -m bench.bare_worker`), so every figure starts
from the same state. The bare engine goes first at each step; both share the dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import random
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

import psycopg
from temporalio.client import Client

from bench import bare
from bench.measure import (
    HistoryCost,
    cost,
    median,
    run_concurrently,
    until_activity_done,
    wait_for_count,
)
from bench.processes import cpu_seconds, process, python_module, rss_bytes, wait_idle
from bench.profile import recording
from config.settings import load_settings
from config.strategy import Assessor
from examples.make_sample import HEADER, LONDON, MAINLAND, NEW_YORK, Region, Sample
from models.contracts import ActionResult, RecordPaymentInput
from models.intake import parse_intake
from operations.gateway import Gateway
from operations.intake import DEFAULT_CONCURRENCY, run_intake
from readmodel.engine import migrate
from temporal.client import connect
from temporal.codec import codec_from_settings, generate_key

WARM_UP = 10  # cases (and bare workflows) each worker runs before anything is measured
COST_SAMPLES = 5  # histories read for the cost of one case up to its first reminder
SENT = "SELECT COUNT(DISTINCT case_id) FROM contact_attempts WHERE status NOT IN (?, ?)"


@dataclass(frozen=True)
class Stack:
    address: str
    tmp: Path
    policy: Path
    server_pid: int
    # A PostgreSQL server's URL without a database (`postgresql+psycopg://postgres@host:5432`):
    # each scale's read model is a fresh database there, dropped after. "": SQLite files.
    postgresql: str = ""
    # `--profile`: py-spy records the project's worker during first contact, into this folder.
    profile: Path | None = None


@dataclass(frozen=True)
class Pair:
    project: float
    bare: float


@dataclass
class ScaleResult:
    n: int
    intake: Pair  # cases started per second
    intake_failed: int
    # The rest only when first contact was measured at this scale.
    first_contact: Pair | None = None  # cases from start to first reminder per second
    reached: tuple[int, int] = (0, 0)  # cases whose first reminder was seen: project, bare
    memory_per_1000: Pair | None = None  # bytes of worker RSS growth per 1,000 open cases
    cpu_ms_per_case: dict[str, Pair] | None = None  # start to first reminder, by process
    to_first_reminder: tuple[HistoryCost, HistoryCost] | None = None  # the median sample
    latency_s: tuple[list[float], list[float]] | None = None  # record_payment: project, bare


class CpuMeter:
    """CPU seconds used by the side's worker, the dev server and this bench process."""

    def __init__(self, worker: int, server: int) -> None:
        self._pids = {"worker": worker, "dev server": server}

    def read(self) -> dict[str, float]:
        used = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        used["bench client"] = time.process_time()
        return used


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class _Sample(Sample):
    """make_sample's fictional number ranges hold 300 New York and 1,000 London mobiles; past
    a share of those, a bench file gives the customer a mainland number (time zone unchanged)."""

    ROOM: ClassVar[dict[str, int]] = {NEW_YORK.time_zone: 200, LONDON.time_zone: 600}

    def __init__(self, seed: int, as_of: date) -> None:
        super().__init__(seed, as_of)
        self._given: Counter[str] = Counter()

    def mobile(self, region: Region) -> str:
        self._given[region.time_zone] += 1
        if self._given[region.time_zone] > self.ROOM.get(region.time_zone, 10**9):
            return super().mobile(MAINLAND)
        return super().mobile(region)


def write_csv(path: Path, rows: int, seed: int) -> None:
    """make_sample's accounts; the strategy column left blank, so the bench policy applies."""
    sample = _Sample(seed, date.today())
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for _ in range(rows):
            writer.writerow((*sample.row()[:-1], ""))


class Scale:
    def __init__(self, stack: Stack, n: int, seed: int) -> None:
        self.stack, self.n, self.seed = stack, n, seed
        tag = f"n{n}-{seed}"
        self.tag = tag
        self.db_file = stack.tmp / f"{tag}.db"
        self.pg_name = f"bench_{tag}".replace("-", "_")
        database_url = (
            f"{stack.postgresql}/{self.pg_name}"
            if stack.postgresql
            else f"sqlite+aiosqlite:///{self.db_file}"
        )
        self.queue = f"bench-{tag}-cases"
        self.bare_queue = f"bench-{tag}-bare"
        self.counter = stack.tmp / f"{tag}.bare-count"
        self.env = {
            "TEMPORAL_ADDRESS": stack.address,
            "DATABASE_URL": database_url,
            "COLLECTIONS_POLICY": str(stack.policy),
            "COLLECTIONS_VAR_DIR": str(stack.tmp / "var"),
            "QUEUE_COLLECTIONS": self.queue,
            "QUEUE_RISK": f"bench-{tag}-risk",
            "QUEUE_LEGAL": f"bench-{tag}-legal",
            "PAYLOAD_KEYS": f"bench:{generate_key()}",
            "TWILIO_ACCOUNT_SID": "",  # the local outbox, whatever .env says
            "TWILIO_AUTH_TOKEN": "",
        }
        self.settings = load_settings(environ=self.env, env_file=Path("/nonexistent"))

    async def sent_count(self) -> int:
        def count() -> int:
            if self.stack.postgresql:
                with psycopg.connect(self._pg_dsn(self.pg_name)) as db:
                    found = db.execute(SENT.replace("?", "%s"), ("refused", "queued")).fetchone()
                return int(found[0]) if found else 0
            if not self.db_file.exists():
                return 0
            with sqlite3.connect(self.db_file, timeout=5) as db:
                row = db.execute(SENT, ("refused", "queued")).fetchone()
            return int(row[0])

        return await asyncio.to_thread(count)

    def _pg_dsn(self, database: str) -> str:
        return f"{self.stack.postgresql.replace('postgresql+psycopg', 'postgresql')}/{database}"

    def create_database(self) -> None:
        """A fresh PostgreSQL database for this scale (nothing for SQLite: its file is new)."""
        if self.stack.postgresql:
            with psycopg.connect(self._pg_dsn("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}"')
                admin.execute(f'CREATE DATABASE "{self.pg_name}"')

    def drop_database(self) -> None:
        if self.stack.postgresql:
            with psycopg.connect(self._pg_dsn("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    async def bare_count(self) -> int:
        try:
            return int(self.counter.read_text() or 0)
        except FileNotFoundError:
            return 0

    def worker_args(self) -> list[str]:
        queues = self.settings.task_queues.all()
        return python_module("cli.main", "worker", *(a for q in queues for a in ("--queue", q)))

    def csv(self, rows: int, seed: int) -> Path:
        path = self.stack.tmp / f"{self.tag}-{seed}.csv"
        write_csv(path, rows, seed)
        return path

    async def intake(self, client: Client, path: Path) -> tuple[float, list[tuple[str, str]], int]:
        """Reads, checks and starts the file; answers the seconds it took, the started cases
        (workflow id, currency) and how many rows failed."""
        began = time.monotonic()
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        parsed = parse_intake(text, as_of=date.today())
        summary = await run_intake(
            Gateway(client),
            parsed.valid,
            task_queue=self.queue,
            concurrency=DEFAULT_CONCURRENCY,
            assessor=Assessor.configured(self.settings),
        )
        elapsed = time.monotonic() - began
        currency = {case.account.account_no: case.account.currency for _, case in parsed.valid}
        started = [(o.workflow_id, currency[o.account_no]) for o in summary.started]
        failed = len(summary.failed) + len(parsed.rejected_rows)
        return elapsed, started, failed

    async def bare_starts(self, client: Client, kind: str, prefix: str, count: int) -> list[str]:
        ids = [f"{prefix}-{i}" for i in range(count)]

        async def start(workflow_id: object) -> None:
            if kind == bare.EMPTY:
                await client.start_workflow(kind, id=str(workflow_id), task_queue=self.bare_queue)
            else:
                await client.start_workflow(
                    kind, bare.BareInput(), id=str(workflow_id), task_queue=self.bare_queue
                )

        await run_concurrently(ids, start, DEFAULT_CONCURRENCY)
        return ids


async def run_scale(
    stack: Stack, n: int, *, seed: int, first_contact: bool, latency_samples: int
) -> ScaleResult:
    """Intake of `n` cases against `n` bare starts; with `first_contact`, also first contact,
    memory, the cost up to the first reminder and (`latency_samples`) record_payment."""
    scale = Scale(stack, n, seed)
    await asyncio.to_thread(scale.create_database)
    try:
        return await _run_scale(scale, stack, n, first_contact, latency_samples)
    finally:
        await asyncio.to_thread(scale.drop_database)


async def _run_scale(
    scale: Scale, stack: Stack, n: int, first_contact: bool, latency_samples: int
) -> ScaleResult:
    await asyncio.to_thread(migrate, scale.env["DATABASE_URL"])
    project = await connect(scale.settings, codec_from_settings(scale.settings))
    plain = await Client.connect(stack.address)
    warm_csv, day_csv = scale.csv(WARM_UP, scale.seed + 1), scale.csv(n, scale.seed)
    within = max(180.0, n * 0.5)
    bare_args = python_module("bench.bare_worker", stack.address, scale.bare_queue)
    with (
        process(scale.worker_args(), scale.env, stack.tmp / f"{scale.tag}.worker.log") as worker,
        process([*bare_args, str(scale.counter)], {}, stack.tmp / f"{scale.tag}.bare.log") as bw,
    ):
        pids = [worker.pid, bw.pid]
        say(f"N={n}: warming up both workers with {WARM_UP} cases each")
        await scale.intake(project, warm_csv)
        await scale.bare_starts(plain, bare.CASE, f"bare-warm-{scale.tag}", WARM_UP)
        await wait_for_count(scale.sent_count, WARM_UP, within=120)
        await wait_for_count(scale.bare_count, WARM_UP, within=120)
        await wait_idle(pids)

        say(f"N={n}: bare intake ({n} empty workflows)")
        began = time.monotonic()
        await scale.bare_starts(plain, bare.EMPTY, f"bare-empty-{scale.tag}", n)
        bare_intake = n / (time.monotonic() - began)
        await wait_idle(pids)
        if not first_contact:
            say(f"N={n}: project intake ({n} rows)")
            intake_s, started, failed = await scale.intake(project, day_csv)
            return ScaleResult(n, Pair(len(started) / intake_s, bare_intake), failed)

        say(f"N={n}: bare first contact ({n} workflows with one no-op activity)")
        bare_cpu = CpuMeter(bw.pid, stack.server_pid)
        cpu_before = bare_cpu.read()
        bare_before = rss_bytes(bw.pid)
        base = await scale.bare_count()
        began = time.monotonic()
        bare_ids = await scale.bare_starts(plain, bare.CASE, f"bare-case-{scale.tag}", n)
        done_at, bare_seen = await wait_for_count(scale.bare_count, base + n, within=within)
        bare_contact = (bare_seen - base) / (done_at - began)
        await wait_idle(pids)
        bare_after = rss_bytes(bw.pid)
        bare_used = {k: v - cpu_before[k] for k, v in bare_cpu.read().items()}

        say(f"N={n}: project intake and first contact ({n} rows)")
        project_cpu = CpuMeter(worker.pid, stack.server_pid)
        cpu_before = project_cpu.read()
        project_before = rss_bytes(worker.pid)
        base = await scale.sent_count()
        profiled = stack.profile / f"worker-n{n}.txt" if stack.profile else None
        with recording(worker.pid, profiled) if profiled else contextlib.nullcontext():
            began = time.monotonic()
            intake_s, started, failed = await scale.intake(project, day_csv)
            say(f"N={n}: intake done in {intake_s:.1f} s; waiting for first reminders")
            done_at, seen = await wait_for_count(
                scale.sent_count, base + len(started), within=within
            )
            project_contact = (seen - base) / (done_at - began)
            await wait_idle(pids)
        project_after = rss_bytes(worker.pid)
        project_used = {k: v - cpu_before[k] for k, v in project_cpu.read().items()}

        latency = None
        if latency_samples:
            say(f"N={n}: record_payment latency, {latency_samples} samples each")
            latency = await payment_latency(project, plain, started, bare_ids, latency_samples)
        costs = await first_reminder_costs(project, plain, started, bare_ids)
    return ScaleResult(
        n=n,
        intake=Pair(len(started) / intake_s, bare_intake),
        intake_failed=failed,
        first_contact=Pair(project_contact, bare_contact),
        reached=(seen - base, bare_seen - base),
        memory_per_1000=Pair(
            (project_after - project_before) * 1000 / n, (bare_after - bare_before) * 1000 / n
        ),
        cpu_ms_per_case={
            name: Pair(project_used[name] * 1000 / n, bare_used[name] * 1000 / n)
            for name in project_used
        },
        to_first_reminder=costs,
        latency_s=latency,
    )


async def payment_latency(
    project: Client,
    plain: Client,
    cases: list[tuple[str, str]],
    bare_ids: list[str],
    samples: int,
    pause: float = 0.05,
) -> tuple[list[float], list[float]]:
    """Round trips of `record_payment`, one case at a time, project and bare taking turns.

    Each sample goes to a different open case, already past its first reminder; the first three
    of each are not counted (connections, first use). `pause` lets the case's write after the
    payment finish before the next sample.
    """
    rng = random.Random(len(cases))
    warm = 3
    picked = rng.sample(cases, min(len(cases), samples + warm))
    bare_picked = rng.sample(bare_ids, min(len(bare_ids), samples + warm))
    project_s: list[float] = []
    bare_s: list[float] = []
    for i, ((case_id, currency), bare_id) in enumerate(zip(picked, bare_picked, strict=False)):
        payment = RecordPaymentInput(amount_minor=100, currency=currency, payment_ref=f"B{i}")
        began = time.perf_counter()
        result = await project.get_workflow_handle(case_id).execute_update(
            "record_payment", payment, result_type=ActionResult
        )
        project_took = time.perf_counter() - began
        if not result.accepted:
            raise RuntimeError(f"record_payment refused on {case_id}: {result.message}")
        await asyncio.sleep(pause)
        began = time.perf_counter()
        await plain.get_workflow_handle(bare_id).execute_update(
            bare.UPDATE, bare.BarePayment(amount_minor=100, payment_ref=f"B{i}"), result_type=int
        )
        bare_took = time.perf_counter() - began
        await asyncio.sleep(pause)
        if i >= warm:
            project_s.append(project_took)
            bare_s.append(bare_took)
    return project_s, bare_s


async def first_reminder_costs(
    project: Client, plain: Client, cases: list[tuple[str, str]], bare_ids: list[str]
) -> tuple[HistoryCost, HistoryCost]:
    """The median (by events) of a few histories, cut at the first reminder's completion."""

    async def sample(client: Client, ids: list[str], activity: str) -> HistoryCost:
        costs = []
        for workflow_id in ids[:COST_SAMPLES]:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            done = await until_activity_done(history.events, activity, client.data_converter)
            costs.append(cost(done))
        middle = median(c.events for c in costs)
        return min(costs, key=lambda c: abs(c.events - middle))

    return (
        await sample(project, [case_id for case_id, _ in cases], "send_contact"),
        await sample(plain, bare_ids, bare.REMIND),
    )
