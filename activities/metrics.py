"""What the worker's activities count for Prometheus (served by `workers.metrics`). Labels are
bounded sets (a channel, a result, a policy reason, a provider's error code), never a number, a
key or a case.

- `collections_contacts_total{channel,result}`: provider calls: `accepted` (the provider or the
  local outbox took it), `failed` (refused for good), `error` (transient: Temporal retries),
  `unconfirmed` (a call whose fate could not be learnt; never placed again);
- `collections_contact_refusals_total{channel,reason}`: contacts the contact policy refused;
- `collections_provider_errors_total{code}`: the provider's errors, by its error code for a
  refusal, else by class (`429`, `5xx`, `connect`, `lost`, `list`).

A retried activity counts again only what happened again: a send answered from the attempts
table and a refusal already recorded count once.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from models.contracts import RefusalReason
from models.strategy import Channel


class ContactMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self._contacts = Counter(
            "collections_contacts",
            "Contacts handed to the provider, by channel and result.",
            ["channel", "result"],
            registry=registry,
        )
        self._refusals = Counter(
            "collections_contact_refusals",
            "Contacts the contact policy refused, by channel and reason.",
            ["channel", "reason"],
            registry=registry,
        )
        self._provider_errors = Counter(
            "collections_provider_errors",
            "Errors of the messaging provider, by error code or class.",
            ["code"],
            registry=registry,
        )

    def contact(self, channel: Channel, result: str) -> None:
        self._contacts.labels(channel.value, result).inc()

    def refused(self, channel: Channel, reason: RefusalReason) -> None:
        self._refusals.labels(channel.value, reason.value).inc()

    def provider_error(self, code: str) -> None:
        self._provider_errors.labels(code or "other").inc()


# The process's counters, in the default registry; a test may pass its own.
CONTACTS = ContactMetrics()
