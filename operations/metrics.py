"""The application's Prometheus metrics: what the front ends see of the workflows, and the
read model's backlog. Labels are bounded sets (an update's name, an outcome, a stage, a queue,
an action), never a case id, an account number or anything typed by a person, so `/metrics`
may be scraped without signing in.

- `collections_workflow_update_seconds{update,outcome}` and
  `collections_workflow_query_seconds{query,outcome}`: the gateway's calls, by `Outcome`;
- `collections_intake_rows_total{outcome}`: rows of an intake (started, already_running, failed);
- `collections_intake_last_file_timestamp_seconds`: when this process last loaded a daily file
  (0: not since it started), set through `intake_file_processed`;
- `collections_cases_open{stage}`, `collections_tasks_open{queue}`,
  `collections_tasks_overdue{queue}` (open past their deadline: SLA breaches) and
  `collections_approvals_pending{action}`: counted from the read model when scraped, at most
  every `FRESH_FOR` seconds (`BacklogGauges`).

The first four live in prometheus_client's default registry, so whichever process counts them
(the API, the worker, a scheduled intake) exports them on its own endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from models.contracts import Stage
from operations.answers import Outcome
from readmodel.engine import Database
from readmodel.queries import Backlog, backlog

log = logging.getLogger(__name__)

# Seconds; the gateway gives up after `answer_timeout_seconds` (20 by default).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
# A scrape every few seconds from several Prometheus servers costs one set of queries.
FRESH_FOR = 5.0

UPDATE_SECONDS = Histogram(
    "collections_workflow_update_seconds",
    "Time to a workflow update's answer through the gateway, by update and outcome.",
    ["update", "outcome"],
    buckets=LATENCY_BUCKETS,
)
QUERY_SECONDS = Histogram(
    "collections_workflow_query_seconds",
    "Time to a workflow query's answer through the gateway, by query and outcome.",
    ["query", "outcome"],
    buckets=LATENCY_BUCKETS,
)
INTAKE_ROWS = Counter(
    "collections_intake_rows",
    "Intake rows by outcome: started, already_running (refreshed or not), failed.",
    ["outcome"],
)
INTAKE_LAST_FILE = Gauge(
    "collections_intake_last_file_timestamp_seconds",
    "When this process last loaded a daily intake file (Unix time; 0: not since it started).",
)


def update_answered(update: str, outcome: Outcome, seconds: float) -> None:
    UPDATE_SECONDS.labels(update, outcome.value).observe(seconds)


def query_answered(query: str, outcome: Outcome, seconds: float) -> None:
    QUERY_SECONDS.labels(query, outcome.value).observe(seconds)


def intake_row(outcome: str) -> None:
    INTAKE_ROWS.labels(outcome).inc()


def intake_file_processed(at: datetime | None = None) -> None:
    """A daily file was loaded at `at` (now if not given); the late-file alert watches this.
    A process that starts may call it with the time of the last file it knows was loaded."""
    INTAKE_LAST_FILE.set(at.timestamp() if at is not None else time.time())


class BacklogGauges(Collector):
    """The read model's backlog as gauges. `refresh` counts it again unless the last count is
    younger than `fresh_for` seconds; `collect` exports the last count (nothing after a failed
    one: no number is better than a stale one)."""

    def __init__(self, *, fresh_for: float = FRESH_FOR) -> None:
        self._fresh_for = fresh_for
        self._counted: Backlog | None = None
        self._at = -math.inf
        self._lock = asyncio.Lock()

    async def refresh(self, db: Database) -> None:
        async with self._lock:  # concurrent scrapes share one count
            if time.monotonic() - self._at < self._fresh_for:
                return
            try:
                self._counted = await backlog(db, now=datetime.now(UTC))
            except Exception as error:
                log.warning("the backlog could not be counted: %s", type(error).__name__)
                self._counted = None
            self._at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        counted = self._counted
        stages = [s.value for s in Stage if s is not Stage.CLOSED]
        queues = sorted(counted.open_tasks) if counted else []
        yield _gauge(
            "collections_cases_open",
            "Open cases by stage.",
            "stage",
            {s: counted.open_cases.get(s, 0) for s in stages} if counted else {},
        )
        yield _gauge(
            "collections_tasks_open",
            "Open human tasks (open, claimed or escalated) by queue.",
            "queue",
            counted.open_tasks if counted else {},
        )
        yield _gauge(
            "collections_tasks_overdue",
            "Open human tasks past their deadline (SLA breaches) by queue.",
            "queue",
            {q: counted.overdue_tasks.get(q, 0) for q in queues} if counted else {},
        )
        yield _gauge(
            "collections_approvals_pending",
            "Actions waiting for a second person's approval, by action.",
            "action",
            counted.pending_approvals if counted else {},
        )


def _gauge(name: str, documentation: str, label: str, values: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(values.items()):
        family.add_metric([value], count)
    return family


class _Together(Collector):
    def __init__(self, sources: Iterable[Collector]) -> None:
        self._sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self._sources:
            yield from source.collect()


async def exposition(gauges: BacklogGauges, db: Database) -> bytes:
    """This process's metrics and the backlog, in Prometheus' text format."""
    await gauges.refresh(db)
    return generate_latest(_Together([REGISTRY, gauges]))
