"""The case's shell: the one owner of its live state and of what changes it.

The workflow class (`case`) builds one `CaseShell` in its `@workflow.init`; every handler (the
modules `case_actions`, `case_tasks`, `case_handoffs`, `case_complaints`,
`case_contact_details`, `case_calls`, `case_contact`) and the run loop act through it. Rules
decide (`case_rules`, `steering_rules`, `handoff_rules`, `task_rules` ...); the shell adopts
what they decide (`decided`, `steer`, `hand_off`), records each event on the timeline and for
the read model (`emit`, held in `records` until the next `flush`), keeps the case's tasks and
keys, and carries out the effects a rule names (`carry_out`): a task opened or written back, a
promise taken, a department's workflow queued in `children` for the run loop to start.
Nothing here does I/O but the read-model write (`flush`).
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterable
from datetime import date, datetime
from typing import Any, assert_never

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.case_events import (
        CaseEvent,
        PromiseBroken,
        PromiseKept,
        PromiseMade,
        fields_of,
    )
    from models.case_writes import AuditEntry, PromiseRow
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
    )
    from models.department_events import TaskOpened
    from models.departments import (
        CaseSummary,
        DepartmentState,
        Evidence,
        LegalReferralInput,
        RiskReviewInput,
    )
    from models.tasks import TaskKind, TaskRecord, TaskStatus
    from workflows import case_rules as rules
    from workflows import handoff_rules as handoffs
    from workflows import steering_rules as steering
    from workflows import task_rules
    from workflows.acting import current_actor, current_actor_id
    from workflows.case_base import invalid
    from workflows.case_children import CaseChildren, send_notice
    from workflows.case_records import CaseRecords
    from workflows.changes import ACT_FIRST, PROMISE_DAY_END, Changes
    from workflows.handoff_rules import (
        Handed,
        HandoffEffect,
        QueueLegalReferral,
        QueueRiskReview,
    )
    from workflows.steering_rules import (
        Effect,
        MakePromise,
        OpenTask,
        StartLegalReferral,
        Steered,
        WriteTask,
    )


class CaseShell:
    def __init__(self, input: CaseInput) -> None:
        self.input = input
        self.id = case_id(input.account.account_no)
        self.changes = Changes(input.release)  # which of the workflow's changes this run takes
        self.state: CaseState | None = input.carried
        self.changed = True  # wakes the run loop
        self.quiet = False  # this run is past QUIET_CASE: set by `run`, read by queries too
        self.records = CaseRecords(input, self.id, self.changes)
        self.children = CaseChildren()

    # --- the live state ---------------------------------------------------------------

    def live(self) -> CaseState:
        if self.state is None:
            raise ApplicationError(NOT_READY_MESSAGE, type=Refusal.NOT_READY)
        return self.state

    async def ready(self) -> CaseState:
        """Updates that arrive while the case is being assessed wait for it. Once it is
        assessed, an update acts before the run loop in the same workflow task: waiting on a
        condition already true would let a reminder due in that task be decided first, and go
        out after the promise, the pause or the opt-out that arrived with it."""
        if self.state is None or not self.changes.taken(ACT_FIRST):
            await workflow.wait_condition(lambda: self.state is not None)
        self.records.answering = True
        return self.live()

    def open_state(self) -> CaseState | None:
        """For validators: the state when assessed (None before), refusing a closed case."""
        state = self.state
        if state is not None and state.stage is Stage.CLOSED:
            raise ApplicationError(
                f"case is closed ({state.closed_reason})",
                type=Refusal.CASE_CLOSED,
                non_retryable=True,
            )
        return state

    def result(self, message: str, accepted: bool = True) -> ActionResult:
        self.changed = True
        return ActionResult(accepted=accepted, message=message, stage=self.live().stage)

    @property
    def time_zone(self) -> str:
        return self.input.contact.time_zone

    def customer_today(self) -> date:
        return rules.local_date(workflow.now(), self.time_zone)

    def next_key(self, kind: str) -> str:
        state = self.live()
        state.attempt_seq += 1
        # The opening time keeps keys unique when a closed account's case is opened again.
        return f"{self.id}/{state.started_at:%Y%m%d%H%M%S}/{kind}{state.attempt_seq}"

    # --- adopting what the rules decide -------------------------------------------------

    def decided(self, decided: rules.Decided) -> None:
        """Adopts what a rule decided: the live state takes the new state's values (the
        handlers and the run loop hold the live state itself, never a copy), and each event is
        recorded, with the promise rows the read model keeps."""
        state = self.live()
        changed, events = decided
        if changed is not state:
            vars(state).update(vars(changed))
        for event in events:
            if isinstance(event, PromiseMade) and state.promise is not None:
                state.promise.key = self.next_key("p")
            self.emit(event)
            if isinstance(event, PromiseMade | PromiseKept | PromiseBroken) and state.promise:
                self._promise_row(state.promise)

    def emit(self, event: CaseEvent) -> None:
        """Records what happened: on the timeline, and in the audit log at the next flush,
        with the event's text and its fields."""
        state = self.live()
        now = workflow.now()
        actor = current_actor()
        kind, detail, data = event.KIND, event.detail(), fields_of(event)
        state.timeline.append(
            TimelineEvent(at=now, kind=kind, detail=detail, actor=actor, data=data)
        )
        if len(state.timeline) > 2 * rules.TIMELINE_KEPT:
            del state.timeline[: -rules.TIMELINE_KEPT]
        state.audit_seq += 1
        self.records.audit.append(
            AuditEntry(
                case_id=self.id,
                seq=state.audit_seq,
                at=now,
                kind=kind,
                detail=detail,
                actor=actor,
                data=data,
            )
        )
        self.changed = True

    def _promise_row(self, promise: Promise) -> None:
        self.records.promises.append(
            PromiseRow(
                key=promise.key,
                amount_minor=promise.amount_minor,
                currency=self.input.account.currency,
                promised_date=promise.promised_date,
                made_at=promise.made_at,
                status=promise.status,
                resolved_at=None if promise.status == "open" else workflow.now(),
                made_by=promise.made_by if promise.status == "open" else "",
            )
        )

    def make_promise(self, req: PromiseToPayInput, by: str = "") -> None:
        """A promise to pay, taken (its refusals are the validators'), with its key and row;
        obtained `by` a collector (a task's), else by whoever is acting."""
        decided = rules.make_promise(
            self.live(),
            req,
            workflow.now(),
            self.customer_today(),
            time_zone=self.time_zone,
            at_day_end=self.changes.taken(PROMISE_DAY_END),
            by=by or current_actor_id(),
        )
        self.decided(decided)

    def close(self, reason: ClosureReason, why: str) -> None:
        self.decided(rules.close(self.live(), reason, why))

    def set_stage(self, stage: Stage, why: str) -> None:
        self.decided(steering.set_stage(self.live(), stage, why))

    def add_evidence(self, at: datetime, how: str, key: str) -> None:
        noted = steering.add_evidence(self.live(), Evidence(at=at, how=how, key=key))
        self.decided((noted, ()))

    def steer(self, steered: Steered, now: datetime) -> str:
        """Adopts what a steering rule decided (its state and events), then carries out its
        effects in the order given; answers the rule's message."""
        self.decided((steered.state, steered.events))
        self.carry_out(steered.effects, now)
        return steered.message

    def hand_off(self, handed: Handed, now: datetime) -> None:
        """Adopts what a handoff rule decided (its state and events), then carries out its
        effects in the order given."""
        self.decided((handed.state, handed.events))
        self.carry_out(handed.effects, now)

    def carry_out(self, effects: Iterable[Effect | HandoffEffect], now: datetime) -> None:
        """What a rule named for the workflow itself to do, in order: a task opened or written
        back, a promise taken, a department's workflow queued for the run loop to start (with
        the case's summary as it stands at `now`)."""
        for effect in effects:
            match effect:
                case OpenTask():
                    self.open_task(
                        effect.kind, effect.queue, effect.note, escalates=effect.escalates
                    )
                case WriteTask():
                    self.adopt_task((effect.task, effect.event))
                case MakePromise():
                    self.make_promise(effect.promise, by=effect.by)
                case StartLegalReferral():
                    account_no = self.input.account.account_no
                    referred = handoffs.refer_to_legal(
                        self.live(), effect.approved_by, now, account_no=account_no
                    )
                    self.hand_off(referred, now)
                case QueueRiskReview():
                    self._queue_risk_review(effect, now)
                case QueueLegalReferral():
                    self._queue_legal_referral(effect, now)
                case _:
                    assert_never(effect)

    # --- tasks ---------------------------------------------------------------------------

    def dept(self) -> DepartmentState:
        return self.live().departments

    def open_task(
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
        otherwise; `key` when the caller took it beforehand (`next_key("t")`)."""
        state = self.live()
        now = workflow.now()
        strategy = state.assessment.strategy
        task = TaskRecord(
            key=key or self.next_key("t"),
            case_id=self.id,
            kind=kind,
            queue=queue,
            deadline=deadline or now + rules.day(strategy) * strategy.task_deadline_days,
            created_at=now,
            note=note,
            reopens=escalates.kind if escalates else None,
            reopens_queue=escalates.queue if escalates else "",
        )
        self.dept().tasks.append(task)
        if kind is TaskKind.SUPERVISOR_APPROVAL:
            self.dept().approval_task = task.key
        self.records.tasks.append(task)
        self.emit(
            TaskOpened(
                task_kind=kind, queue=queue, deadline=f"{task.deadline:%Y-%m-%d %H:%M}", note=note
            )
        )
        return task

    def adopt_task(self, changed: task_rules.Changed) -> TaskRecord:
        """Adopts what a task rule decided: the task as it becomes, and its event."""
        task, event = changed
        self.replace_task(task)
        self.emit(event)
        return task

    def replace_task(self, task: TaskRecord) -> None:
        dept = self.dept()
        dept.tasks = [t for t in dept.tasks if t.key != task.key]
        if task.status in (TaskStatus.OPEN, TaskStatus.CLAIMED):
            dept.tasks.append(task)
        self.records.tasks.append(task)

    def find_task(self, key: str) -> TaskRecord:
        for task in self.dept().tasks:
            if task.key == key:
                return task
        raise invalid(f"no open task {key} on this case")

    def cancel_open_tasks(self, why: str, kind: TaskKind | None = None) -> None:
        """Cancels the open tasks (of `kind`); a complaint's task (and its escalation) outlives
        whatever happens to the debt, and is closed by the complaint's answer."""
        now = workflow.now()
        kept = (TaskKind.COMPLAINT,)
        for task in [
            t
            for t in self.dept().tasks
            if (
                t.kind is kind if kind is not None else t.kind not in kept and t.reopens not in kept
            )
        ]:
            self.adopt_task(task_rules.cancel(task, why, now))

    # --- departments ---------------------------------------------------------------------

    def summary(self, now: datetime) -> CaseSummary:
        state = self.live()
        account = self.input.account
        return CaseSummary(
            case_id=self.id,
            account_no=account.account_no,
            customer_ref=self.input.customer_ref,
            product=account.product,
            currency=account.currency,
            outstanding_minor=state.outstanding_minor,
            overdue_minor=state.overdue_minor,
            days_past_due=rules.days_past_due(state, now),
            segment=state.assessment.segment,
            score=state.assessment.score,
            promises_kept=state.promises_kept,
            promises_broken=state.promises_broken,
            contacts_sent=state.sent_count,
        )

    def _queue_risk_review(self, review: QueueRiskReview, now: datetime) -> None:
        assessment = self.live().assessment
        ask = RiskReviewInput(
            summary=self.summary(now),
            reason=review.reason,
            deadline_days=assessment.strategy.task_deadline_days,
            day_seconds=assessment.strategy.day_seconds,
        )
        self.children.queue("RiskReview", ask, review.review_id, assessment.risk_queue)

    def _queue_legal_referral(self, referral: QueueLegalReferral, now: datetime) -> None:
        assessment = self.live().assessment
        refer = LegalReferralInput(
            summary=self.summary(now),
            approved_by=referral.approved_by,
            preconditions=referral.preconditions,
            day_seconds=assessment.strategy.day_seconds,
        )
        self.children.queue("LegalReferral", refer, referral.referral_id, assessment.legal_queue)

    def end_departments(self, why: str) -> list[Coroutine[Any, Any, None]]:
        """A closed case leaves no department working on it (`handoff_rules.end_departments`).
        Returns the notices to send; the case's timeline already says what was done."""
        unstarted = self.children.drop_unstarted()
        ended = handoffs.end_departments(self.live(), why, unstarted)
        self.decided((ended.state, ended.events))
        return [send_notice(notice) for notice in ended.notices]

    # --- the read model ------------------------------------------------------------------

    async def flush(self) -> None:
        """Writes what changed to the read model (`CaseRecords.flush`)."""
        await self.records.flush(self.live(), quiet=self.quiet)
