"""Pure rules of a case: days past due, the ladder, payments and promises. No Temporal, no I/O.

A rule that changes a case takes its state and what happened, and returns `Decided`: the new
state and the events that say what changed (`models.case_events`), never touching the state it
was given. The workflow adopts the new state and records the events; it calls the rules with
`workflow.now()`, tests call them with any clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from models.case_events import (
    BalancesRefreshed,
    CaseEvent,
    DisputeRaised,
    DisputeResolved,
    HardshipReported,
    OptedIn,
    OptedOut,
    Overpaid,
    Paused,
    PaymentRecorded,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    Resumed,
    StageChanged,
    StaleStepsSkipped,
)
from models.case_status import OpenPromise
from models.contracts import (
    Account,
    CaseState,
    ChannelInput,
    ClosureReason,
    Promise,
    PromiseToPayInput,
    ReasonInput,
    RecordPaymentInput,
    ResolveDisputeInput,
    Stage,
)
from models.strategy import LadderStep, Strategy
from workflows.contact_policy import zone_info

# A case's history is carried across continue-as-new; these keep what is carried bounded.
TIMELINE_KEPT = 200

Decided = tuple[CaseState, tuple[CaseEvent, ...]]


def day(strategy: Strategy) -> timedelta:
    return timedelta(seconds=strategy.day_seconds)


def days_past_due(state: CaseState, now: datetime) -> int:
    elapsed = (now - state.started_at) // day(state.assessment.strategy)
    return state.initial_dpd + max(0, elapsed)


def at_dpd(state: CaseState, dpd: int) -> datetime:
    """The instant the case reaches `dpd` days past due."""
    return state.started_at + day(state.assessment.strategy) * max(0, dpd - state.initial_dpd)


def due_origin(state: CaseState) -> datetime:
    """The instant days past due are counted from: from then on, `days_past_due` is the whole
    days (of the strategy) since it. Fixed for the case's life, so readers count for
    themselves and the case never wakes to refresh the figure."""
    return state.started_at - day(state.assessment.strategy) * state.initial_dpd


def ladder(state: CaseState) -> tuple[LadderStep, ...]:
    return state.assessment.strategy.ladders.get(state.assessment.segment, ())


def step_due_at(state: CaseState, step: LadderStep) -> datetime:
    return state.started_at + day(state.assessment.strategy) * step.offset_days


def stale_steps(state: CaseState, now: datetime) -> int:
    """After a pause, only the latest overdue step goes, never a burst of stale reminders:
    how many steps past the current one are already due, and skipped."""
    steps = ladder(state)
    skipped = 0
    while (
        state.ladder_index + skipped + 1 < len(steps)
        and step_due_at(state, steps[state.ladder_index + skipped + 1]) <= now
    ):
        skipped += 1
    return skipped


def stage_by_dpd(state: CaseState, now: datetime) -> Stage:
    stages = state.assessment.strategy.stages
    return Stage.COLLECTOR if days_past_due(state, now) >= stages.collector_dpd else Stage.EARLY


def record_payment(state: CaseState, payment: RecordPaymentInput) -> Decided:
    """A payment lowers the balance and the arrears, counts toward an open promise (kept the
    moment it reaches the tolerance), and closes the case once nothing is owed (paid) or
    nothing is overdue (cured). Above the balance, the excess is kept as an overpayment."""
    amount, currency = payment.amount_minor, payment.currency
    overpaid = max(0, amount - state.outstanding_minor)
    changed = replace(
        state,
        payment_refs=[*state.payment_refs, payment.payment_ref],
        paid_minor=state.paid_minor + amount,
        overpaid_minor=state.overpaid_minor + overpaid,
        outstanding_minor=max(0, state.outstanding_minor - amount),
        overdue_minor=max(0, state.overdue_minor - amount),
    )
    events: list[CaseEvent] = [PaymentRecorded(amount, currency, payment.payment_ref)]
    if overpaid:
        events.append(Overpaid(overpaid, currency, payment.payment_ref))
    promise = state.promise
    if promise is not None and promise.status == "open":
        paid = promise.paid_since_minor + amount
        changed.promise = replace(promise, paid_since_minor=paid)
        if promise_met(state, changed.promise):
            changed.promise.status = "kept"
            changed.promises_kept += 1
            events.append(PromiseKept(paid_minor=paid, currency=currency, by_payment=True))
    why = f"payment {payment.payment_ref}"
    if changed.outstanding_minor == 0:
        return close(changed, ClosureReason.PAID, why, events)
    if changed.overdue_minor == 0:
        return close(changed, ClosureReason.CURED, why, events)
    return changed, tuple(events)


def refresh_balances(state: CaseState, account: Account) -> Decided:
    """The bank's daily file is the ledger: its balances replace the case's, and a file that
    shows nothing owed, or nothing overdue, closes the case."""
    outstanding, overdue = account.outstanding_minor, account.overdue_minor
    if (outstanding, overdue) == (state.outstanding_minor, state.overdue_minor):
        return state, ()
    changed = replace(state, outstanding_minor=outstanding, overdue_minor=overdue)
    events: list[CaseEvent] = [BalancesRefreshed(outstanding, overdue, account.currency)]
    if outstanding == 0:
        return close(changed, ClosureReason.PAID, "the bank's file shows no balance", events)
    if overdue == 0:
        return close(changed, ClosureReason.CURED, "the bank's file shows no arrears", events)
    return changed, tuple(events)


def close(
    state: CaseState, reason: ClosureReason, why: str, events: Sequence[CaseEvent] = ()
) -> Decided:
    """The case closes for `reason`; `events` are what led to it."""
    moved = StageChanged(from_stage=state.stage, to_stage=Stage.CLOSED, why=f"{reason}: {why}")
    closed = replace(state, stage=Stage.CLOSED, closed_reason=reason)
    if state.stage is Stage.CLOSED:
        return closed, tuple(events)
    return closed, (*events, moved)


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


def start_of_day(now: datetime, time_zone: str, length: timedelta) -> datetime:
    """When the customer's day began, on a clock whose day lasts `length` (a demo's day is a
    minute): `now` less the share of their day already gone."""
    local = now.astimezone(zone_info(time_zone))
    gone = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - length * (gone / timedelta(days=1))


def local_date(now: datetime, time_zone: str) -> date:
    """The customer's calendar day at `now`: the dates a customer promises are theirs."""
    return now.astimezone(zone_info(time_zone)).date()


