"""The fuzz tests drive the real case workflow on the time-skipping server, as the workflow
tests do: the same fixtures, by name, and the department queues served too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from activities.messaging.senders import OutboxSender
from tests.workflows.harness import (
    CaseHarness,
    fake_twilio,  # noqa: F401
    harness,  # noqa: F401
    sqlite_db,  # noqa: F401
)
from tests.workflows.harness import test_settings as case_settings
from workers.main import Services, build_worker


@pytest.fixture
async def departments(harness: CaseHarness) -> AsyncIterator[CaseHarness]:  # noqa: F811
    """The harness with the risk and legal queues served too: reported hardship starts a risk
    review, and a child on a queue nobody polls would hold the time-skipping server's clock."""
    settings = case_settings(harness.queue)
    services = Services(db=harness.db, sender=OutboxSender())
    queues = settings.task_queues
    async with (
        build_worker(harness.client, settings, queues.risk, services),
        build_worker(harness.client, settings, queues.legal, services),
    ):
        yield harness
