"""CollectionCaseWorkflow: one overdue account's whole life. Id: `case-<account_no>`.

Lifecycle: assess (the scorecard picks a segment and its strategy) -> early stage (the
segment's reminder ladder by SMS and automated voice, every contact checked by the contact
policy first; a refused contact waits durably until it may go) -> collector stage past the
collector threshold -> closed (paid, cured, settled, written off, dispute upheld, manual).
A promise pauses contact until its date plus grace, then is kept or broken; a dispute, a
pause or reported hardship stop contact and escalation until lifted.

Updates (validated before they enter history; see case_actions): record_payment,
promise_to_pay, raise_dispute, resolve_dispute, report_hardship, opt_out, opt_in, pause,
resume, close, refresh_account. Signal: contact_outcome. Queries: status, timeline.
The case continues as new when its history grows long, carrying its whole state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_writes import (
        CaseSnapshot,
        CaseWrite,
    )
    from models.contracts import (
        AssessInput,
        Assessment,
        CaseInput,
        CaseState,
        CaseStatus,
        NextAction,
        PlanInstalmentView,
        Stage,
        TimelineEvent,
    )
    from models.visibility import BALANCE_BAND, CASE_STAGE, DAYS_PAST_DUE, SEGMENT, balance_band
    from workflows import case_rules as rules
    from workflows.case_actions import CaseActions
    from workflows.case_base import store
    from workflows.case_contact import CaseContact
    from workflows.case_tasks import DEPARTMENT_ACTIONS

_ACTION_WORDS = {
    "contact": "contact",
    "promise": "check the promise to pay",
    "stage": "move to the collector stage",
    "task_deadline": "escalate a task past its deadline",
    "forbearance_end": "end the forbearance",
    "instalment": "check the plan's next instalment",
    "collector_call": "open a collector call",
    "legal_check": "check the legal referral's preconditions",
}

# Patches: cases started before a change replay the old commands (see tests/histories).
# A case opens with local activities (its assessment and its first write), and upserts its
# search attributes only when one of them changes.
CHEAPER_CASE = "cheaper-case-2026-11"
# The case's writes to the read model are local activities, in the workflow task that made the
# change, unless an update's answer waits in that task.
LOCAL_WRITES = "local-writes-2026-11"
# A closed case is written as closed, and its departments told, before its closing message
# waits for the contact window.
CLOSE_AT_ONCE = "close-at-once-2026-12"


@workflow.defn(name="CollectionCase")
class CollectionCaseWorkflow(CaseActions, CaseContact):
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        state = self._state or await self._open(input)
        self._state = state
        while state.stage is not Stage.CLOSED:
            # From here on, whatever an update or a signal changes wakes the wait below, even
            # while this loop is still awaiting a write.
            self._changed = False
            self._note_stage(workflow.now())
            await self._flush()
            if self._history_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._flush()
                rules.trim_for_carry(state, workflow.now())
                state.runs += 1
                workflow.continue_as_new(dataclasses.replace(input, carried=state))
            await self._start_pending_children()
            now = workflow.now()
            action, at = self._next(now)
            if at > now:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._changed, timeout=at - now)
                continue
            if action == "contact":
                await self._contact_step(now)
            elif action == "promise":
                self._check_promise(now)
            elif action in DEPARTMENT_ACTIONS:
                await self._department_work(action, now)
        why = f"case closed ({state.closed_reason})"
        self._cancel_open_tasks(why)
        if workflow.patched(CLOSE_AT_ONCE):
            # The closure is on record (read model, audit, search attributes, task lists) and
            # every department is told in the task that closed the case; the closing message
            # waits for the contact window on its own.
            notices = self._end_departments(why)
            await asyncio.gather(self._flush(), *notices)
        await self._closing_message()
        await self._flush()
        return self.status()

    async def _open(self, input: CaseInput) -> CaseState:
        now = workflow.now()
        ask = AssessInput(
            account=input.account, strategy_version=input.strategy_version, as_of=now.date()
        )
        # Scoring reads a cached policy and adds points: local, so that the case's first write
        # goes out in the same workflow task.
        assessment: Assessment = await store(
            "assess_case", ask, local=workflow.patched(CHEAPER_CASE), result_type=Assessment
        )
        state = CaseState(
            started_at=now,
            initial_dpd=max(0, (now.date() - input.account.oldest_due_date).days),
            assessment=assessment,
            outstanding_minor=input.account.outstanding_minor,
            overdue_minor=input.account.overdue_minor,
            audit_seq=int(now.timestamp()) * 1000,
        )
        self._state = state
        lines = "; ".join(f"{line.factor} {line.points:+d}" for line in assessment.lines)
        self._event(
            "opened",
            f"strategy {assessment.strategy.name} {assessment.strategy.version}, "
            f"score {assessment.score} ({lines or 'no factor'}), segment {assessment.segment}",
        )
        if assessment.segment == assessment.strategy.stages.risk_review_segment:
            self._start_risk_review(f"{assessment.segment}-risk segment")
        return state

    def _next(self, now: datetime) -> tuple[str, datetime]:
        """The next thing this case will do by itself, and when."""
        strategy = self._live().assessment.strategy
        refresh = now + rules.day(strategy) * strategy.check_every_days
        at, action = min([*self._scheduled(now), (refresh, "refresh")])
        return action, at

    def _scheduled(self, now: datetime) -> list[tuple[datetime, str]]:
        """What the case will do by itself, each with when: the calendar's review aside."""
        state = self._live()
        candidates: list[tuple[datetime, str]] = []
        strategy = state.assessment.strategy
        if state.promise is not None and state.promise.status == "open":
            candidates.append((state.promise.check_at, "promise"))
        if state.stage is Stage.EARLY and not self._contact_blocked():
            step = self._current_step()
            if step is not None:
                due = rules.step_due_at(state, step)
                if state.retry_contact_at is not None:
                    due = max(due, state.retry_contact_at)
                candidates.append((due, "contact"))
            collector_at = rules.at_dpd(state, strategy.stages.collector_dpd)
            candidates.append((collector_at, "stage"))
        return candidates + self._department_due(now)

    def _next_action(self) -> tuple[NextAction, str, datetime | None]:
        """What an operator reads as the case's next step: what it will do, or what it waits
        for. The calendar's daily review is no step of its own."""
        state = self._live()
        dept = state.departments
        if state.stage is Stage.CLOSED:
            return NextAction.CLOSED, "none: case closed", None
        if state.paused_reason:
            return NextAction.PAUSED, "none while paused", None
        if state.dispute_reason:
            return NextAction.DISPUTE, "none while the dispute is investigated", None
        scheduled = self._scheduled(workflow.now())
        if scheduled:
            at, action = min(scheduled)
            step = self._current_step()
            if action == "contact" and step is not None:
                return NextAction.CONTACT, f"{step.channel} reminder ({step.template})", at
            return NextAction(action), _ACTION_WORDS[action], at
        if dept.risk_review is not None:
            return NextAction.RISK_DECISION, "wait for the risk department's decision", None
        if dept.legal_referral is not None:
            return NextAction.LEGAL_OUTCOME, "wait for the legal department", None
        if dept.tasks:
            return NextAction.OPEN_TASKS, "work the open tasks", None
        return NextAction.NONE, "nothing scheduled", None

    def _contact_blocked(self) -> bool:
        """Blocks that need an operator to lift; they stop the ladder's clock entirely."""
        state = self._live()
        dept = state.departments
        return bool(
            state.paused_reason
            or state.dispute_reason
            or state.hardship_reason
            or dept.forbearance_until
            or dept.plan_status == "active"
        )

    def _note_stage(self, now: datetime) -> None:
        state = self._live()
        if self._contact_blocked() or state.stage is not Stage.EARLY:
            self._note_legal_threshold(now)
            return
        if rules.stage_by_dpd(state, now) is Stage.COLLECTOR:
            self._set_stage(Stage.COLLECTOR, f"{rules.days_past_due(state, now)} days past due")

    def _note_legal_threshold(self, now: datetime) -> None:
        state = self._live()
        legal_dpd = state.assessment.strategy.stages.legal_dpd
        if (
            state.stage is Stage.COLLECTOR
            and not state.legal_threshold_noted
            and rules.days_past_due(state, now) >= legal_dpd
        ):
            state.legal_threshold_noted = True
            self._event("legal_threshold", f"{legal_dpd} days past due reached")

    def _check_promise(self, now: datetime) -> None:
        state = self._live()
        promise = state.promise
        if promise is None or promise.status != "open" or now < promise.check_at:
            return
        currency = self._input.account.currency
        paid = f"{promise.paid_since_minor} {currency}"
        if rules.promise_met(state, promise):
            promise.status = "kept"
            state.promises_kept += 1
            self._event("promise_kept", f"{paid} paid by the date")
        else:
            promise.status = "broken"
            state.promises_broken += 1
            self._event(
                "promise_broken",
                f"{paid} of {promise.amount_minor} {currency} paid; contact resumes",
            )
        self._promise_row(promise)
        self._skip_stale(now)

    @workflow.query
    def status(self) -> CaseStatus:
        state = self._live()
        kind, action, at = self._next_action()
        account = self._input.account
        dept = state.departments
        return CaseStatus(
            case_id=self._id,
            account_no=account.account_no,
            stage=state.stage,
            segment=state.assessment.segment,
            score=state.assessment.score,
            strategy_version=self._strategy_label(),
            days_past_due=rules.days_past_due(state, workflow.now()),
            currency=account.currency,
            outstanding_minor=state.outstanding_minor,
            overdue_minor=state.overdue_minor,
            paid_minor=state.paid_minor,
            next_action=action,
            next_action_at=at,
            open_promise=rules.open_promise_view(state),
            promises_kept=state.promises_kept,
            promises_broken=state.promises_broken,
            contacts_sent=state.sent_count,
            contacts_refused=state.refused_count,
            opted_out=tuple(state.opted_out),
            paused=bool(state.paused_reason),
            dispute_open=bool(state.dispute_reason),
            closed_reason=state.closed_reason,
            open_tasks=tuple(dept.tasks),
            risk_review=dept.risk_review,
            legal_referral=dept.legal_referral,
            legal_accepted_by=dept.legal_accepted_by,
            next_action_kind=kind,
            forbearance_until=dept.forbearance_until_date,
            plan_status=dept.plan_status,
            plan=tuple(
                PlanInstalmentView(i.due_date, i.amount_minor, i.paid_minor, i.status)
                for i in dept.plan
            ),
            overpaid_minor=state.overpaid_minor,
        )

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return list(self._state.timeline) if self._state is not None else []

    async def _flush(self) -> None:
        """Writes what changed to the read model: the case row, the audit log, new rows."""
        state = self._live()
        now = workflow.now()
        dpd = rules.days_past_due(state, now)
        pending = self._audit or self._payments or self._promises or self._tasks_out
        # Every flush leaves the attributes it wrote in `_upserted`, days past due among them.
        if not pending and self._upserted is not None and dpd == self._upserted[1]:
            return
        stage, segment = str(state.stage), str(state.assessment.segment)
        band = balance_band(state.outstanding_minor)
        attributes = (stage, dpd, segment, band)
        # An unchanged upsert is an event and a visibility write for nothing: an operator's
        # payment usually changes no search attribute, and its answer waited for one.
        if attributes != self._upserted or not workflow.patched(CHEAPER_CASE):
            self._upserted = attributes
            workflow.upsert_search_attributes(
                [
                    CASE_STAGE.value_set(stage),
                    DAYS_PAST_DUE.value_set(dpd),
                    SEGMENT.value_set(segment),
                    BALANCE_BAND.value_set(band),
                ]
            )
        opening, self._opened = self._opened, False
        answering, self._answering = self._answering, False
        # No server dispatch and no second workflow task for a local write: the first reminder
        # is scheduled in the task that assessed the case, and a quiet day's wake is one task.
        # A write that would hold back an update's answer stays an activity.
        local = (opening and workflow.patched(CHEAPER_CASE)) or (
            not answering and workflow.patched(LOCAL_WRITES)
        )
        write = CaseWrite(
            snapshot=CaseSnapshot(
                case_id=self._id,
                account_no=self._input.account.account_no,
                customer_ref=self._input.customer_ref,
                stage=state.stage,
                segment=state.assessment.segment,
                score=state.assessment.score,
                strategy_version=self._strategy_label(),
                days_past_due=dpd,
                currency=self._input.account.currency,
                outstanding_minor=state.outstanding_minor,
                overdue_minor=state.overdue_minor,
                closed_reason=state.closed_reason,
                updated_at=now,
            ),
            audit=tuple(self._audit),
            payments=tuple(self._payments),
            promises=tuple(self._promises),
            opened=self._input if opening else None,
            tasks=tuple(self._tasks_out),
            receipt=local,
        )
        self._audit, self._payments, self._promises, self._tasks_out = [], [], [], []
        await store("write_case", write, local=local)

    def _history_long(self) -> bool:
        info = workflow.info()
        limit = self._live().assessment.strategy.history_limit
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit
