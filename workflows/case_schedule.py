"""What a case does by itself, and when: the run loop's clock, from the case's opening
(`open_case`: the assessment) on. Functions over the case's shell (`CaseShell`).

`next_due` names the next thing the case will do by itself (a ladder step, a promise's check,
the collector and legal thresholds, the departments' work: a task's deadline, the end of a
forbearance, an instalment, a collector call, the legal check) and when; the run loop sleeps
until then unless something happens to the case first, then does it (`contact_step` in
`case_contact`, `check_promise` and `department_work` here). `next_action` says the same to an
operator, or what the case waits for.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_events import CaseOpened, LegalThresholdReached
    from models.case_status import NextAction
    from models.contracts import AssessInput, Assessment, CaseInput, CaseState, Stage
    from workflows import case_rules as rules
    from workflows import complaint_rules
    from workflows import steering_rules as steering
    from workflows.case_base import store
    from workflows.case_contact import current_step
    from workflows.case_handoffs import (
        APPROVAL_RETRY_DAYS,
        check_instalment,
        check_legal,
        legal_preconditions,
        start_risk_review,
    )
    from workflows.case_shell import CaseShell
    from workflows.changes import ASSESSED_AT_START, CHEAPER_CASE, LOCAL_SEND

DEPARTMENT_ACTIONS = frozenset(
    {"task_deadline", "forbearance_end", "instalment", "collector_call", "legal_check"}
)
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


def next_due(shell: CaseShell, now: datetime) -> tuple[str, datetime | None]:
    """The next thing this case will do by itself, and when; None: nothing until something
    happens to it. Before QUIET_CASE, at the latest the calendar's daily refresh."""
    due = scheduled(shell, now)
    if shell.quiet:
        if not due:
            return "none", None
        at, action = min(due)
        return action, at
    strategy = shell.live().assessment.strategy
    refresh = now + rules.day(strategy) * strategy.check_every_days
    at, action = min([*due, (refresh, "refresh")])
    return action, at


def sends_first(shell: CaseShell, now: datetime) -> bool:
    """Whether a reminder is due now and goes out on a local try (LOCAL_SEND): what changed
    before it (a new case's opening, first of all) is then written with what the send changes,
    in one write after it, in the same workflow task. A refusal, or a try that fails, writes it
    first (`case_contact`)."""
    if not shell.changes.taken(LOCAL_SEND):
        return False
    action, at = next_due(shell, now)
    return action == "contact" and at is not None and at <= now


def scheduled(shell: CaseShell, now: datetime) -> list[tuple[datetime, str]]:
    """What the case will do by itself, each with when: the calendar's review aside."""
    state = shell.live()
    candidates: list[tuple[datetime, str]] = []
    strategy = state.assessment.strategy
    if state.promise is not None and state.promise.status == "open":
        candidates.append((state.promise.check_at, "promise"))
    if state.stage is Stage.EARLY and not contact_blocked(state):
        step = current_step(shell)
        if step is not None:
            due = rules.step_due_at(state, step)
            if state.retry_contact_at is not None:
                due = max(due, state.retry_contact_at)
            candidates.append((due, "contact"))
        collector_at = rules.at_dpd(state, strategy.stages.collector_dpd)
        candidates.append((collector_at, "stage"))
    if not shell.quiet:
        return candidates + steering.department_due(state, now)
    # The legal check is due when it may find something new, not every week.
    departments = [d for d in steering.department_due(state, now) if d[1] != "legal_check"]
    return candidates + departments + _legal_due(shell, now)


def _legal_due(shell: CaseShell, now: datetime) -> list[tuple[datetime, str]]:
    """When the legal referral's preconditions are checked (`check_legal`): the day the case
    reaches the legal threshold (noted that day by `note_stage`, blocked or not), then
    whenever what it would find differs from what it last found (evidence and plans change
    only with what happens to the case, which wakes it), or a rejected approval's wait ends."""
    state = shell.live()
    dept = state.departments
    strategy = state.assessment.strategy
    if state.stage is not Stage.COLLECTOR:
        return []
    legal_at = rules.at_dpd(state, strategy.stages.legal_dpd)
    if legal_at > now:
        return [(legal_at, "legal_check")]
    if steering.collector_blocked(state) or dept.approval_task or dept.legal_referral:
        return []
    if dept.approval_rejected_at is not None:
        retry_at = dept.approval_rejected_at + rules.day(strategy) * APPROVAL_RETRY_DAYS
        if retry_at > now:
            return [(retry_at, "legal_check")]
    missing = [p for p in legal_preconditions(shell, now, "")[:3] if not p.met]
    text = "; ".join(f"{p.name} ({p.evidence})" for p in missing)
    return [(now, "legal_check")] if not missing or text != dept.legal_missing else []


def next_action(shell: CaseShell) -> tuple[NextAction, str, datetime | None]:
    """What an operator reads as the case's next step: what it will do, or what it waits
    for. The calendar's daily review is no step of its own."""
    state = shell.live()
    dept = state.departments
    if state.stage is Stage.CLOSED:
        return NextAction.CLOSED, "none: case closed", None
    if state.paused_reason:
        return NextAction.PAUSED, "none while paused", None
    if state.dispute_reason:
        return NextAction.DISPUTE, "none while the dispute is investigated", None
    if complaint_rules.pausing(state):
        return NextAction.COMPLAINT, "none until the complaint is answered", None
    due = scheduled(shell, workflow.now())
    if due:
        at, action = min(due)
        step = current_step(shell)
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


def contact_blocked(state: CaseState) -> bool:
    """Blocks that need an operator to lift; they stop the ladder's clock entirely."""
    dept = state.departments
    return bool(
        state.paused_reason
        or state.dispute_reason
        or state.hardship_reason
        or dept.forbearance_until
        or dept.plan_status == "active"
        or complaint_rules.pausing(state)
    )


def note_stage(shell: CaseShell, now: datetime) -> None:
    state = shell.live()
    if contact_blocked(state) or state.stage is not Stage.EARLY:
        _note_legal_threshold(shell, now)
        return
    if rules.stage_by_dpd(state, now) is Stage.COLLECTOR:
        shell.set_stage(Stage.COLLECTOR, f"{rules.days_past_due(state, now)} days past due")


def _note_legal_threshold(shell: CaseShell, now: datetime) -> None:
    state = shell.live()
    legal_dpd = state.assessment.strategy.stages.legal_dpd
    if (
        state.stage is Stage.COLLECTOR
        and not state.legal_threshold_noted
        and rules.days_past_due(state, now) >= legal_dpd
    ):
        state.legal_threshold_noted = True
        shell.emit(LegalThresholdReached(days_past_due=legal_dpd))


def check_promise(shell: CaseShell, now: datetime) -> None:
    shell.decided(rules.check_promise(shell.live(), now, shell.input.account.currency))


def department_work(shell: CaseShell, action: str, now: datetime) -> None:
    state = shell.live()
    if action == "task_deadline":
        shell.steer(steering.escalate_overdue(state, now), now)
    elif action == "forbearance_end":
        shell.steer(steering.end_forbearance(state, now), now)
    elif action == "instalment":
        check_instalment(shell, now)
    elif action == "collector_call":
        shell.steer(steering.open_collector_call(state), now)
    elif action == "legal_check":
        check_legal(shell, now)


async def open_case(shell: CaseShell, input: CaseInput) -> CaseState:
    """The case's first step: the scorecard's assessment, the opening on record, and a risk
    review where the segment asks for one."""
    now = _opened_at(shell)
    assessment = await _assessment(shell, input, now)
    state = CaseState(
        started_at=now,
        initial_dpd=max(0, (now.date() - input.account.oldest_due_date).days),
        assessment=assessment,
        outstanding_minor=input.account.outstanding_minor,
        overdue_minor=input.account.overdue_minor,
        audit_seq=int(now.timestamp()) * 1000,
    )
    shell.state = state
    shell.emit(
        CaseOpened(
            strategy=assessment.strategy.name,
            version=assessment.strategy.version,
            score=assessment.score,
            factors="; ".join(f"{line.factor} {line.points:+d}" for line in assessment.lines),
            segment=assessment.segment,
        )
    )
    if assessment.segment == assessment.strategy.stages.risk_review_segment:
        start_risk_review(shell, f"{assessment.segment}-risk segment")
    return state


def _opened_at(shell: CaseShell) -> datetime:
    """When the case opened: the instant its run started. The same in every try of its first
    workflow task, which since LOCAL_SEND also sends the first reminder: the attempt keys and
    the audit's sequence are made from it, and a task tried again after a worker died must make
    the same ones, or a reminder would go out again under a new key. Before, the first task's
    own instant."""
    if shell.changes.taken(LOCAL_SEND):
        return workflow.info().workflow_start_time
    return workflow.now()


async def _assessment(shell: CaseShell, input: CaseInput, now: datetime) -> Assessment:
    """The starter's (intake scores the account before it starts the case), else the case's own
    assessment activity, as every case made before ASSESSED_AT_START."""
    if input.assessment is not None and shell.changes.taken(ASSESSED_AT_START):
        return input.assessment
    ask = AssessInput(
        account=input.account, strategy_version=input.strategy_version, as_of=now.date()
    )
    # Scoring reads a cached policy and adds points: local, so that the case's first write
    # goes out in the same workflow task.
    assessment: Assessment = await store(
        "assess_case", ask, local=shell.changes.taken(CHEAPER_CASE), result_type=Assessment
    )
    return assessment


def history_long(state: CaseState) -> bool:
    """Time to continue as new: Temporal suggests it, or the strategy's limit is passed."""
    info = workflow.info()
    limit = state.assessment.strategy.history_limit
    return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit
