"""Starting the cases of a checked intake file: what the CLI's `intake` and `case start` and
the API's `POST /cases` share.

One workflow per account, id `case-<account_no>`. A case that is already running is never
started twice (the id conflicts); it gets the file's fresh balances instead, through its
`refresh_account` update. A closed case may start again: a new overdue spell is a new case.
Notes name no customer data: they come from Temporal or from the case's own checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from models.contracts import CaseInput, case_id
from operations import metrics
from operations.answers import Outcome as Answered
from operations.gateway import Gateway
from workflows.case import CollectionCaseWorkflow as Case

DEFAULT_CONCURRENCY = 50


class Outcome(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already_running"
    FAILED = "failed"  # Temporal refused or could not be reached; the row may be retried


@dataclass(frozen=True)
class RowOutcome:
    row: int
    account_no: str
    workflow_id: str
    outcome: Outcome
    refreshed: bool = False  # already running, and the file's balances reached the case
    note: str = ""  # why a running case was not refreshed, or why a start failed


@dataclass(frozen=True)
class IntakeSummary:
    outcomes: tuple[RowOutcome, ...]  # in row order

    def _with(self, outcome: Outcome) -> tuple[RowOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is outcome)

    @property
    def started(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.STARTED)

    @property
    def already_running(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.ALREADY_RUNNING)

    @property
    def failed(self) -> tuple[RowOutcome, ...]:
        return self._with(Outcome.FAILED)

    @property
    def warnings(self) -> tuple[RowOutcome, ...]:
        """Running cases whose balances could not be refreshed."""
        return tuple(o for o in self.already_running if o.note)


async def run_intake(
    gateway: Gateway,
    rows: Iterable[tuple[int, CaseInput]],
    *,
    task_queue: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[RowOutcome], None] | None = None,
    refresh: bool = True,
) -> IntakeSummary:
    """Starts a case per row, at most `concurrency` calls in flight; `rows` is read lazily.

    `on_progress` hears each row's outcome as it is known. With `refresh`, a case that is
    already running receives the row's `Account` through its `refresh_account` update.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    starter = _Starter(gateway, task_queue, refresh)
    pending = iter(rows)
    outcomes: list[RowOutcome] = []

    async def work() -> None:
        # The iterator is shared: the loop is single-threaded, so each row goes to one worker.
        for row, case in pending:
            outcome = await starter.start(row, case)
            metrics.intake_row(outcome.outcome.value)
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(work())
    return IntakeSummary(tuple(sorted(outcomes, key=lambda o: o.row)))


class _Starter:
    def __init__(self, gateway: Gateway, task_queue: str, refresh: bool) -> None:
        self._gateway = gateway
        self._task_queue = task_queue
        self._refresh = refresh
        # Set when a refresh got no answer: no worker is serving the cases, so the next
        # thousand would each wait as long. Their starts still go ahead.
        self._unanswered = False

    async def start(self, row: int, case: CaseInput) -> RowOutcome:
        account_no = case.account.account_no
        workflow_id = case_id(account_no)

        def outcome(kind: Outcome, *, refreshed: bool = False, note: str = "") -> RowOutcome:
            return RowOutcome(row, account_no, workflow_id, kind, refreshed, note)

        try:
            started = await self._gateway.start(
                Case.run, case, id=workflow_id, task_queue=self._task_queue
            )
        except Exception as exc:  # one odd row must not sink the others; the type says what broke
            return outcome(Outcome.FAILED, note=f"could not start ({type(exc).__name__})")
        if started.outcome is Answered.ACCEPTED:
            return outcome(Outcome.STARTED)
        if started.outcome is not Answered.ALREADY_RUNNING:
            return outcome(Outcome.FAILED, note=_start_failure(started.outcome, started.message))
        if not self._refresh:
            return outcome(Outcome.ALREADY_RUNNING)
        note = await self._refresh_balances(workflow_id, case)
        return outcome(Outcome.ALREADY_RUNNING, refreshed=not note, note=note)

    async def _refresh_balances(self, workflow_id: str, case: CaseInput) -> str:
        """Sends the row's balances to the running case; answers "" or why that did not work."""
        if self._unanswered:
            return "balances not refreshed: skipped, an earlier refresh got no answer"
        try:
            answer = await self._gateway.update(workflow_id, Case.refresh_account, case.account)
        except Exception as exc:
            return f"balances not refreshed ({type(exc).__name__})"
        match answer.outcome:
            case Answered.ACCEPTED:
                result = answer.unwrap()
                return "" if result.accepted else f"balances not refreshed: {result.message}"
            case Answered.NO_ANSWER:
                self._unanswered = True
                seconds = self._gateway.answer_within
                return (
                    f"balances not refreshed: no answer within {seconds:g}s (is a worker running?)"
                )
            case Answered.REFUSED:
                return f"balances not refreshed: {answer.message}"
            case Answered.CLOSED:
                return "balances not refreshed: the case has finished"
            case _:
                # Without the workflow's id, so that a file's many rows share one note.
                return f"balances not refreshed: {answer.message.removeprefix(workflow_id + ' ')}"


def _start_failure(outcome: Answered, message: str) -> str:
    if outcome is Answered.FAILED:
        return message.replace("Temporal refused the call", "Temporal refused the start")
    return f"could not start: {message}"
