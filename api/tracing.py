"""A server span per HTTP request, current while the app answers: the Temporal calls it makes
(`temporal.tracing`) and the lines it logs (`config.logs`) belong to its trace.

The span is named `HTTP <METHOD> <route template>` (`HTTP POST /cases/{account_no}/pause`) and
carries `http.method`, `http.route` and `http.status_code`: never the path, which names the
account, nor the query string. A path no route matched is `HTTP <METHOD>`, with no route. An
error is recorded as its status and type, not its message.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security import logged_path


def install(app: FastAPI, provider: trace.TracerProvider | None = None) -> None:
    """Adds the middleware outside every other, so that the access line is in the span; spans
    from `provider`, default the global one (OpenTelemetry's no-op unless `config.tracing`
    set one up)."""
    tracer = (provider or trace.get_tracer_provider()).get_tracer(__name__)
    app.add_middleware(RequestSpans, tracer=tracer)


class RequestSpans:
    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])
        status = 500  # unless an answer starts

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            f"HTTP {method}",
            kind=SpanKind.SERVER,
            attributes={"http.method": method},
            record_exception=False,  # its message may quote the request
            set_status_on_exception=False,
        ) as span:
            try:
                await self.app(scope, receive, noting_status)
            except Exception as error:
                span.set_attribute("error.type", type(error).__qualname__)
                raise
            finally:
                route = route_template(scope)
                if route is not None:
                    span.update_name(f"HTTP {method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def route_template(scope: Scope) -> str | None:
    """The matched route's template, as the access log writes it; None if no route matched."""
    template = getattr(scope.get("route"), "path_format", None)
    if not isinstance(template, str):
        return None
    path = logged_path(scope)  # with the prefixes it was included under
    return path if path.endswith(template) else template
