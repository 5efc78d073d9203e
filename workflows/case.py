"""CollectionCaseWorkflow: one overdue account's whole life. Id: `case-<account_no>`.

Lifecycle: assess (the scorecard picks a segment and its strategy) -> early stage (the
segment's reminder ladder by SMS and automated voice, every contact checked by the contact
policy first; a refused contact waits durably until it may go) -> collector stage past the
collector threshold -> closed (paid, cured, settled, written off, dispute upheld, manual).
A promise pauses contact until its date plus grace, then is kept or broken; a dispute, a
pause or reported hardship stop contact and escalation until lifted.

Updates (validated before they enter history): record_payment, promise_to_pay, raise_dispute,
resolve_dispute, report_hardship, opt_out, opt_in, pause, resume, close, refresh_account
(case_actions), claim_task, complete_task (case_tasks), raise_complaint, resolve_complaint
(case_complaints), change_mobile, change_address, mark_number_wrong (case_contact_details).
All record typed events (models.case_events) and decide through pure rules (case_rules,
complaint_rules, contact_rules, task_rules, steering_rules, handoff_rules, ladder_rules): the
workflow adopts what they decide and carries out the effects they name. Signal:
contact_outcome. Queries: status, timeline.
The case continues as new when its history grows long, carrying its whole state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_events import (
        CaseOpened,
        LegalThresholdReached,
    )
    from models.case_status import CaseStatus, NextAction, PlanInstalmentView
    from models.contracts import AssessInput, Assessment, CaseInput, CaseState, Stage, TimelineEvent
    from workflows import case_rules as rules
    from workflows import complaint_rules
    from workflows.case_actions import CaseActions
    from workflows.case_base import store
    from workflows.case_calls import CaseCalls
    from workflows.case_complaints import CaseComplaints
    from workflows.case_contact_details import CaseContactDetails
    from workflows.case_handoffs import APPROVAL_RETRY_DAYS
    from workflows.case_records import CaseRecords
    from workflows.case_tasks import DEPARTMENT_ACTIONS
    from workflows.changes import CHEAPER_CASE, CLOSE_AT_ONCE, QUIET_CASE

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


@workflow.defn(name="CollectionCase")
class CollectionCaseWorkflow(
    CaseActions, CaseComplaints, CaseContactDetails, CaseCalls, CaseRecords
):
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        self._quiet = self._changes.taken(QUIET_CASE)
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
            if at is None or at > now:
                # Nothing scheduled: an update, a signal or a department's answer wakes it.
                wait = None if at is None else at - now
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._changed, timeout=wait)
                continue
            if action == "contact":
                await self._contact_step(now)
            elif action == "promise":
                self._check_promise(now)
            elif action in DEPARTMENT_ACTIONS:
                await self._department_work(action, now)
        why = f"case closed ({state.closed_reason})"
        self._cancel_open_tasks(why)
        if self._changes.taken(CLOSE_AT_ONCE):
            # The closure is on record (read model, audit, search attributes, task lists) and
            # every department is told in the task that closed the case; the closing message
            # waits for the contact window on its own.
            notices = self._end_departments(why)
            await asyncio.gather(self._flush(), *notices)
        await self._closing_message()
        await self._flush()
        if state.complaints:
            # A complaint is answered whatever happened to the debt: the case stays open for
            # its answer (no command unless a complaint is open, so older histories replay).
            await workflow.wait_condition(
                lambda: not state.complaints and workflow.all_handlers_finished()
            )
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
            "assess_case", ask, local=self._changes.taken(CHEAPER_CASE), result_type=Assessment
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
        self._emit(
            CaseOpened(
                strategy=assessment.strategy.name,
                version=assessment.strategy.version,
                score=assessment.score,
                factors="; ".join(f"{line.factor} {line.points:+d}" for line in assessment.lines),
                segment=assessment.segment,
            )
        )
        if assessment.segment == assessment.strategy.stages.risk_review_segment:
            self._start_risk_review(f"{assessment.segment}-risk segment")
        return state

    def _next(self, now: datetime) -> tuple[str, datetime | None]:
        """The next thing this case will do by itself, and when; None: nothing until something
        happens to it. Before QUIET_CASE, at the latest the calendar's daily refresh."""
        scheduled = self._scheduled(now)
        if self._quiet:
            if not scheduled:
                return "none", None
            at, action = min(scheduled)
            return action, at
        strategy = self._live().assessment.strategy
        refresh = now + rules.day(strategy) * strategy.check_every_days
        at, action = min([*scheduled, (refresh, "refresh")])
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
        if not self._quiet:
            return candidates + self._department_due(now)
        # The legal check is due when it may find something new, not every week.
        departments = [d for d in self._department_due(now) if d[1] != "legal_check"]
        return candidates + departments + self._legal_due(now)

    def _legal_due(self, now: datetime) -> list[tuple[datetime, str]]:
        """When the legal referral's preconditions are checked (`_check_legal`): the day the
        case reaches the legal threshold (noted that day by `_note_stage`, blocked or not),
        then whenever what it would find differs from what it last found (evidence and plans
        change only with what happens to the case, which wakes it), or a rejected approval's
        wait ends."""
        state = self._live()
        dept = state.departments
        strategy = state.assessment.strategy
        if state.stage is not Stage.COLLECTOR:
            return []
        legal_at = rules.at_dpd(state, strategy.stages.legal_dpd)
        if legal_at > now:
            return [(legal_at, "legal_check")]
        if self._collector_blocked() or dept.approval_task or dept.legal_referral:
            return []
        if dept.approval_rejected_at is not None:
            retry_at = dept.approval_rejected_at + rules.day(strategy) * APPROVAL_RETRY_DAYS
            if retry_at > now:
                return [(retry_at, "legal_check")]
        missing = [p for p in self._legal_preconditions(now, "")[:3] if not p.met]
        text = "; ".join(f"{p.name} ({p.evidence})" for p in missing)
        return [(now, "legal_check")] if not missing or text != dept.legal_missing else []

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
        if complaint_rules.pausing(state):
            return NextAction.COMPLAINT, "none until the complaint is answered", None
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
            or complaint_rules.pausing(state)
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
            self._emit(LegalThresholdReached(days_past_due=legal_dpd))

    def _check_promise(self, now: datetime) -> None:
        self._decided(rules.check_promise(self._live(), now, self._input.account.currency))

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
            open_complaints=tuple(state.complaints),
            due_origin=rules.due_origin(state),
            day_seconds=state.assessment.strategy.day_seconds,
        )

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return list(self._state.timeline) if self._state is not None else []

    def _history_long(self) -> bool:
        info = workflow.info()
        limit = self._live().assessment.strategy.history_limit
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit
