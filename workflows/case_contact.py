"""Reminders: the strategy's ladder, every contact checked by the contact policy first; the
send under its idempotency key; the provider's reports (`contact_outcome`). Functions over the
case's shell (`CaseShell`).

A contact the policy refuses for now waits on a durable timer until the earliest time it may
go; a channel that cannot reach the customer hands the step to the other channel. What a step
decides (which step, which channels, what a refusal or a send's result means, what goes on
record) is `ladder_rules`'; here is the shell around it: the policy asked, a refusal's row
stored, the send activity under its idempotency key, the closing message's waits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from models.contact_events import ContactDelayed, ContactFailed, ContactOutcomeReported
    from models.contracts import (
        AttemptStatus,
        ContactOutcome,
        PastContact,
        RefusedAttempt,
        SendInput,
        SendResult,
    )
    from models.strategy import Channel, LadderStep
    from workflows import contact_rules, ladder_rules
    from workflows.case_base import store
    from workflows.case_shell import CaseShell
    from workflows.changes import LOCAL_SEND
    from workflows.contact_policy import ContactContext, Decision, decide
    from workflows.ladder_rules import PROVIDER_PAUSE, StepEnd

# A send may meet 429/5xx for a while; exactly-once is the activity's job, so retrying is safe.
# The case stops trying after SEND_GIVE_UP, or sooner when the policy would refuse the contact
# by then (the window closes), and plans it again through the policy, so a provider outage never
# pushes a reminder out of the contact window.
SEND_TIMEOUT = timedelta(seconds=60)
SEND_GIVE_UP = timedelta(hours=1)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
)
ONE_TRY = RetryPolicy(maximum_attempts=1)
CLOSING_TRIES = 24


def current_step(shell: CaseShell) -> LadderStep | None:
    return ladder_rules.current_step(shell.live())


async def contact_step(shell: CaseShell, now: datetime) -> None:
    """The ladder's step due now, tried; what follows it is `ladder_rules`' to decide."""
    shell.decided(ladder_rules.due_step(shell.live(), now))
    step = current_step(shell)
    if step is None:
        return
    end = await _try_contact(shell, step.channel, step.template, now)
    shell.decided((ladder_rules.end_step(shell.live(), end), ()))


async def _try_contact(shell: CaseShell, channel: Channel, template: str, now: datetime) -> StepEnd:
    """Sends on `channel` (or the other one when this one cannot reach the customer)."""
    for candidate in ladder_rules.channels_for(shell.live(), channel):
        context = policy_context(shell, candidate, now)
        decision = decide(context)
        if not decision.allowed:
            if shell.changes.taken(LOCAL_SEND):
                await shell.flush()  # held back for after a send (`sends_first`): none goes
            await record_refusal(shell, candidate, template, now, decision)
            end = ladder_rules.after_refusal(decision, now)
        else:
            text = ladder_rules.template_for(candidate, template)
            result = await send(shell, candidate, text, _allowed_until(context))
            decided, end = ladder_rules.after_send(shell.live(), candidate, result, now)
            shell.decided(decided)
        if end is not None:
            return end
    return StepEnd()


def policy_context(shell: CaseShell, channel: Channel, now: datetime) -> ContactContext:
    return ladder_rules.policy_context(shell.live(), channel, now, time_zone=shell.time_zone)


async def record_refusal(
    shell: CaseShell, channel: Channel, template: str, now: datetime, decision: Decision
) -> None:
    """The refusal is counted at once, and goes on the timeline once its row is stored."""
    assert decision.reason is not None
    counted, events = ladder_rules.refused(shell.live(), channel, template, decision)
    shell.decided((counted, ()))
    refusal = RefusedAttempt(
        idempotency_key=shell.next_key("r"),
        case_id=shell.id,
        account_no=shell.input.account.account_no,
        channel=channel,
        template=template,
        reason=decision.reason,
        at=now,
        retry_at=decision.earliest,
    )
    await store("record_refused_attempt", refusal)
    for event in events:
        shell.emit(event)


async def send(
    shell: CaseShell,
    channel: Channel,
    template: str,
    until: datetime,
    *,
    key: str = "",
    extra: dict[str, str] | None = None,
) -> SendResult | None:
    """One attempt through the provider, retried no later than `until`; None when the
    provider stayed unreachable.

    The ladder's key is kept until the attempt is settled, so a send that timed out is
    retried under the same key later and the activity can find out whether it went out.
    A collector's call passes its own `key` (it is not the ladder's, and is not retried
    once the collector has stopped waiting) and its `extra` params.
    """
    state = shell.live()
    contact = shell.input.contact
    ladder = not key
    key = key or state.inflight_key or shell.next_key("c")
    if ladder:
        state.inflight_key = key
    request = SendInput(
        idempotency_key=key,
        case_id=shell.id,
        account_no=shell.input.account.account_no,
        channel=channel,
        to=contact_rules.mobile_of(state, contact.mobile),
        language=contact.language,
        template=template,
        params={**_message_params(shell), **(extra or {})},
    )
    try:
        local = ladder and shell.changes.taken(LOCAL_SEND)
        result = await _send_contact(shell, request, until, local=local)
    except ActivityError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.non_retryable:
            # A message that can never be built (a template problem): skip it, loudly.
            if ladder:
                state.inflight_key = None
            shell.emit(ContactFailed(channel, template, cause=str(cause.type)))
            return SendResult(
                idempotency_key=key, status=AttemptStatus.FAILED, reason=str(cause.type)
            )
        shell.emit(ContactDelayed(channel, template))
        return None
    if ladder:
        state.inflight_key = None
    if result.status is AttemptStatus.FAILED:
        shell.emit(ContactFailed(channel, template, cause=f"error {result.error_code}"))
        return result
    past = PastContact(at=workflow.now(), channel=channel, status=result.status, key=key)
    shell.decided(ladder_rules.sent(shell.live(), past, template))
    return result


async def _send_contact(
    shell: CaseShell, request: SendInput, until: datetime, *, local: bool
) -> SendResult:
    """The send activity, retried no later than `until`. `local`: its first try runs in this
    workflow task, and a try that fails goes on as an activity, whose retries an engineer sees
    in the case's pending activities and history (a message that can never be built fails
    there at once); what the case held back to write after the send is written before that
    activity, which may take an hour. Exactly once holds across the two: both send under one
    key."""
    if local:
        try:
            return await _run_send(workflow.execute_local_activity, request, until, ONE_TRY)
        except FailureError as err:  # a local try's failure arrives unwrapped
            if isinstance(err, CancelledError):
                raise
            await shell.flush()
    return await _run_send(workflow.execute_activity, request, until, SEND_RETRY)


async def _run_send(
    run: Callable[..., Awaitable[Any]], request: SendInput, until: datetime, retry: RetryPolicy
) -> SendResult:
    result: SendResult = await run(
        "send_contact",
        request,
        result_type=SendResult,
        start_to_close_timeout=SEND_TIMEOUT,
        schedule_to_close_timeout=_give_up(until),
        retry_policy=retry,
    )
    return result


def _give_up(until: datetime) -> timedelta:
    return max(until - workflow.now(), timedelta(seconds=1))


def _message_params(shell: CaseShell) -> dict[str, str]:
    state = shell.live()
    currency = shell.input.account.currency
    return {
        "bank": state.assessment.strategy.sender_name,
        "last4": shell.input.account.account_no[-4:],
        "amount": f"{currency} {state.overdue_minor // 100}.{state.overdue_minor % 100:02d}",
    }


async def closing_message(shell: CaseShell) -> None:
    template = ladder_rules.closing_template(shell.live())
    if template is None:
        return
    for _ in range(CLOSING_TRIES):
        now = workflow.now()
        closing = ladder_rules.closing_context(policy_context(shell, Channel.SMS, now))
        decision = decide(closing)
        if not decision.allowed:
            if decision.earliest is None:
                return
            await workflow.sleep(decision.earliest - now)
        elif await send(shell, Channel.SMS, template, _allowed_until(closing)) is not None:
            return
        else:
            await workflow.sleep(PROVIDER_PAUSE)
    shell.emit(ContactFailed(Channel.SMS, template, cause=f"gave up after {CLOSING_TRIES} tries"))


def contact_outcome(shell: CaseShell, outcome: ContactOutcome) -> None:
    """A delivery or call status from the provider; an answered call is a contact made, and a
    delivered text or an answered call an effective contact, with its evidence."""
    state = shell.state
    if state is None:
        return
    for i, past in enumerate(state.contacts):
        if past.key == outcome.idempotency_key and past.status != outcome.status:
            state.contacts[i] = PastContact(
                at=past.at, channel=past.channel, status=outcome.status, key=past.key
            )
            shell.emit(ContactOutcomeReported(past.channel, outcome.status))
            if outcome.status in (AttemptStatus.DELIVERED, AttemptStatus.ANSWERED):
                shell.add_evidence(workflow.now(), f"{past.channel} {outcome.status}", past.key)
            if outcome.status is AttemptStatus.ANSWERED and past.channel is Channel.VOICE:
                shell.changed = True


def _allowed_until(context: ContactContext) -> datetime:
    return ladder_rules.allowed_until(context, SEND_GIVE_UP)
