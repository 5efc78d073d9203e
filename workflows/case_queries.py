"""What a case answers when asked: its queries `status` and `timeline`, as functions over the
case's shell (`CaseShell`). They read, and change nothing.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_status import CaseStatus, PlanInstalmentView
    from models.contracts import TimelineEvent
    from workflows import case_rules as rules
    from workflows.case_records import strategy_label
    from workflows.case_schedule import next_action
    from workflows.case_shell import CaseShell


def status(shell: CaseShell) -> CaseStatus:
    state = shell.live()
    kind, action, at = next_action(shell)
    account = shell.input.account
    dept = state.departments
    return CaseStatus(
        case_id=shell.id,
        account_no=account.account_no,
        stage=state.stage,
        segment=state.assessment.segment,
        score=state.assessment.score,
        strategy_version=strategy_label(state),
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


def timeline(shell: CaseShell) -> list[TimelineEvent]:
    return list(shell.state.timeline) if shell.state is not None else []
