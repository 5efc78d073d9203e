"""The one way this project connects to Temporal, so every client shares one data converter."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)
from temporalio.service import TLSConfig

from config.settings import Settings

# One cache of pydantic type adapters for the whole process. The workflow sandbox builds a new
# payload converter for every workflow it runs, and the SDK's pydantic converter keeps its
# cache on the instance: every case built the schemas of its input and of each activity result
# again (about a quarter of the worker's CPU on the way to a first reminder, by py-spy).
_TYPE_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=1024)(
    TypeAdapter
)


class _SharedAdaptersJSON(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _TYPE_ADAPTERS


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
    """Pydantic (for dates, timedeltas and dataclasses), with the payload codec when given."""
    if codec is None:
        return _DATA_CONVERTER
    return dataclasses.replace(_DATA_CONVERTER, payload_codec=codec)


def _tls(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect(settings: Settings, codec: PayloadCodec | None = None) -> Client:
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(codec),
        tls=_tls(settings),
        api_key=api_key,
    )
