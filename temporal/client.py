"""The one way this project connects to Temporal, so every client shares one data converter."""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config.settings import Settings

log = logging.getLogger(__name__)

# One cache of pydantic type adapters for the whole process. The workflow sandbox builds a new
# payload converter for every workflow it runs, and the SDK's pydantic converter keeps its
# cache on the instance: every case built the schemas of its input and of each activity result
# again (about a quarter of the worker's CPU on the way to a first reminder, by py-spy).
_TYPE_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=1024)(
    TypeAdapter
)


# The Temporal server's default blob size limit: no payload past it can be recorded in a real
# server's history, so refusing one when decoding refuses nothing a case could hold. The
# application layer sends at most 512 KiB (`operations.gateway.MAX_INPUT_BYTES`); what a case
# carries (a timeline of 200 entries with long notes) stays under this. A larger payload comes
# only from a client that goes around the application, in keys the input type does not have:
# decoding drops those, so no validator sees the text, yet the update's accepted event would
# hold it whole, and the server then fails the case's every workflow task. Refused when decoded,
# such an update is rejected and never recorded.
MAX_DECODED_BYTES = 2 * 1024 * 1024


class PayloadTooLarge(ValueError):
    """A payload past `MAX_DECODED_BYTES`; the message gives its size, never its content."""


class _SharedAdaptersJSON(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _TYPE_ADAPTERS

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if len(payload.data) > MAX_DECODED_BYTES:
            raise PayloadTooLarge(
                f"a payload of {len(payload.data):,} bytes: more than any this application "
                f"writes ({MAX_DECODED_BYTES:,})"
            )
        return super().from_payload(payload, type_hint)


class PayloadConverter(CompositePayloadConverter):
    """The SDK's `PydanticPayloadConverter` (dates, timedeltas and dataclasses as JSON), with
    the process-wide cache of type adapters above."""

    def __init__(self) -> None:
        shared = _SharedAdaptersJSON()
        super().__init__(
            *(
                shared if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


_DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """Pydantic (for dates, timedeltas and dataclasses), with the payload codec when given;
    then failures' messages and stack traces travel encoded too (a refusal can quote what an
    operator typed), readable through the codec like any payload."""
    if codec is None:
        return _DATA_CONVERTER
    return dataclasses.replace(
        _DATA_CONVERTER,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


class MissingPayloadKeys(ValueError):
    """No payload keys: case payloads would reach Temporal with customers' data in clear."""


def require_codec(settings: Settings, codec: PayloadCodec | None) -> None:
    """Fails closed: without a codec, nothing connects, unless a test says so out loud."""
    if codec is not None:
        return
    if settings.plaintext_payloads:
        log.warning(
            "COLLECTIONS_PLAINTEXT_PAYLOADS is set: customers' names and phone numbers go to "
            "Temporal UNENCRYPTED. For tests only."
        )
        return
    raise MissingPayloadKeys(
        "no payload keys: set PAYLOAD_KEYS=<id>:<base64 AES-256 key> (make one with "
        "`collections keys new`), or run `collections up`, which makes one under var/"
    )


def _tls(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect(
    settings: Settings,
    codec: PayloadCodec | None,
    *,
    sends_payloads: bool = True,
    runtime: Runtime | None = None,
) -> Client:
    """A client for this deployment; one that sends payloads (starts, updates, signals)
    refuses to connect without a payload codec (see `require_codec`). `runtime`: the SDK's
    (its metrics exporter: `workers.metrics`), else the default. With tracing on, its calls,
    and the workers built on it, are traced (`temporal.tracing`)."""
    if sends_payloads:
        require_codec(settings, codec)
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    interceptors: list[Interceptor] = []
    if settings.tracing:
        from temporal.tracing import TracingInterceptor

        interceptors.append(TracingInterceptor())
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(codec),
        tls=_tls(settings),
        api_key=api_key,
        runtime=runtime,
        interceptors=interceptors,
    )
