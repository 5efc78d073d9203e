"""The bench: `python -m bench.run [--quick]` (not part of the test suite).

Starts its own Temporal dev server (state in a temporary directory), then per scale the
project's worker process and a bare-engine worker process; measures intake, first contact,
memory and `record_payment` latency against the bare engine; then ages one case 30 and 180
days on the time-skipping server. Prints one table (Markdown) and the machine it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.aging import AgingResult, run_aging
from bench.live import ScaleResult, Stack, run_scale, say
from bench.policy import write_bench_policy
from bench.processes import dev_server_args, free_port, process, wait_for_server
from bench.profile import summary
from bench.report import machine, rows, table


@dataclass(frozen=True)
class Mode:
    scales: tuple[int, ...]  # intake at each
    contact_scales: tuple[int, ...]  # first contact, memory and history cost at each
    latency_scale: int  # its open cases (all in the worker's cache) take the payments
    latency_samples: int
    ages: tuple[int, ...] = (30, 180, 720)  # 720: past the history limit, so it continues as new
    replays: int = 5


QUICK = Mode(
    scales=(200, 1_000), contact_scales=(200,), latency_scale=200, latency_samples=60, replays=3
)
FULL = Mode(
    scales=(1_000, 10_000),
    contact_scales=(1_000, 10_000),
    latency_scale=1_000,
    latency_samples=300,
)


async def bench(
    mode: Mode, tmp: Path, postgresql: str = "", profile: Path | None = None
) -> tuple[list[ScaleResult], AgingResult]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    policy = write_bench_policy(tmp / "bench.toml")
    server_args = dev_server_args(tmp / "bench.db", port)
    with process(server_args, {}, tmp / "dev-server.log") as server:
        await wait_for_server(address, server)
        say(f"dev server on {address}; work files in {tmp}")
        stack = Stack(
            address=address,
            tmp=tmp,
            policy=policy,
            server_pid=server.pid,
            postgresql=postgresql,
            profile=profile,
        )
        scales = []
        for seed, n in enumerate(mode.scales, start=1):
            samples = mode.latency_samples if n == mode.latency_scale else 0
            contact = n in mode.contact_scales
            result = await run_scale(
                stack, n, seed=seed * 1000, first_contact=contact, latency_samples=samples
            )
            say(f"N={n}: {result.intake=} {result.first_contact=} {result.memory_per_1000=}")
            scales.append(result)
    say(f"aging one case {', '.join(map(str, mode.ages))} days on the time-skipping server")
    aging = await run_aging(tmp, mode.ages, mode.replays)
    return scales, aging


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="N=200 and 1,000, fewer samples")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    parser.add_argument(
        "--postgresql",
        default="",
        metavar="URL",
        help="the read model on this PostgreSQL server (postgresql+psycopg://user@host:port), "
        "a fresh database per scale, instead of SQLite files",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy (pip install py-spy) records the project's worker during first contact: "
        "collapsed stacks in DIR, and a summary by kind of work after the table",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    mode = QUICK if args.quick else FULL
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="collections-bench-"))
    began = time.monotonic()
    try:
        scales, aging = asyncio.run(bench(mode, tmp, args.postgresql, args.profile))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    took = time.monotonic() - began
    run = f"{'quick' if args.quick else 'full'} run"
    read_model = "PostgreSQL" if args.postgresql else "SQLite"
    print(f"## {run}, read model on {read_model}, {took / 60:.1f} min\n")
    print(table(rows(scales, aging)))
    print()
    for line in machine(load_before):
        print(f"- {line}")
    for s in scales:
        failed = f"{s.intake_failed} rows failed to start"
        seen = f", first reminders seen: project {s.reached[0]}, bare {s.reached[1]}"
        print(f"- N={s.n:,}: {failed}{seen if s.first_contact else ''}")
        if s.to_first_reminder is not None:
            kinds = dict(s.to_first_reminder[0].kinds)
            print(f"- N={s.n:,}: start → first reminder, project history by kind: {kinds}")
    for age in aging.project:
        print(f"- {age.days} days, project history by kind: {dict(age.total.kinds)}")
    print(f"- aged case: segment {aging.segment}, history limit {aging.history_limit}")
    for recorded in sorted(args.profile.glob("worker-n*.txt")) if args.profile else ():
        print(f"\n{summary(recorded)}")
    if args.json:
        raw = {"mode": asdict(mode), "seconds": took, "scales": [asdict(s) for s in scales]}
        raw["aging"] = asdict(aging)
        args.json.write_text(json.dumps(raw, indent=2, default=str))
    sys.stdout.flush()
    os._exit(0)  # a process holding a Temporal client can abort at interpreter exit


if __name__ == "__main__":
    main()
