"""The data converter: one process-wide cache of pydantic type adapters, shared by the payload
converter the workflow sandbox builds for every workflow it runs."""

from __future__ import annotations

from datetime import date

import pytest

from models.contracts import Account, ReasonInput
from operations.gateway import MAX_INPUT_BYTES
from temporal import client
from temporal.client import MAX_DECODED_BYTES, PayloadTooLarge, data_converter

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


def test_a_payload_larger_than_any_the_application_writes_is_refused_by_its_size() -> None:
    converter = data_converter().payload_converter
    [payload] = converter.to_payloads([ReasonInput(reason="x" * 100)])
    padding = MAX_DECODED_BYTES - len(payload.data)
    at_limit = converter.to_payloads([ReasonInput(reason="x" * (100 + padding))])
    past_limit = converter.to_payloads([ReasonInput(reason="x" * (101 + padding))])

    assert len(at_limit[0].data) == MAX_DECODED_BYTES
    assert converter.from_payloads(at_limit, [ReasonInput])[0].reason == "x" * (100 + padding)
    with pytest.raises(PayloadTooLarge) as refused:
        converter.from_payloads(past_limit, [ReasonInput])
    assert "xxx" not in str(refused.value)  # its size, never its content
    # What the application layer sends always decodes.
    assert MAX_INPUT_BYTES < MAX_DECODED_BYTES
