"""Temporal servers for tests: a time-skipping server per test, one dev server per session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from models.visibility import ALL_KEYS
from readmodel import sealing
from temporal.client import data_converter
from tests.conftest_db import database, database_url, postgres_url, sqlite_template  # noqa: F401
from tests.requirements import kind_of_nodeid
from tests.temporal_env import installed_binary

# The read model seals personal fields (as every process does from its payload keys): tests
# seal under a key of their own.
TEST_DATA_KEY = ("test-data-1", bytes(range(32)))
sealing.configure(sealing.DataKeys([TEST_DATA_KEY]))


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java time-skipping test server: months of a case pass in seconds.

    One per test (it starts in about 0.1 s): its clock is shared by every workflow on it, and a
    workflow one test leaves behind would hold that clock for the next.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(),
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={key.name: key.indexed_value_type for key in ALL_KEYS},
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server (the one `make up` runs), with the project's search attributes."""
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=ALL_KEYS,
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=400",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many tests of each kind ran and passed, so a log shows that the browser and the
    PostgreSQL tests ran (CI requires them: `tests.requirements`)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            kind = kind_of_nodeid(report.nodeid)
            counts.setdefault(kind, {}).setdefault(outcome, 0)
            counts[kind][outcome] += 1
    terminalreporter.write_sep("-", "tests by kind")
    for kind in sorted(counts):
        seen = counts[kind]
        terminalreporter.write_line(
            f"{kind}: {seen.get('passed', 0)} ran and passed, {seen.get('failed', 0)} failed, "
            f"{seen.get('skipped', 0)} skipped"
        )
