"""The data converter: one process-wide cache of pydantic type adapters, shared by the payload
converter the workflow sandbox builds for every workflow it runs."""

from __future__ import annotations

from datetime import date

from models.contracts import Account
from temporal import client
from temporal.client import data_converter

ACCOUNT = Account(
    account_no="6222000011112222",
    product="card",
    currency="CNY",
    outstanding_minor=500_000,
    overdue_minor=120_000,
    oldest_due_date=date(2026, 1, 1),
)


def test_a_second_converter_reuses_the_first_ones_type_adapters() -> None:
    converter_class = data_converter().payload_converter_class
    first, second = converter_class(), converter_class()  # as two sandboxed workflows get them
    caches = [c.converters[b"json/plain"]._type_adapter for c in (first, second)]  # type: ignore[attr-defined]
    assert caches[0] is caches[1] is client._TYPE_ADAPTERS
    payloads = first.to_payloads([ACCOUNT])
    assert first.from_payloads(payloads, [Account]) == [ACCOUNT]
    built = caches[1].cache_info().misses
    assert second.from_payloads(payloads, [Account]) == [ACCOUNT]
    assert caches[1].cache_info().misses == built  # no new adapter for `Account`


def test_the_codec_converter_shares_the_cache_too() -> None:
    plain, coded = data_converter(), data_converter(codec=object())  # type: ignore[arg-type]
    assert coded.payload_converter_class is plain.payload_converter_class