def make_promise(
    state: CaseState,
    req: PromiseToPayInput,
    now: datetime,
    today: date | None = None,
    *,
    time_zone: str = "UTC",
    at_day_end: bool = True,
    by: str = "",
) -> Decided:
    """Contact pauses until the promised date plus grace, and the promise is judged when that
    last day ends for the customer (in `time_zone`; `today` is their calendar day,
    `local_date`), on the strategy's clock: a payment on the evening of the last grace day
    keeps it. `at_day_end=False` judges it at the time of day it was made, as cases started
    before patch `promise-day-end-2026-12` do. Refusals are `promise_problem`'s."""
    strategy = state.assessment.strategy
    today = today or now.date()
    days_ahead = max(0, (req.promised_date - today).days + strategy.promise.grace_days)
    if at_day_end:
        check_at = start_of_day(now, time_zone, day(strategy)) + day(strategy) * (days_ahead + 1)
    else:
        check_at = now + day(strategy) * days_ahead
    promise = Promise(
        amount_minor=req.amount_minor,
        promised_date=req.promised_date,
        made_at=now,
        check_at=check_at,
        made_by=by,
    )
    made = PromiseMade(
        amount_minor=req.amount_minor,
        currency=req.currency,
        promised_date=req.promised_date.isoformat(),
        paused_until=promise.check_at.isoformat(),
    )
    return replace(state, promise=promise), (made,)


def check_promise(state: CaseState, now: datetime, currency: str) -> Decided:
    """On its date plus grace, an open promise is kept (paid to within its tolerance) or
    broken; contact resumes with the latest reminder due, never a burst of stale ones."""
    promise = state.promise
    if promise is None or promise.status != "open" or now < promise.check_at:
        return state, ()
    paid = promise.paid_since_minor
    event: CaseEvent
    if promise_met(state, promise):
        changed = replace(
            state, promise=replace(promise, status="kept"), promises_kept=state.promises_kept + 1
        )
        event = PromiseKept(paid_minor=paid, currency=currency, by_payment=False)
    else:
        changed = replace(
            state,
            promise=replace(promise, status="broken"),
            promises_broken=state.promises_broken + 1,
        )
        event = PromiseBroken(paid_minor=paid, amount_minor=promise.amount_minor, currency=currency)
    return resume_ladder(changed, now, (event,))


def resume_ladder(state: CaseState, now: datetime, events: Sequence[CaseEvent]) -> Decided:
    """Contact resumes: the latest overdue step goes, the stale ones before it are skipped."""
    skipped = stale_steps(state, now)
    if not skipped:
        return state, tuple(events)
    resumed = replace(state, ladder_index=state.ladder_index + skipped)
    return resumed, (*events, StaleStepsSkipped(skipped=skipped))


# --- an operator's commands (their validators, in `case_actions`, refuse what cannot be) -----


def raise_dispute(state: CaseState, req: ReasonInput) -> Decided:
    """Collection stops while the debt itself is questioned."""
    return replace(state, dispute_reason=req.reason), (DisputeRaised(req.reason),)


def resolve_dispute(state: CaseState, req: ResolveDisputeInput, now: datetime) -> Decided:
    """Upheld, the customer was right and the case closes; rejected, collection resumes."""
    changed = replace(state, dispute_reason="")
    resolved = DisputeResolved(upheld=req.upheld, reason=req.reason)
    if req.upheld:
        return close(changed, ClosureReason.DISPUTE_UPHELD, req.reason, (resolved,))
    return resume_ladder(changed, now, (resolved,))


def report_hardship(state: CaseState, req: ReasonInput) -> Decided:
    """Contact pauses for the risk department's review (the workflow starts it)."""
    changed = replace(state, hardship_reason=req.reason, stage=Stage.RISK_REVIEW)
    events: list[CaseEvent] = []
    if state.stage is not Stage.RISK_REVIEW:
        events.append(StageChanged(state.stage, Stage.RISK_REVIEW, "hardship reported"))
    return changed, (*events, HardshipReported(req.reason))


def opt_out(state: CaseState, req: ChannelInput) -> Decided:
    """A customer's "stop" on a channel, honoured even on a closed case."""
    if req.channel in state.opted_out:
        return state, ()
    changed = replace(state, opted_out=[*state.opted_out, req.channel])
    return changed, (OptedOut(req.channel, req.reason or "customer request"),)


def opt_in(state: CaseState, req: ChannelInput) -> Decided:
    if req.channel not in state.opted_out:
        return state, ()
    changed = replace(state, opted_out=[c for c in state.opted_out if c != req.channel])
    return changed, (OptedIn(req.channel, req.reason or "customer request"),)


def pause(state: CaseState, req: ReasonInput) -> Decided:
    """Nothing goes out until an operator resumes the case."""
    return replace(state, paused_reason=req.reason), (Paused(req.reason),)


def resume(state: CaseState, req: ReasonInput, now: datetime) -> Decided:
    changed, skipped = resume_ladder(replace(state, paused_reason=""), now, ())
    return changed, (*skipped, Resumed(req.reason))


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
