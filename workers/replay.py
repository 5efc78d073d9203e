"""Replaying recorded workflow histories against the current workflow code.

A history file (`temporal.history_files`) holds payloads as they were stored, encrypted when
the system encrypts, so the replayer needs the payload codec that wrote them. Replay runs in
the worker's sandbox with the worker's data converter and the workflows a worker hosts: a
history that replays here replays on a worker.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import PayloadCodec
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from config.settings import Settings
from temporal.client import data_converter
from temporal.history_files import HistoryFileError, read_history
from workers.main import workflows_for
from workers.runners import CHECKED
from workflows.acting import ActorInterceptor

_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


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
            workflow_runner=CHECKED,
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
