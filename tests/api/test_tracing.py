# ruff: noqa: F811  (fixtures are imported by name, below)
"""Traces: one trace from an operator's request through the update, the case workflow's task
and the activity it then runs; the log lines of a request carry its trace's id; what the
spans name. Spans go through the production pipeline (`config.tracing`) into memory, from a
provider of the test's own (the global one can be set once per process)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from api.app import create_app
from config.logs import JsonFormatter, TraceContext
from config.settings import Settings, TaskQueues
from config.tracing import tracer_provider
from operations.gateway import Gateway
from operations.roles import Role
from readmodel.engine import Database
from temporal.client import data_converter
from temporal.history_files import write_history
from temporal.tracing import TracingInterceptor, traced
from tests.api.test_cases_api import REASON, started_case
from tests.fakes.twilio_api import FakeTwilio
from tests.people import as_role, people, sqlite_db  # noqa: F401
from tests.workflows.harness import CaseHarness, case_worker, fake_twilio, twilio_sender  # noqa: F401
from workers.replay import replay_histories
from workers.runners import CHECKED
from workflows.acting import ActorInterceptor
from workflows.case import CollectionCaseWorkflow

PAUSE_ROUTE = "/cases/{account_no}/pause"


@dataclass
class Spans:
    provider: TracerProvider
    memory: InMemorySpanExporter

    def finished(self) -> tuple[ReadableSpan, ...]:
        self.provider.force_flush()
        return self.memory.get_finished_spans()

    def named(self, name: str) -> ReadableSpan:
        (span,) = [s for s in self.finished() if s.name == name]
        return span

    async def trace_of(self, span: ReadableSpan, *, until: str) -> list[ReadableSpan]:
        """The spans in the trace of `span`, once one named `until` has ended in it (an
        activity runs after the update has answered)."""
        assert span.context is not None
        for _ in range(200):
            found = [
                s
                for s in self.finished()
                if s.context is not None and s.context.trace_id == span.context.trace_id
            ]
            if any(s.name == until for s in found):
                return found
            await asyncio.sleep(0.025)
        raise AssertionError(f"no {until} in {[s.name for s in found]}")


@pytest.fixture
def spans() -> Iterator[Spans]:
    memory = InMemorySpanExporter()
    provider = tracer_provider(Settings(), memory)
    yield Spans(provider, memory)
    provider.shutdown()


@dataclass
class Traced:
    harness: CaseHarness
    http: httpx.AsyncClient


@pytest.fixture
async def traced_api(
    ts_env: WorkflowEnvironment,
    task_queue: str,
    fake_twilio: FakeTwilio,
    sqlite_db: Database,
    spans: Spans,
) -> AsyncIterator[Traced]:
    """The app and the case worker, both on a client traced by the test's provider."""
    client = traced(ts_env.client, spans.provider)
    settings = Settings(task_queues=TaskQueues(collections=task_queue))
    fake_twilio.reset()
    sender = twilio_sender(fake_twilio)
    app = create_app(
        settings, gateway=Gateway(client), db=sqlite_db, tracer_provider=spans.provider
    )
    async with (
        case_worker(ts_env, task_queue, sqlite_db, sender, client=client),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
    ):
        harness = CaseHarness(env=ts_env, queue=task_queue, fake=fake_twilio, db=sqlite_db)
        yield Traced(harness, http)
    await sender.aclose()


