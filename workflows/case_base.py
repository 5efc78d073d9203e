"""What every part of the case workflow shares: its state, its records, its keys.

The case workflow is split by concern (`case_actions`: operator updates; `case_contact`:
reminders through the contact policy; `case`: the run loop and queries); all of them work on
the state held here. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.case_events import (
        CaseEvent,
        PromiseBroken,
        PromiseKept,
        PromiseMade,
        fields_of,
    )
    from models.case_writes import (
        AuditEntry,
        PaymentRow,
        PromiseRow,
    )
    from models.complaints import ComplaintRow
    from models.contact_details import ContactChange
    from models.contracts import (
        NOT_READY_MESSAGE,
        ActionResult,
        CaseInput,
        CaseState,
        ClosureReason,
        Promise,
        PromiseToPayInput,
        Refusal,
        Stage,
        TimelineEvent,
        case_id,
        text_problem,
    )
    from models.department_events import TaskOpened
    from models.departments import DepartmentState, Evidence
    from models.tasks import TaskKind, TaskRecord, TaskStatus
    from workflows import case_rules as rules
    from workflows import steering_rules as steering
    from workflows import task_rules
    from workflows.acting import current_actor, current_actor_id
    from workflows.changes import ACT_FIRST, PROMISE_DAY_END, Changes

# Store writes are local and quick; they retry until the database is back.
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


async def store(
    activity: str, arg: object, *, local: bool = False, result_type: type | None = None
) -> Any:
    """A read-model activity, retried until the database answers. `local` runs it in the
    workflow task that asked for it: no server dispatch, no second workflow task."""
    run = workflow.execute_local_activity if local else workflow.execute_activity
    return await run(
        activity,
        arg,
        result_type=result_type,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )


MAX_TEXT = 2_000  # characters in any one text an operator sends; payloads must stay small


def bounded(req: object) -> None:
    """Refuses an operator's input with a text too long to carry through history (a huge reason
    would fail the workflow task on every retry) or one no database takes (a NUL, a lone
    surrogate: the case's writes would fail on every retry). Either way, a poisoned case."""
    if not dataclasses.is_dataclass(req) or isinstance(req, type):
        return
    for f in dataclasses.fields(req):
        value = getattr(req, f.name)
        for text in value if isinstance(value, (tuple, list)) else (value,):
            if not isinstance(text, str):
                bounded(text)
            elif len(text) > MAX_TEXT:
                raise invalid(f"{f.name} is longer than {MAX_TEXT} characters")
            elif problem := text_problem(text):
                raise invalid(f"{f.name} {problem}")


def invalid(message: str) -> ApplicationError:
    """An operator's request that cannot be taken; the message says why."""
    return ApplicationError(message, type=Refusal.INVALID_ACTION, non_retryable=True)


class CaseBase:
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._id = case_id(input.account.account_no)
        self._changes = Changes()  # which of the workflow's changes this run takes
        self._state: CaseState | None = input.carried
        self._changed = True  # wakes the run loop
        # An update's answer leaves with the workflow task its handler ran in; a local activity
        # in that task would hold the answer back until the database had answered too.
        self._answering = False
        # What the next flush writes to the read model.
        self._audit: list[AuditEntry] = []
        self._payments: list[PaymentRow] = []
        self._promises: list[PromiseRow] = []
        self._tasks_out: list[TaskRecord] = []
        self._complaints_out: list[ComplaintRow] = []
        self._contact_change: ContactChange | None = None  # the customer row's, at the next flush
        self._opened = input.carried is None
        # The search attributes the last flush wrote: (stage, days past due, segment, band).
        self._upserted: tuple[str, int, str, str] | None = None
        # Department workflows to start from the run loop: (type, input, id, task queue).
        self._pending_children: list[tuple[str, object, str, str]] = []

    def _customer_today(self) -> date:
        return rules.local_date(workflow.now(), self._input.contact.time_zone)

    def _make_promise(self, req: PromiseToPayInput, by: str = "") -> None:
        """A promise to pay, taken (its refusals are the validators'), with its key and row;
        obtained `by` a collector (a task's), else by whoever is acting."""
        decided = rules.make_promise(
            self._live(),
            req,
            workflow.now(),
            self._customer_today(),
            time_zone=self._input.contact.time_zone,
            at_day_end=self._changes.taken(PROMISE_DAY_END),
            by=by or current_actor_id(),
        )
        self._decided(decided)

    def _live(self) -> CaseState:
        if self._state is None:
            raise ApplicationError(NOT_READY_MESSAGE, type=Refusal.NOT_READY)
        return self._state

    async def _ready(self) -> CaseState:
        """Updates that arrive while the case is being assessed wait for it. Once it is
        assessed, an update acts before the run loop in the same workflow task: waiting on a
        condition already true would let a reminder due in that task be decided first, and go
        out after the promise, the pause or the opt-out that arrived with it."""
        if self._state is None or not self._changes.taken(ACT_FIRST):
            await workflow.wait_condition(lambda: self._state is not None)
        self._answering = True
        return self._live()

    def _open_state(self) -> CaseState | None:
        """For validators: the state when assessed (None before), refusing a closed case."""
        state = self._state
        if state is not None and state.stage is Stage.CLOSED:
            raise ApplicationError(
                f"case is closed ({state.closed_reason})",
                type=Refusal.CASE_CLOSED,
                non_retryable=True,
            )
        return state

    def _result(self, message: str, accepted: bool = True) -> ActionResult:
        self._changed = True
        return ActionResult(accepted=accepted, message=message, stage=self._live().stage)

    def _decided(self, decided: rules.Decided) -> None:
        """Adopts what a rule decided: the live state takes the new state's values (the
        handlers and the run loop hold the live state itself, never a copy), and each event is
        recorded, with the promise rows the read model keeps."""
        state = self._live()
        changed, events = decided
        if changed is not state:
            vars(state).update(vars(changed))
        for event in events:
            if isinstance(event, PromiseMade) and state.promise is not None:
                state.promise.key = self._next_key("p")
            self._emit(event)
            if isinstance(event, PromiseMade | PromiseKept | PromiseBroken) and state.promise:
                self._promise_row(state.promise)

    def _close(self, reason: ClosureReason, why: str) -> None:
        self._decided(rules.close(self._live(), reason, why))

    def _set_stage(self, stage: Stage, why: str) -> None:
        self._decided(steering.set_stage(self._live(), stage, why))

    def _next_key(self, kind: str) -> str:
        state = self._live()
        state.attempt_seq += 1
        # The opening time keeps keys unique when a closed account's case is opened again.
        return f"{self._id}/{state.started_at:%Y%m%d%H%M%S}/{kind}{state.attempt_seq}"

    def _strategy_label(self) -> str:
        strategy = self._live().assessment.strategy
        return f"{strategy.name}@{strategy.version}"

    def _emit(self, event: CaseEvent) -> None:
        """Records what happened: on the timeline, and in the audit log at the next flush,
        with the event's text and its fields."""
        state = self._live()
        now = workflow.now()
        actor = current_actor()
        kind, detail, data = event.KIND, event.detail(), fields_of(event)
        state.timeline.append(
            TimelineEvent(at=now, kind=kind, detail=detail, actor=actor, data=data)
        )
        if len(state.timeline) > 2 * rules.TIMELINE_KEPT:
            del state.timeline[: -rules.TIMELINE_KEPT]
        state.audit_seq += 1
        self._audit.append(
            AuditEntry(
                case_id=self._id,
                seq=state.audit_seq,
                at=now,
                kind=kind,
                detail=detail,
                actor=actor,
                data=data,
            )
        )
        self._changed = True

    def _promise_row(self, promise: Promise) -> None:
        self._promises.append(
            PromiseRow(
                key=promise.key,
                amount_minor=promise.amount_minor,
                currency=self._input.account.currency,
                promised_date=promise.promised_date,
                made_at=promise.made_at,
                status=promise.status,
                resolved_at=None if promise.status == "open" else workflow.now(),
                made_by=promise.made_by if promise.status == "open" else "",
            )
        )

    @staticmethod
    def _need_reason(text: str) -> None:
        if not text.strip():
            raise invalid("a reason is required")

    # --- task bookkeeping, shared by tasks and handoffs ---------------------------------

    def _dept(self) -> DepartmentState:
        return self._live().departments

    def _open_task(
        self,
        kind: TaskKind,
        queue: str,
        note: str,
        *,
        escalates: TaskRecord | None = None,
        key: str = "",
        deadline: datetime | None = None,
    ) -> TaskRecord:
        """A task for `queue`, due after the strategy's task deadline unless `deadline` says
        otherwise; `key` when the caller took it beforehand (`_next_key("t")`)."""
        state = self._live()
        now = workflow.now()
        strategy = state.assessment.strategy
        task = TaskRecord(
            key=key or self._next_key("t"),
            case_id=self._id,
            kind=kind,
            queue=queue,
            deadline=deadline or now + rules.day(strategy) * strategy.task_deadline_days,
            created_at=now,
            note=note,
            reopens=escalates.kind if escalates else None,
            reopens_queue=escalates.queue if escalates else "",
        )
        self._dept().tasks.append(task)
        if kind is TaskKind.SUPERVISOR_APPROVAL:
            self._dept().approval_task = task.key
        self._tasks_out.append(task)
        self._emit(
            TaskOpened(
                task_kind=kind, queue=queue, deadline=f"{task.deadline:%Y-%m-%d %H:%M}", note=note
            )
        )
        return task

    def _adopt_task(self, changed: task_rules.Changed) -> TaskRecord:
        """Adopts what a task rule decided: the task as it becomes, and its event."""
        task, event = changed
        self._replace_task(task)
        self._emit(event)
        return task

    def _replace_task(self, task: TaskRecord) -> None:
        dept = self._dept()
        dept.tasks = [t for t in dept.tasks if t.key != task.key]
        if task.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            dept.tasks.append(task)
        self._tasks_out.append(task)

    def _find_task(self, key: str) -> TaskRecord:
        for task in self._dept().tasks:
            if task.key == key:
                return task
        raise invalid(f"no open task {key} on this case")

    def _cancel_open_tasks(self, why: str, kind: TaskKind | None = None) -> None:
        """Cancels the open tasks (of `kind`); a complaint's task (and its escalation) outlives
        whatever happens to the debt, and is closed by the complaint's answer."""
        now = workflow.now()
        kept = (TaskKind.COMPLAINT,)
        for task in [
            t
            for t in self._dept().tasks
            if (
                t.kind is kind if kind is not None else t.kind not in kept and t.reopens not in kept
            )
        ]:
            self._adopt_task(task_rules.cancel(task, why, now))

    def _add_evidence(self, at: datetime, how: str, key: str) -> None:
        noted = steering.add_evidence(self._live(), Evidence(at=at, how=how, key=key))
        self._decided((noted, ()))
