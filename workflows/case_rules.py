"""Pure rules of a case: days past due, the ladder, payments and promises. No Temporal, no I/O.

The workflow calls these with `workflow.now()`; tests call them with any clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.contracts import (
    CaseState,
    ClosureReason,
    OpenPromise,
    Promise,
    PromiseToPayInput,
    RecordPaymentInput,
    Stage,
)
from models.strategy import LadderStep, Strategy
from workflows.contact_policy import zone_info

# A case's history is carried across continue-as-new; these keep what is carried bounded.
TIMELINE_KEPT = 200


def day(strategy: Strategy) -> timedelta:
    return timedelta(seconds=strategy.day_seconds)


def days_past_due(state: CaseState, now: datetime) -> int:
    elapsed = (now - state.started_at) // day(state.assessment.strategy)
    return state.initial_dpd + max(0, elapsed)


def at_dpd(state: CaseState, dpd: int) -> datetime:
    """The instant the case reaches `dpd` days past due."""
    return state.started_at + day(state.assessment.strategy) * max(0, dpd - state.initial_dpd)


def ladder(state: CaseState) -> tuple[LadderStep, ...]:
    return state.assessment.strategy.ladders.get(state.assessment.segment, ())


def step_due_at(state: CaseState, step: LadderStep) -> datetime:
    return state.started_at + day(state.assessment.strategy) * step.offset_days


def skip_stale_steps(state: CaseState, now: datetime) -> int:
    """After a pause, send only the latest overdue step, never a burst of stale reminders.

    Returns how many steps were skipped.
    """
    steps = ladder(state)
    skipped = 0
    while (
        state.ladder_index + 1 < len(steps)
        and step_due_at(state, steps[state.ladder_index + 1]) <= now
    ):
        state.ladder_index += 1
        skipped += 1
    return skipped


def stage_by_dpd(state: CaseState, now: datetime) -> Stage:
    stages = state.assessment.strategy.stages
    return Stage.COLLECTOR if days_past_due(state, now) >= stages.collector_dpd else Stage.EARLY


@dataclass(frozen=True)
class PaymentEffect:
    closes_as: ClosureReason | None
    promise_kept: bool
    overpaid_minor: int = 0


def apply_payment(state: CaseState, payment: RecordPaymentInput) -> PaymentEffect:
    state.payment_refs.append(payment.payment_ref)
    state.paid_minor += payment.amount_minor
    overpaid = max(0, payment.amount_minor - state.outstanding_minor)
    state.overpaid_minor += overpaid
    state.outstanding_minor = max(0, state.outstanding_minor - payment.amount_minor)
    state.overdue_minor = max(0, state.overdue_minor - payment.amount_minor)
    kept = False
    promise = state.promise
    if promise is not None and promise.status == "open":
        promise.paid_since_minor += payment.amount_minor
        if promise_met(state, promise):
            promise.status = "kept"
            state.promises_kept += 1
            kept = True
    if state.outstanding_minor == 0:
        return PaymentEffect(ClosureReason.PAID, kept, overpaid)
    if state.overdue_minor == 0:
        return PaymentEffect(ClosureReason.CURED, kept, overpaid)
    return PaymentEffect(None, kept, overpaid)


def payment_problem(state: CaseState, payment: RecordPaymentInput) -> str | None:
    """Why a payment cannot be taken as it stands; None when it can. A payment above the
    balance is most often a typo that would close the case: it needs to be marked as an
    overpayment."""
    if payment.amount_minor > state.outstanding_minor and not payment.overpayment:
        return (
            f"payment of {payment.amount_minor} {payment.currency} is more than the outstanding "
            f"{state.outstanding_minor} {payment.currency}; mark it as an overpayment if it is one"
        )
    return None


def promise_met(state: CaseState, promise: Promise) -> bool:
    tolerance = state.assessment.strategy.promise.tolerance_percent
    return promise.paid_since_minor * 100 >= promise.amount_minor * (100 - tolerance)


def promise_problem(state: CaseState, req: PromiseToPayInput, today: date) -> str | None:
    """Why a promise cannot be taken, in an operator's words; None when it can."""
    rules = state.assessment.strategy.promise
    if state.promise is not None and state.promise.status == "open":
        return f"a promise is already open until {state.promise.promised_date.isoformat()}"
    if state.promises_broken >= rules.max_broken:
        return f"{state.promises_broken} promises already broken; a new one needs approval"
    if req.promised_date < today:
        return f"promised date {req.promised_date.isoformat()} is in the past"
    horizon = today + timedelta(days=rules.max_horizon_days)
    if req.promised_date > horizon:
        return (
            f"promised date {req.promised_date.isoformat()} is beyond the "
            f"{rules.max_horizon_days}-day horizon ({horizon.isoformat()})"
        )
    return None


def local_date(now: datetime, time_zone: str) -> date:
    """The customer's calendar day at `now`: the dates a customer promises are theirs."""
    return now.astimezone(zone_info(time_zone)).date()


def open_promise(
    state: CaseState, req: PromiseToPayInput, now: datetime, today: date | None = None
) -> Promise:
    """Contact pauses until the promised date plus grace, on the strategy's clock; `today` is
    the customer's calendar day (`local_date`)."""
    strategy = state.assessment.strategy
    today = today or now.date()
    days_ahead = (req.promised_date - today).days + strategy.promise.grace_days
    promise = Promise(
        amount_minor=req.amount_minor,
        promised_date=req.promised_date,
        made_at=now,
        check_at=now + day(strategy) * max(0, days_ahead),
    )
    state.promise = promise
    return promise


def open_promise_view(state: CaseState) -> OpenPromise | None:
    promise = state.promise
    if promise is None or promise.status != "open":
        return None
    return OpenPromise(
        amount_minor=promise.amount_minor,
        promised_date=promise.promised_date,
        paid_since_minor=promise.paid_since_minor,
    )


def trim_for_carry(state: CaseState, now: datetime) -> None:
    """Keeps what the contact policy and the queries need; the database holds the rest."""
    horizon = now - day(state.assessment.strategy) * 8
    state.contacts = [c for c in state.contacts if c.at >= horizon]
    state.timeline = state.timeline[-TIMELINE_KEPT:]
    state.payment_refs = state.payment_refs[-500:]
