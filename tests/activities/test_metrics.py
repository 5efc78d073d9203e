# ruff: noqa: F811  (the database fixtures are imported by name, below)
"""What the activities count for Prometheus: each provider call once, by channel and result;
the provider's errors by code; a refusal once however often it is recorded. Counters of the
test's own (`ContactMetrics(registry)`), so the numbers are exact."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry
from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStoreActivities
from activities.messaging.activities import MessagingActivities
from activities.messaging.senders import (
    OutboxSender,
    PermanentSendError,
    ProviderReceipt,
    TransientSendError,
)
from activities.metrics import ContactMetrics
from models.strategy import Channel
from readmodel.engine import Database
from tests.activities.test_messaging import call, send, sms
from tests.conftest_db import database, database_url, postgres_url, sqlite_template  # noqa: F401
from tests.readmodel.test_writes import refusal


class Counted:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.metrics = ContactMetrics(self.registry)

    def __call__(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


class RefusingSender:
    """Refuses the first number for good, rate-limits the second."""

    async def send(
        self, *, channel: Channel, to: str, body: str, idempotency_key: str
    ) -> ProviderReceipt:
        if to.endswith("1"):
            raise PermanentSendError(21610, "unsubscribed")
        raise TransientSendError("twilio rate limit (429)", maybe_sent=False, code="429")

    async def find_sent(
        self, *, channel: Channel, to: str, body: str, since: datetime
    ) -> Sequence[ProviderReceipt]:
        return ()


async def test_each_send_counts_once_by_channel_and_result(database: Database) -> None:
    counted = Counted()
    messaging = MessagingActivities(OutboxSender(), database, metrics=counted.metrics)
    await send(messaging, sms())
    await send(messaging, sms())  # a retry: answered from the attempts table
    await send(messaging, call())

    contacts = "collections_contacts_total"
    assert counted(contacts, channel="sms", result="accepted") == 1
    assert counted(contacts, channel="voice", result="accepted") == 1
    assert counted("collections_provider_errors_total", code="429") == 0


async def test_a_providers_refusal_and_errors_are_counted_by_code(database: Database) -> None:
    counted = Counted()
    messaging = MessagingActivities(RefusingSender(), database, metrics=counted.metrics)
    await send(messaging, sms("k1", to="+8613800138001"))
    with pytest.raises(TransientSendError):
        await send(messaging, sms("k2", to="+8613800138002"))

    assert counted("collections_contacts_total", channel="sms", result="failed") == 1
    assert counted("collections_contacts_total", channel="sms", result="error") == 1
    assert counted("collections_provider_errors_total", code="21610") == 1
    assert counted("collections_provider_errors_total", code="429") == 1


async def test_a_refusal_counts_once_by_channel_and_reason(database: Database) -> None:
    counted = Counted()
    store = CaseStoreActivities(database, metrics=counted.metrics)
    env = ActivityEnvironment()
    await env.run(store.record_refused_attempt, refusal())
    await env.run(store.record_refused_attempt, refusal())  # a retry

    refusals = "collections_contact_refusals_total"
    assert counted(refusals, channel="sms", reason="outside_window") == 1