async def test_one_trace_from_the_request_to_the_activity(
    traced_api: Traced, spans: Spans, tmp_path: Path
) -> None:
    # Started as the intake starts cases: with no trace of its own.
    account = await started_case(traced_api.harness)
    paused = await traced_api.http.post(
        f"/cases/{account}/pause", json=REASON, headers=as_role(Role.SUPERVISOR)
    )
    assert paused.status_code == 200, paused.text

    request = spans.named(f"HTTP POST {PAUSE_ROUTE}")
    in_trace = await spans.trace_of(request, until="RunActivity:write_case")
    named = {s.name: s for s in in_trace}
    assert sorted(named) == sorted(
        [
            f"HTTP POST {PAUSE_ROUTE}",
            "StartWorkflowUpdate:pause",
            "ValidateUpdate:pause",
            "HandleUpdate:pause",
            "StartActivity:write_case",
            "RunActivity:write_case",
        ]
    )
    assert len(in_trace) == len(named)
    parents = {
        "StartWorkflowUpdate:pause": f"HTTP POST {PAUSE_ROUTE}",
        "ValidateUpdate:pause": "StartWorkflowUpdate:pause",
        "HandleUpdate:pause": "StartWorkflowUpdate:pause",
        "StartActivity:write_case": "HandleUpdate:pause",
        "RunActivity:write_case": "StartActivity:write_case",
    }
    for child, parent in parents.items():
        up, context = named[child].parent, named[parent].context
        assert up is not None and context is not None and up.span_id == context.span_id, child

    assert request.kind is trace.SpanKind.SERVER
    assert dict(request.attributes or {}) == {
        "http.method": "POST",
        "http.route": PAUSE_ROUTE,
        "http.status_code": 200,
    }
    # The account number is masked wherever the Temporal spans name the workflow, as in logs.
    assert named["StartWorkflowUpdate:pause"].attributes == {
        "temporalWorkflowID": f"case-******{account[-4:]}"
    }
    assert named["RunActivity:write_case"].resource.attributes["service.name"] == "collections"
    for span in spans.finished():
        assert account not in f"{span.name} {span.attributes} {span.events}", span.name

    # The trace travels in headers only: the case replays without tracing, and with it (as
    # on a worker that lost it from its cache) without making spans again.
    history = await traced_api.harness.client.get_workflow_handle(f"case-{account}").fetch_history()
    write_history(history, tmp_path / "case.json")
    [replayed] = await replay_histories([tmp_path / "case.json"])
    assert replayed.ok, replayed.error
    made = len(spans.finished())
    await Replayer(
        workflows=[CollectionCaseWorkflow],
        workflow_runner=CHECKED,
        data_converter=data_converter(),
        interceptors=[TracingInterceptor(spans.provider.get_tracer(__name__)), ActorInterceptor()],
    ).replay_workflow(history)
    assert len(spans.finished()) == made


class Lines(logging.Handler):
    """The JSON lines a logger writes, through the production filter and formatter."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(TraceContext())
        self.setFormatter(JsonFormatter())
        self.out = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.out.write(self.format(record) + "\n")

    def objects(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    logger = logging.getLogger("api.access")
    lines, level = Lines(), logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(level)


def api(db: Database, spans: Spans) -> httpx.AsyncClient:
    app = create_app(Settings(), db=db, tracer_provider=spans.provider)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_a_requests_log_line_carries_its_trace(
    sqlite_db: Database, spans: Spans, access_lines: Lines
) -> None:
    async with api(sqlite_db, spans) as http:
        me = await http.get("/me", headers=as_role(Role.OPERATIONS))
    assert me.status_code == 200, me.text

    (request,) = spans.finished()
    assert request.name == "HTTP GET /me"
    assert request.context is not None
    (line,) = access_lines.objects()
    assert line["path"] == "/me"
    assert line["trace_id"] == trace.format_trace_id(request.context.trace_id)
    assert line["span_id"] == trace.format_span_id(request.context.span_id)


async def test_a_path_no_route_matched_is_not_named(
    sqlite_db: Database, spans: Spans, access_lines: Lines
) -> None:
    async with api(sqlite_db, spans) as http:
        missing = await http.get("/accounts/6222000012345678?mobile=13800138000")
    assert missing.status_code == 404

    (request,) = spans.finished()
    assert request.name == "HTTP GET"
    assert dict(request.attributes or {}) == {"http.method": "GET", "http.status_code": 404}
    # Outside any span, a line carries no trace.
    logging.getLogger("api.access").info("after the request")
    assert "trace_id" not in access_lines.objects()[-1]


def test_an_error_leaves_as_its_type(spans: Spans) -> None:
    """The SDK's interceptor records an activity's error with its message, which may quote
    what it was given (an SQL error its parameters): only the type is exported."""
    tracer = spans.provider.get_tracer(__name__)
    with (
        pytest.raises(ValueError),
        tracer.start_as_current_span("RunActivity:write_case", set_status_on_exception=False) as s,
    ):
        s.set_status(trace.Status(trace.StatusCode.ERROR, "ValueError: 张伟 +8613800138000"))
        raise ValueError("张伟 +8613800138000")

    (span,) = spans.finished()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.status.description is None
    (event,) = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {}) == {
        "exception.type": "ValueError",
        "exception.escaped": "False",
    }
