"""Traces by OpenTelemetry, exported by OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

Off (no endpoint), nothing is set up: the API's request spans are OpenTelemetry's no-ops and
the Temporal clients carry no tracing interceptor (`temporal.client.connect`).

What leaves the process is what the logs may hold (`config.logs`): digit runs in span names
and attribute values are masked (the `case-<account_no>` workflow ids the Temporal spans
carry become `case-******5678`; their run ids stay, to find the workflow), and an error is
exported as its type, never its message or stack (an activity's SQL error can quote
parameters, a refusal what an operator typed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes

from config.logs import mask_digits
from config.settings import Settings

T = TypeVar("T")
# How long one export may take, retries included; the last one holds up a stopping process.
EXPORT_TIMEOUT_SECONDS = 5.0

# What an exception event may keep: its type, never the message or the stack, which quote it.
_EXCEPTION_KEPT = ("exception.type", "exception.escaped")


class PrivateSpans(SpanExporter):
    """Passes spans on to `exporter` without what may name a customer (see the module)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([private(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def private(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=mask_digits(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_masked(span.attributes),
        events=[_event(event) for event in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _masked(attributes: Attributes) -> Attributes:
    if not attributes:
        return attributes
    return {k: mask_digits(v) if isinstance(v, str) else v for k, v in attributes.items()}


def _event(event: Event) -> Event:
    attributes = event.attributes or {}
    if event.name == "exception":
        attributes = {k: v for k, v in attributes.items() if k in _EXCEPTION_KEPT}
    return Event(event.name, _masked(attributes), event.timestamp)


def tracer_provider(settings: Settings, exporter: SpanExporter) -> TracerProvider:
    """A provider naming this service, sending its spans to `exporter` in batches, privately."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.otel_service_name}))
    provider.add_span_processor(BatchSpanProcessor(PrivateSpans(exporter)))
    return provider


def start_tracing(settings: Settings) -> TracerProvider | None:
    """At a process's start: the global provider exporting by OTLP over HTTP to the configured
    collector; None, and nothing set up, when tracing is off. The provider flushes at exit."""
    if not settings.tracing:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The variable names the collector's base URL (as OpenTelemetry's own variables do); an
    # endpoint given to the exporter is used as it stands.
    endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    exporter = OTLPSpanExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT_SECONDS)
    provider = tracer_provider(settings, exporter)
    trace.set_tracer_provider(provider)
    return provider


async def flush() -> None:
    """Sends the spans still queued, if tracing is on: the processes leave without the
    interpreter's exit hooks (`cli.runtime.leave`, uvicorn raising SIGTERM again)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        await asyncio.to_thread(provider.force_flush)


async def flushed(main: Awaitable[T]) -> T:
    """`main`, then `flush`."""
    try:
        return await main
    finally:
        await flush()
