"""The Temporal SDK's OpenTelemetry interceptor, with one change: an update is traced as part
of the request that sent it.

The SDK's interceptor puts every span of a workflow in the trace of the call that started it,
and only links an update's spans to the caller's. A case is started by the intake, though,
and lives for months: an operator's action would be a link to follow into a trace with no
root, if the case had one at all. Here an update's validator and handler spans are children of
the caller's span (`StartWorkflowUpdate:<name>`), and what the workflow task that ran the
handler then starts is their child too: the case's write of the read model after an action
(`StartActivity:write_case`, then the worker's `RunActivity:write_case`). So one trace goes
from the API request through the update and the workflow to its activities.

Workflow spans are made only outside replay. No span carries a payload: names, a workflow id
(which the exporter masks, `config.tracing`), a run id, an activity id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import opentelemetry.trace
from opentelemetry.context import Context, create_key, get_value, set_value
from opentelemetry.trace import SpanKind
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.opentelemetry import (
    TracingInterceptor as SdkTracingInterceptor,
)
from temporalio.contrib.opentelemetry import (
    TracingWorkflowInboundInterceptor,
)
from temporalio.contrib.opentelemetry._context import attached_context

# The SDK's workflow outbound interceptor, which this one wraps: its constructor is not public.
from temporalio.contrib.opentelemetry._interceptor import _TracingWorkflowOutboundInterceptor
from temporalio.worker import (
    HandleUpdateInput,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

# Marks an update handler's own context: what it starts is under its span already.
_IN_UPDATE = create_key("collections-in-update")


class TracingInterceptor(SdkTracingInterceptor):
    """For clients (their calls carry the current span) and workers (spans for the workflows'
    tasks and the activities); a worker takes its client's. `tracer`: default, the global
    provider's."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)
        return _WorkflowInbound


def traced(client: Client, provider: opentelemetry.trace.TracerProvider | None = None) -> Client:
    """`client` with the tracing interceptor, spans made by `provider` (default: the global
    one); `client` itself when it has one."""
    config = client.config()
    if any(isinstance(i, SdkTracingInterceptor) for i in config["interceptors"]):
        return client
    tracer = provider.get_tracer(__name__) if provider is not None else None
    config["interceptors"] = [*config["interceptors"], TracingInterceptor(tracer)]
    return Client(**config)


@dataclass
class _Carried:
    """Takes the header the SDK would add to an outbound call: the context under a span."""

    headers: Mapping[str, Payload] = field(default_factory=dict)


class _WorkflowInbound(TracingWorkflowInboundInterceptor):
    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        # The last handled update's span, with the history length of the task that ran it.
        self._caused: tuple[int, Context] | None = None

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        WorkflowInboundInterceptor.init(self, _WorkflowOutbound(outbound, self))

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        asked = self._caller(input.headers)
        if asked is None:
            super().handle_update_validator(input)
            return
        with attached_context(asked):
            self._span(f"ValidateUpdate:{input.update}")
        WorkflowInboundInterceptor.handle_update_validator(self, input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        asked = self._caller(input.headers)
        if asked is None:
            return await super().handle_update_handler(input)
        with attached_context(asked):
            handled = self._span(f"HandleUpdate:{input.update}")
        with attached_context(set_value(_IN_UPDATE, True, handled or asked)):
            result = await WorkflowInboundInterceptor.handle_update_handler(self, input)
        if handled is not None:
            self._caused = (workflow.info().get_current_history_length(), handled)
        return result

    def caused(self) -> Context | None:
        """The span of the update handled in this workflow task, if one was, for what the run
        loop starts after it."""
        if self._caused is None or get_value(_IN_UPDATE):
            return None
        length, context = self._caused
        return context if length == workflow.info().get_current_history_length() else None

    def _caller(self, headers: Mapping[str, Payload]) -> Context | None:
        header = headers.get(self.header_key)
        if not header:
            return None
        carrier = self.payload_converter.from_payloads([header])[0]
        if not carrier:
            return None
        return self._set_on_context(self.text_map_propagator.extract(carrier))

    def _span(self, name: str) -> Context | None:
        """A span `name` under the current one, ended at once as the SDK's workflow spans are;
        the context under it, None on replay (no span)."""
        carried = _Carried()
        self._completed_span(name, add_to_outbound=carried, kind=SpanKind.SERVER)
        header = carried.headers.get(self.header_key)
        return self._caller({self.header_key: header}) if header else None


class _WorkflowOutbound(_TracingWorkflowOutboundInterceptor):
    """Starts an activity under the span of the update its workflow task handled."""

    def __init__(self, next: WorkflowOutboundInterceptor, root: _WorkflowInbound) -> None:
        super().__init__(next, root)
        self._inbound = root

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        with attached_context(self._inbound.caused()):
            return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle[Any]:
        with attached_context(self._inbound.caused()):
            return super().start_local_activity(input)
