"""What a reminder (a step of the strategy's ladder) decides around the sends the workflow
makes, as pure functions. No Temporal, no I/O.

The workflow's contact step (`workflows/case_contact.py`) is a loop of I/O: for each channel it
asks the contact policy, stores a refusal, or sends through the provider under its key. What
it does between those calls is decided here: which step is due and which channels to try, the
policy's view of the case, what a refusal or a send's result means for the step (the next
channel, a retry time, or the step over), what a failed send says about the channels, and what
an attempt leaves on record. As in `case_rules`, a rule that changes the case answers
`Decided` and leaves the state it was given as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models.case_events import OptedOut
from models.contact_events import ChannelUnavailable, ContactRefused, ContactSent
from models.contracts import (
    AttemptStatus,
    CaseState,
    ClosureReason,
    PastContact,
    RefusalReason,
    SendResult,
    Stage,
)
from models.strategy import Channel, LadderStep
from workflows import case_rules as rules
from workflows import complaint_rules
from workflows.case_rules import Decided
from workflows.contact_policy import ContactContext, Decision, decide

# Never sooner than a minute: a policy answer of "now" must not spin the loop.
RETRY_FLOOR = timedelta(minutes=1)
PROVIDER_PAUSE = timedelta(hours=1)  # the provider stayed unreachable: the step waits this long
# A refusal for these reasons is the channel's, not the step's: the other channel is tried.
OTHER_CHANNEL = (RefusalReason.OPTED_OUT, RefusalReason.CHANNEL_UNAVAILABLE)
UNREACHABLE_CODES = {21211}  # invalid number: no channel works
CHANNEL_DEAD_CODES = {21614: Channel.SMS}  # not a mobile: texts cannot reach it
OPT_OUT_CODES = {21610: Channel.SMS}  # the customer unsubscribed at the carrier
CLOSING_TEMPLATES: dict[ClosureReason | None, str] = {  # None: the case is open
    ClosureReason.PAID: "closing_paid",
    ClosureReason.CURED: "closing_cured",
    ClosureReason.SETTLED: "closing_settled",
}


@dataclass(frozen=True)
class StepEnd:
    """How a step's attempt ended: `key`, the attempt that went out; else `retry_at`, when the
    step is tried again (None: it is skipped)."""

    key: str | None = None
    retry_at: datetime | None = None


# --- the step ---------------------------------------------------------------------------------


def current_step(state: CaseState) -> LadderStep | None:
    """The ladder's next step; None once every step is behind the case."""
    steps = rules.ladder(state)
    return steps[state.ladder_index] if state.ladder_index < len(steps) else None


def due_step(state: CaseState, now: datetime) -> Decided:
    """The step to try now: after a pause only the latest overdue step goes, the stale ones
    before it skipped; the retry time it may have waited for is spent."""
    skipped, events = rules.resume_ladder(state, now, ())
    if current_step(skipped) is None:
        return skipped, events
    return replace(skipped, retry_contact_at=None), events


def channels_for(state: CaseState, preferred: Channel) -> list[Channel]:
    """The step's channel, then the other one, leaving out those that cannot reach the
    customer; the step's own when neither can (the policy refuses it, on record)."""
    other = Channel.VOICE if preferred is Channel.SMS else Channel.SMS
    usable = [c for c in (preferred, other) if c not in state.unavailable]
    return usable or [preferred]


def template_for(channel: Channel, template: str) -> str:
    """A step's template as `channel` can carry it: a text's on a call is the voice reminder,
    a call's on a text the friendly reminder."""
    if channel is Channel.VOICE and not template.startswith("voice_"):
        return "voice_reminder"
    if channel is Channel.SMS and template.startswith("voice_"):
        return "reminder_friendly"
    return template


def after_refusal(decision: Decision, now: datetime) -> StepEnd | None:
    """A refusal of the channel itself (opted out, unavailable): None, the next channel is
    tried. Any other: the step waits until the policy's earliest instant, a minute at least,
    or is skipped when the policy names none."""
    if decision.reason in OTHER_CHANNEL:
        return None
    earliest = decision.earliest
    return StepEnd(retry_at=earliest and max(earliest, now + RETRY_FLOOR))


def after_send(
    state: CaseState, channel: Channel, result: SendResult | None, now: datetime
) -> tuple[Decided, StepEnd | None]:
    """What a send's result (None: the provider stayed unreachable) means for the step: gone
    out, the step is over; unreachable, it waits PROVIDER_PAUSE; failed for no channel's fault,
    it is skipped; failed for the channel's, the case learns it (`after_failure`) and the next
    channel is tried (None)."""
    if result is None:
        return (state, ()), StepEnd(retry_at=now + PROVIDER_PAUSE)
    if result.status is not AttemptStatus.FAILED:
        return (state, ()), StepEnd(key=result.idempotency_key)
    if result.error_code is None:
        return (state, ()), StepEnd()
    return after_failure(state, channel, result.error_code), None


