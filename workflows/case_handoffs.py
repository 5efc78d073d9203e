"""Handoffs of a case to the risk and legal departments: the handlers of their signals and the
steps the case takes toward them. Functions over the case's shell (`CaseShell`).

Risk: reported hardship (or a high-risk segment) starts a `RiskReviewWorkflow` on the risk
queue; its decision (forbearance, payment plan, restructure, proceed) comes back as the signal
`risk_decided`, and the case acts on it: contact paused until a date, instalments tracked (a
missed one breaks the plan), closed as settled, or collection goes on.

Legal: past the legal threshold, with no plan being kept and two effective contacts at least 30
days apart, a supervisor is asked to approve; approved, a `LegalReferralWorkflow` on the legal
queue takes the case, contact stops (unless legal allows it), and its outcome comes back as the
signal `legal_outcome`: returned (back to the collectors), settled or closed.

What each of these decides is `handoff_rules`'; the shell adopts the decision and carries out
its effects in order (`CaseShell.hand_off`): tasks opened and cancelled, and a department's
workflow queued with the case's summary, for the run loop to start (`case_children`).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.departments import (
        AcceptReferralInput,
        ContactPermissionInput,
        LegalOutcome,
        Precondition,
        RiskDecision,
    )
    from workflows import handoff_rules as handoffs
    from workflows.case_shell import CaseShell

# Read by the run loop (`case_schedule.legal_due`) and the integration tests.
APPROVAL_RETRY_DAYS = handoffs.APPROVAL_RETRY_DAYS
EVIDENCE_GAP_DAYS = handoffs.EVIDENCE_GAP_DAYS


def start_risk_review(shell: CaseShell, reason: str) -> None:
    account_no = shell.input.account.account_no
    requested = handoffs.request_risk_review(shell.live(), reason, account_no=account_no)
    shell.hand_off(requested, workflow.now())


def risk_decided(shell: CaseShell, decision: RiskDecision) -> None:
    """The risk department's decision, sent by its review workflow."""
    if shell.state is None:
        return
    now, today = workflow.now(), shell.customer_today()
    shell.hand_off(handoffs.risk_decided(shell.state, decision, now, today), now)


def apply_plan_payment(shell: CaseShell, amount_minor: int) -> None:
    now = workflow.now()
    shell.hand_off(handoffs.pay_plan(shell.live(), amount_minor, now), now)


def check_instalment(shell: CaseShell, now: datetime) -> None:
    currency = shell.input.account.currency
    shell.hand_off(handoffs.check_instalment(shell.live(), now, currency=currency), now)


def legal_preconditions(
    shell: CaseShell, now: datetime, approved_by: str
) -> tuple[Precondition, ...]:
    return handoffs.legal_preconditions(shell.live(), now, approved_by)


def check_legal(shell: CaseShell, now: datetime) -> None:
    shell.hand_off(handoffs.check_legal(shell.live(), now), now)


def legal_outcome(shell: CaseShell, outcome: LegalOutcome) -> None:
    """The legal department's end of a referral, sent by its referral workflow."""
    if shell.state is None:
        return
    now = workflow.now()
    shell.hand_off(handoffs.legal_outcome(shell.state, outcome, now), now)


def legal_accepted(shell: CaseShell, acceptance: AcceptReferralInput) -> None:
    """Legal took the referral: proceedings follow, and the case waits for their end."""
    if shell.state is None:
        return
    shell.hand_off(handoffs.legal_accepted(shell.state, acceptance), workflow.now())


def legal_contact_permission(shell: CaseShell, permission: ContactPermissionInput) -> None:
    if shell.state is None:
        return
    now = workflow.now()
    shell.hand_off(handoffs.legal_contact(shell.state, permission, now), now)
