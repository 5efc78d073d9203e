"""The soak: many open cases on one worker. `python -m bench.soak [--cases 100000]` (not part of
the test suite; `--cases 20000` takes about 25 min on two cores).

One dev server; one project worker (`python -m cli.main worker`, every queue, the codec on,
the local outbox) and one bare worker (`bench.bare_worker`), each with the SDK's default
workflow cache (1,000 workflows). In chunks of `--chunk` (10,000) the bare side starts as many
`BareCase` workflows and the project loads as many accounts through `run_intake`, each case
sending its first reminder and then sleeping; after each chunk, once both workers are idle, it
reads each worker's resident memory. Then it wakes cases: `record_payment` on cases that left
the cache long ago (the first started, so the worker replays their history first) and on cases
still in it (the last started), against the bare engine's same. Prints one Markdown table.
`--bare-cases M` stops the bare side at M open workflows (its share of the run's time is about
half): the project's rows go on to `--cases`, and each row says how many the bare side held.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from bench import bare
from bench.live import Scale, Stack, payment_latency, say
from bench.measure import percentile, wait_for_count
from bench.policy import write_bench_policy
from bench.processes import (
    dev_server_args,
    free_port,
    process,
    python_module,
    rss_bytes,
    wait_for_server,
    wait_idle,
)
from bench.report import Row, machine, table
from readmodel.engine import migrate
from temporal.client import connect
from temporal.codec import codec_from_settings

MIB = 1024 * 1024
WARM_UP = 10


@dataclass
class Soak:
    cases: int
    chunk: int
    open_after: list[int] = field(default_factory=list)  # open cases after each chunk
    bare_open_after: list[int] = field(default_factory=list)  # the bare side's
    rss: list[tuple[float, float]] = field(default_factory=list)  # MiB, project and bare
    first_contact: list[tuple[float, float]] = field(default_factory=list)  # cases/s per chunk
    evicted_s: tuple[list[float], list[float]] = ([], [])  # record_payment on evicted cases
    cached_s: tuple[list[float], list[float]] = ([], [])  # on cases still cached
    failed: int = 0


async def soak(cases: int, chunk: int, samples: int, tmp: Path, bare_cases: int) -> Soak:
    port = free_port()
    address = f"127.0.0.1:{port}"
    policy = write_bench_policy(tmp / "bench.toml")
    with process(dev_server_args(tmp / "soak.db", port), {}, tmp / "dev-server.log") as server:
        await wait_for_server(address, server)
        stack = Stack(address=address, tmp=tmp, policy=policy, server_pid=server.pid)
        scale = Scale(stack, cases, seed=7)
        await asyncio.to_thread(migrate, scale.env["DATABASE_URL"])
        project = await connect(scale.settings, codec_from_settings(scale.settings))
        plain = await Client.connect(address)
        bare_args = [*python_module("bench.bare_worker", address, scale.bare_queue)]
        with (
            process(scale.worker_args(), scale.env, tmp / "worker.log") as worker,
            process([*bare_args, str(scale.counter)], {}, tmp / "bare.log") as bare_worker,
        ):
            pids = [worker.pid, bare_worker.pid]
            result = Soak(cases, chunk)
            await scale.intake(project, scale.csv(WARM_UP, 1))
            await scale.bare_starts(plain, bare.CASE, "bare-warm", WARM_UP)
            await wait_for_count(scale.sent_count, WARM_UP, within=120)
            await wait_for_count(scale.bare_count, WARM_UP, within=120)
            await wait_idle(pids)
            started: list[tuple[str, str]] = []
            bare_ids: list[str] = []
            for k in range(max(1, cases // chunk)):
                within = max(300.0, chunk * 0.5)
                bare_chunk = min(chunk, bare_cases - len(bare_ids))
                bare_rate = float("nan")  # the bare side has stopped
                if bare_chunk > 0:
                    say(f"soak chunk {k + 1}: {bare_chunk} bare workflows")
                    began = time.monotonic()
                    bare_ids += await scale.bare_starts(
                        plain, bare.CASE, f"bare-soak-{k}", bare_chunk
                    )
                    done, _ = await wait_for_count(
                        scale.bare_count, WARM_UP + len(bare_ids), within=within
                    )
                    bare_rate = bare_chunk / (done - began)
                    await wait_idle(pids)
                say(f"soak chunk {k + 1}: {chunk} project cases")
                began = time.monotonic()
                _, new, failed = await scale.intake(project, scale.csv(chunk, 100 + k))
                started += new
                result.failed += failed
                done, _ = await wait_for_count(
                    scale.sent_count, WARM_UP + len(started), within=within
                )
                result.first_contact.append((len(new) / (done - began), bare_rate))
                await wait_idle(pids, within=300)
                result.open_after.append(len(started))
                result.bare_open_after.append(len(bare_ids))
                result.rss.append((rss_bytes(worker.pid) / MIB, rss_bytes(bare_worker.pid) / MIB))
                say(f"soak chunk {k + 1}: {len(started)} open; RSS {result.rss[-1]}")
            say("waking cases long out of the cache, then cases still in it")
            evicted = max(samples * 2, 10)
            result.evicted_s = await payment_latency(
                project, plain, started[:evicted], bare_ids[:evicted], samples
            )
            result.cached_s = await payment_latency(
                project, plain, started[-evicted:], bare_ids[-evicted:], samples
            )
    return result


def soak_rows(result: Soak) -> list[Row]:
    rows = [
        Row(f"worker RSS with {n:,} open cases{_bare_held(n, m)} (MiB)", p, b)
        for n, m, (p, b) in zip(result.open_after, result.bare_open_after, result.rss, strict=True)
    ]
    if len(result.rss) > 1:
        grown = result.open_after[-1] - result.open_after[0]
        bare_grown = result.bare_open_after[-1] - result.bare_open_after[0]
        (p0, b0), (p1, b1) = result.rss[0], result.rss[-1]
        rows.append(
            Row(
                f"worker RSS growth per 1,000 open cases, past the first {result.open_after[0]:,}"
                f"{_bare_held(grown, bare_grown)} (MiB)",
                (p1 - p0) * 1000 / grown,
                (b1 - b0) * 1000 / bare_grown if bare_grown else float("nan"),
                fmt="{:.2f}",
            )
        )
    first, last = result.first_contact[0], result.first_contact[-1]
    rows.append(Row("first contact, first chunk (cases/s)", first[0], first[1]))
    rows.append(Row("first contact, last chunk (cases/s)", last[0], last[1]))
    for label, (project_s, bare_s) in (
        ("a case long out of the cache", result.evicted_s),
        ("a case in the cache", result.cached_s),
    ):
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            rows.append(
                Row(
                    f"record_payment {name}, {label} (ms)",
                    percentile(project_s, q) * 1000,
                    percentile(bare_s, q) * 1000,
                )
            )
    return rows


def _bare_held(project: int, bare: int) -> str:
    return "" if project == bare else f" (bare: {bare:,})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100_000, help="open cases at the end")
    parser.add_argument("--chunk", type=int, default=10_000, help="cases started per step")
    parser.add_argument("--samples", type=int, default=30, help="payments timed per kind")
    parser.add_argument(
        "--bare-cases", type=int, default=None, help="open bare workflows at most (--cases)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args()
    bare_cases = args.cases if args.bare_cases is None else args.bare_cases
    chunk = min(args.chunk, args.cases)
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="collections-soak-"))
    began = time.monotonic()
    try:
        result = asyncio.run(soak(args.cases, chunk, args.samples, tmp, bare_cases))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    minutes = (time.monotonic() - began) / 60
    print(f"## soak, {result.open_after[-1]:,} open cases, {minutes:.1f} min\n")
    print(table(soak_rows(result)))
    print()
    for line in machine(load_before):
        print(f"- {line}")
    print(f"- rows that failed to start: {result.failed}")


if __name__ == "__main__":
    main()