def after_failure(state: CaseState, channel: Channel, code: int) -> Decided:
    """What the provider's error says: an invalid number reaches nobody on any channel; a
    number that is no mobile takes no text; a carrier's unsubscribe is an opt-out of the
    channel; any other error closes the channel that failed."""
    if code in UNREACHABLE_CODES:
        dead = [Channel.SMS, Channel.VOICE]
    elif code in CHANNEL_DEAD_CODES:
        dead = [CHANNEL_DEAD_CODES[code]]
    elif code in OPT_OUT_CODES:
        opted = state.opted_out if channel in state.opted_out else [*state.opted_out, channel]
        why = f"unsubscribed at the carrier ({code})"
        return replace(state, opted_out=opted), (OptedOut(channel, why),)
    else:
        dead = [channel]
    unavailable = [*state.unavailable, *(c for c in dead if c not in state.unavailable)]
    closed = ChannelUnavailable(channels=", ".join(dead), error_code=code)
    return replace(state, unavailable=unavailable), (closed,)


def end_step(state: CaseState, end: StepEnd) -> CaseState:
    """Gone out, or skipped: the ladder moves on. Else the step waits until `end.retry_at`."""
    if end.key is not None or end.retry_at is None:
        return replace(state, ladder_index=state.ladder_index + 1, retry_contact_at=None)
    return replace(state, retry_contact_at=end.retry_at)


# --- what an attempt leaves on record ---------------------------------------------------------


def refused(state: CaseState, channel: Channel, template: str, decision: Decision) -> Decided:
    """A contact the policy refused, counted, with its reason and when it may go."""
    assert decision.reason is not None
    when = decision.earliest.isoformat() if decision.earliest else ""
    event = ContactRefused(channel, template, reason=decision.reason, may_go_at=when)
    return replace(state, refused_count=state.refused_count + 1), (event,)


def sent(state: CaseState, contact: PastContact, template: str) -> Decided:
    """A contact that went out: counted, and in the history the policy's caps read."""
    changed = replace(state, sent_count=state.sent_count + 1, contacts=[*state.contacts, contact])
    return changed, (ContactSent(contact.channel, template),)


# --- the policy's view of the case ------------------------------------------------------------


def policy_context(
    state: CaseState, channel: Channel, now: datetime, *, time_zone: str
) -> ContactContext:
    """What the contact policy is asked about the case: a pause, reported hardship, an active
    plan or an open complaint pause contact; an open promise and a forbearance hold it until
    the later of their ends; a legal referral holds it unless legal allows it."""
    promise = state.promise
    dept = state.departments
    paused_for = [
        state.paused_reason,
        state.hardship_reason,
        dept.plan_status == "active",
        complaint_rules.pausing(state),
    ]
    holds = [promise.check_at] if promise and promise.status == "open" else []
    holds += [dept.forbearance_until] if dept.forbearance_until else []
    return ContactContext(
        now=now,
        channel=channel,
        time_zone=time_zone,
        rules=state.assessment.strategy.contact,
        history=tuple(state.contacts),
        opted_out=frozenset(state.opted_out),
        unavailable=frozenset(state.unavailable),
        dispute_open=bool(state.dispute_reason),
        paused=any(paused_for),
        promise_until=max(holds) if holds else None,
        legal_hold=dept.legal_referral is not None and not dept.legal_contact_allowed,
        paid_in_full=state.outstanding_minor == 0,
        closed=state.stage is Stage.CLOSED,
        last_conversation_at=state.last_conversation_at,
        day_seconds=state.assessment.strategy.day_seconds,
    )


def allowed_until(context: ContactContext, horizon: timedelta) -> datetime:
    """How long a contact the policy allows at `context.now` stays allowed, up to `horizon`
    (to the second): the policy is asked again at later instants (the window is the rule that
    runs out)."""
    if decide(replace(context, now=context.now + horizon)).allowed:
        return context.now + horizon
    allowed, refused_at = timedelta(0), horizon
    while refused_at - allowed > timedelta(seconds=1):
        middle = (allowed + refused_at) / 2
        if decide(replace(context, now=context.now + middle)).allowed:
            allowed = middle
        else:
            refused_at = middle
    return context.now + allowed


def closing_template(state: CaseState) -> str | None:
    """The closing message a closed case sends, by text, if any: paid, cured or settled, to
    a customer who can take texts and has not opted out of them."""
    template = CLOSING_TEMPLATES.get(state.closed_reason)
    if template is None or Channel.SMS in state.opted_out or Channel.SMS in state.unavailable:
        return None
    return template


def closing_context(context: ContactContext) -> ContactContext:
    """A closing confirmation is not collection: only the window, the caps and opt-outs
    apply."""
    return ContactContext(
        now=context.now,
        channel=context.channel,
        time_zone=context.time_zone,
        rules=context.rules,
        history=context.history,
        opted_out=context.opted_out,
        unavailable=context.unavailable,
        day_seconds=context.day_seconds,
    )
