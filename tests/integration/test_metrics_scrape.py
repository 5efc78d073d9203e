"""Scraping the real processes: a `collections worker` serving its counters and the Temporal
SDK's metrics on their ports, a `collections api` serving `/metrics` and `/ready`, on the
session's dev server. A case started through the API sends its first reminder through the
local outbox (no Twilio configured), and the scrapes show it: the worker's send counter, the
SDK's task metrics, the API's intake rows, open cases by stage and update latencies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from tests.integration.processes import api_and_worker, database_url, free_port, staff_database

pytestmark = pytest.mark.integration

POLICY = Path(__file__).parent / "policies" / "first_reminder.toml"  # one SMS at once
RUN = f"{time.time_ns() % 10**9:09d}"
ACCOUNT = f"62227{RUN}"
NAME, MOBILE = "王芳", "+8613712345679"


def intake_row() -> dict[str, str | int]:
    return {
        "account_no": ACCOUNT,
        "customer_ref": f"CUST-{RUN}",
        "customer_name": NAME,
        "mobile": MOBILE,
        "language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "product": "card",
        "currency": "CNY",
        "outstanding_minor": 500_000,
        "overdue_minor": "120000",
        "oldest_due_date": (date.today() - timedelta(days=10)).isoformat(),
    }


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> tuple[str, Samples]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return response.text, samples


async def until(
    url: str, seen: Callable[[Samples], bool], what: str, within: float = 60.0
) -> tuple[str, Samples]:
    """The first scrape of `url` in which `seen` holds."""
    deadline = time.monotonic() + within
    while True:
        text, samples = await scrape(url)
        if seen(samples):
            return text, samples
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g} s; last scrape:\n{text}")
        await asyncio.sleep(0.5)


def sample(name: str, **labels: str) -> Callable[[Samples], float]:
    return lambda samples: samples.get((name, frozenset(labels.items())), 0.0)


async def test_the_worker_and_the_api_export_their_metrics(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    ours, sdk = free_port(), free_port()
    ports = {"WORKER_METRICS_PORT": str(ours), "WORKER_SDK_METRICS_PORT": str(sdk)}
    address = dev_env.client.service_client.config.target_host
    queues = f"metrics-{RUN}"
    async with (
        api_and_worker(address, tmp_path, queues=queues, policy=POLICY, env=ports) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30.0) as api,
    ):
        staffed, _ = await staff_database(database_url(tmp_path))
        ops = {"X-API-Key": staffed.tokens["operations"]}
        started = await api.post("/cases", json=intake_row(), headers=ops)
        assert started.status_code == 201, started.text

        sent = sample("collections_contacts_total", channel="sms", result="accepted")
        worker_text, _ = await until(
            f"http://127.0.0.1:{ours}/metrics", lambda s: sent(s) == 1, "the reminder counted"
        )
        sdk_text, sdk_samples = await until(
            f"http://127.0.0.1:{sdk}/metrics",
            lambda s: any(n.startswith("temporal_workflow_task_execution_latency") for n, _ in s),
            "the SDK's workflow task latency",
        )

        paused = await api.post(
            f"/cases/{ACCOUNT}/pause", json={"reason": "customer asked"}, headers=ops
        )
        assert paused.status_code == 200, paused.text
        opened = sample("collections_cases_open", stage="early")
        api_text, api_samples = await until(
            f"{base_url}/metrics", lambda s: opened(s) == 1, "the open case counted"
        )
        ready = await api.get("/ready")

    assert "# TYPE collections_provider_errors_total counter" in worker_text
    assert "# TYPE collections_contact_refusals_total counter" in worker_text
    assert "process_resident_memory_bytes" in worker_text  # prometheus_client's own
    # The case's writes and its first reminder's send are local activities.
    local = "temporal_local_activity_execution_latency"
    assert any(name.startswith(local) for name, _ in sdk_samples)
    assert f'task_queue="{queues}-collections"' in sdk_text
    assert sample("collections_intake_rows_total", outcome="started")(api_samples) == 1
    update = sample("collections_workflow_update_seconds_count", update="pause", outcome="accepted")
    assert update(api_samples) == 1
    assert ready.status_code == 200, ready.text
    assert ready.json()["queues"] == {
        f"{queues}-collections": 1,
        f"{queues}-risk": 1,
        f"{queues}-legal": 1,
    }
    for text in (worker_text, sdk_text, api_text):
        for personal in (ACCOUNT, NAME, MOBILE, MOBILE.removeprefix("+86")):
            assert personal not in text
