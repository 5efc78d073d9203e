"""Replaying recorded workflow histories against the current workflow code.

A history file is the JSON that Temporal's UI and CLI export and `WorkflowHistory.to_json`
writes (`{"events": [...]}`), with the workflow id beside the events when this project wrote
it. Payloads stay as they were stored, encrypted when the system encrypts, so the replayer
needs the payload codec that wrote them. Replay runs in the worker's sandbox with the worker's
data converter: a history that replays here replays on a worker.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from google.protobuf.json_format import ParseError
from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadCodec
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from config.settings import Settings
from temporal.client import data_converter
from workers.main import SANDBOX, workflows_for
from workflows.acting import ActorInterceptor

_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
WORKFLOW_ID_KEY = "workflowId"  # ignored by `WorkflowHistory.from_json`, so others still read it


class ReplayOutcome(StrEnum):
    OK = "ok"
    NONDETERMINISTIC = "non-deterministic"
    FAILED = "failed"  # replay broke for another reason: an unknown type, an undecodable payload
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ReplayReport:
    path: Path
    outcome: ReplayOutcome
    workflow_id: str = ""
    run_id: str = ""
    workflow_type: str = ""
    events: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is ReplayOutcome.OK


class HistoryFileError(Exception):
    """A history file that cannot be read; the message says why."""


def history_document(history: WorkflowHistory) -> dict[str, Any]:
    """The file form of `history`: Temporal's JSON, led by the workflow id."""
    return {WORKFLOW_ID_KEY: history.workflow_id, **history.to_json_dict()}


def write_history(history: WorkflowHistory, path: Path) -> None:
    text = json.dumps(history_document(history), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def read_history(path: Path) -> WorkflowHistory:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HistoryFileError(exc.strerror or type(exc).__name__) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HistoryFileError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise HistoryFileError("not a history: the JSON is not an object")
    try:
        history = WorkflowHistory.from_json(_workflow_id(document, path), document)
        history.run_id  # noqa: B018 - checks that the first event starts a workflow
    except (ValueError, ParseError, RuntimeError, AttributeError, TypeError) as exc:
        raise HistoryFileError(f"not a workflow history: {exc}") from None
    return history


def _workflow_id(document: dict[str, Any], path: Path) -> str:
    """As written beside the events, else as the server recorded it, else the file's name."""
    events = document.get("events")
    first = events[0] if isinstance(events, list) and events else None
    started = (
        first.get("workflowExecutionStartedEventAttributes") if isinstance(first, dict) else None
    )
    recorded = started.get("workflowId") if isinstance(started, dict) else None
    return str(document.get(WORKFLOW_ID_KEY) or recorded or path.name.split(".")[0])


def registered_workflows(settings: Settings) -> list[type]:
    """Every workflow type a worker hosts, over all the task queues."""
    found: list[type] = []
    for queue in settings.task_queues.all():
        found += [w for w in workflows_for(settings, queue) if w not in found]
    return found


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


async def replay_histories(
    paths: Iterable[Path],
    *,
    workflows: Sequence[type] | None = None,
    codec: PayloadCodec | None = None,
    settings: Settings | None = None,
) -> list[ReplayReport]:
    """Replays each file against `workflows` (default: every registered workflow type), in
    order; a file that cannot be read is reported, not raised."""
    reports: dict[int, ReplayReport] = {}
    readable: list[tuple[int, Path, WorkflowHistory]] = []
    for index, path in enumerate(paths):
        try:
            readable.append((index, path, read_history(path)))
        except HistoryFileError as exc:
            reports[index] = ReplayReport(path, ReplayOutcome.UNREADABLE, error=str(exc))
    if readable:
        replayer = Replayer(
            workflows=list(workflows or registered_workflows(settings or Settings())),
            workflow_runner=SANDBOX,
            data_converter=data_converter(codec),
            interceptors=[ActorInterceptor()],
        )

        async def histories() -> AsyncIterator[WorkflowHistory]:
            for _, _, history in readable:
                yield history

        async with replayer.workflow_replay_iterator(histories()) as results:
            done = 0
            async for result in results:
                index, path, history = readable[done]
                reports[index] = _report(path, history, result.replay_failure)
                done += 1
    return [reports[i] for i in sorted(reports)]


def _core_message(text: str) -> str:
    """The message inside the SDK core's debug dump of a failed activation, when there is one."""
    found = _CORE_MESSAGE.search(text)
    return found.group(1).replace('\\"', '"') if found else text


def _report(path: Path, history: WorkflowHistory, failure: Exception | None) -> ReplayReport:
    if failure is None:
        outcome, error = ReplayOutcome.OK, ""
    elif isinstance(failure, NondeterminismError):
        outcome, error = ReplayOutcome.NONDETERMINISTIC, _core_message(str(failure))
    else:
        outcome, error = ReplayOutcome.FAILED, f"{type(failure).__name__}: {failure}"
    return ReplayReport(
        path,
        outcome,
        workflow_id=history.workflow_id,
        run_id=history.run_id,
        workflow_type=workflow_type(history),
        events=len(history.events),
        error=error,
    )
