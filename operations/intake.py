"""Starting the cases of a checked intake file: what the CLI's `intake` and `case start` and
the API's `POST /cases` share.

One workflow per account, id `case-<account_no>`. A case that is already running is never
started twice (the id conflicts); it gets the file's fresh balances instead, through its
`refresh_account` update: one update-with-start call where the read model holds the case
open (docs/decisions/0008), a start and then the update where it does not know it. A new
case's row is a plain start, which needs no worker to be running. A closed case may start
again: a new overdue spell is a new case.
Notes name no customer data: they come from Temporal or from the case's own checks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from config.strategy import Assessor, PolicyError
from models.contracts import ActionResult, CaseInput, case_id
from operations import metrics
from operations.answers import Answer
from operations.answers import Outcome as Answered
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.queries import open_case_ids
from workflows.case import CollectionCaseWorkflow as Case
from workflows.changes import NEWEST_RELEASE

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 50
LOOKUP_CHUNK = 500  # rows whose cases the read model is asked about at once


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
    db: Database | None = None,
    assessor: Assessor | None = None,
) -> IntakeSummary:
    """Starts a case per row, at most `concurrency` calls in flight; `rows` is read lazily.

    `assessor` scores each row's account under the policy it names, and the case starts with
    that assessment (one local activity and its history event fewer than a case that assesses
    itself, which it does without one); a row whose policy cannot be used fails, saying why.

    `on_progress` hears each row's outcome as it is known. With `refresh`, a case that is
    already running receives the row's `Account` through its `refresh_account` update: in one
    call (update-with-start) where the read model `db` holds the case open, else after its
    start is refused.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    starter = _Starter(gateway, task_queue, refresh, assessor)
    pending = _Rows(rows, db if refresh else None)
    outcomes: list[RowOutcome] = []

    async def work() -> None:
        while (next_row := await pending.next()) is not None:
            outcome = await starter.start(*next_row)
            metrics.intake_row(outcome.outcome.value)
            outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(work())
    return IntakeSummary(tuple(sorted(outcomes, key=lambda o: o.row)))


class _Rows:
    """The rows, lazily, each with whether the read model holds its case open; looked up a
    chunk at a time for the concurrent starters (one lookup at a time, under a lock)."""

    def __init__(self, rows: Iterable[tuple[int, CaseInput]], db: Database | None) -> None:
        self._rows = iter(rows)
        self._db = db
        self._ready: deque[tuple[int, CaseInput, bool]] = deque()
        self._lock = asyncio.Lock()

    async def next(self) -> tuple[int, CaseInput, bool] | None:
        async with self._lock:
            if not self._ready:
                chunk = list(itertools.islice(self._rows, LOOKUP_CHUNK))
                if not chunk:
                    return None
                running = await self._running(chunk)
                self._ready.extend((row, case, _id(case) in running) for row, case in chunk)
            return self._ready.popleft()

    async def _running(self, chunk: list[tuple[int, CaseInput]]) -> set[str]:
        if self._db is None:
            return set()
        try:
            return await open_case_ids(self._db, case_ids=[_id(case) for _, case in chunk])
        except Exception as exc:  # the starts still go, as two calls for a running case
            log.warning(
                "intake: the read model could not say which cases run (%s)", type(exc).__name__
            )
            self._db = None
            return set()


def _id(case: CaseInput) -> str:
    return case_id(case.account.account_no)


class _Starter:
    def __init__(
        self, gateway: Gateway, task_queue: str, refresh: bool, assessor: Assessor | None
    ) -> None:
        self._gateway = gateway
        self._assessor = assessor
        self._task_queue = task_queue
        self._refresh = refresh
        # Set when a refresh got no answer: no worker is serving the cases, so the next
        # thousand would each wait as long. Their starts still go ahead.
        self._unanswered = False

    async def start(self, row: int, case: CaseInput, running: bool) -> RowOutcome:
        """`running`: the read model holds the case open, so one update-with-start refreshes it
        (and starts it again if it has in fact finished); otherwise a start, and the refresh
        only if Temporal says it runs."""
        account_no = case.account.account_no
        workflow_id = case_id(account_no)

        def outcome(kind: Outcome, *, refreshed: bool = False, note: str = "") -> RowOutcome:
            return RowOutcome(row, account_no, workflow_id, kind, refreshed, note)

        refreshing = running and self._refresh and not self._unanswered
        assessment = None
        # A case the read model holds open takes the row's balances, not a start: no
        # assessment for it (one that had in fact finished starts again and assesses itself).
        if self._assessor is not None and not refreshing:
            today = datetime.now(UTC).date()
            try:
                assessment = await self._assessor.assess(case.account, case.strategy_version, today)
            except PolicyError as exc:  # the file and what is wrong with it; no customer data
                return outcome(Outcome.FAILED, note=f"not assessed: {exc}")
        # Named, the release needs no marker; the assessment, no activity.
        case = dataclasses.replace(case, release=NEWEST_RELEASE, assessment=assessment)
        if refreshing:
            try:
                answer = await self._gateway.update_with_start(
                    Case.refresh_account,
                    case.account,
                    start=Case.run,
                    start_arg=case,
                    id=workflow_id,
                    task_queue=self._task_queue,
                )
            except Exception as exc:  # one odd row must not sink the others
                return outcome(Outcome.FAILED, note=f"could not start ({type(exc).__name__})")
            if answer.started:  # it had finished: a new spell, with the row's balances
                return outcome(Outcome.STARTED)
            if answer.started is None and answer.outcome in (Answered.UNREACHABLE, Answered.FAILED):
                return outcome(Outcome.FAILED, note=_start_failure(answer.outcome, answer.message))
            note = self._refresh_note(workflow_id, answer)
            return outcome(Outcome.ALREADY_RUNNING, refreshed=not note, note=note)
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
        return self._refresh_note(workflow_id, answer)

    def _refresh_note(self, workflow_id: str, answer: Answer[ActionResult]) -> str:
        """ "" for balances that reached the case, or why they did not."""
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
