"""Reminders: the strategy's ladder, every contact checked by the contact policy first.

A contact the policy refuses for now waits on a durable timer until the earliest time it may
go; a channel that cannot reach the customer hands the step to the other channel.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.case_events import OptedOut
    from models.contact_events import (
        ChannelUnavailable,
        ContactDelayed,
        ContactFailed,
        ContactRefused,
        ContactSent,
    )
    from models.contracts import (
        AttemptStatus,
        ClosureReason,
        PastContact,
        RefusalReason,
        RefusedAttempt,
        SendInput,
        SendResult,
        Stage,
    )
    from models.strategy import Channel, LadderStep
    from workflows import case_rules as rules
    from workflows import complaint_rules, contact_rules
    from workflows.case_base import CaseBase, store
    from workflows.contact_policy import ContactContext, Decision, decide

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
PROVIDER_PAUSE = timedelta(hours=1)
CLOSING_TRIES = 24
UNREACHABLE_CODES = {21211}  # invalid number: no channel works
CHANNEL_DEAD_CODES = {21614: Channel.SMS}  # not a mobile: texts cannot reach it
OPT_OUT_CODES = {21610: Channel.SMS}  # the customer unsubscribed at the carrier
CLOSING_TEMPLATES = {
    ClosureReason.PAID: "closing_paid",
    ClosureReason.CURED: "closing_cured",
    ClosureReason.SETTLED: "closing_settled",
}


class CaseContact(CaseBase):
    def _current_step(self) -> LadderStep | None:
        state = self._live()
        steps = rules.ladder(state)
        return steps[state.ladder_index] if state.ladder_index < len(steps) else None

    async def _contact_step(self, now: datetime) -> None:
        state = self._live()
        self._skip_stale(now)
        step = self._current_step()
        if step is None:
            return
        sent = await self._try_contact(step.channel, step.template, now)
        if sent is not None or state.retry_contact_at is None:
            state.ladder_index += 1
            state.retry_contact_at = None

    def _channels_for(self, preferred: Channel) -> list[Channel]:
        state = self._live()
        other = Channel.VOICE if preferred is Channel.SMS else Channel.SMS
        usable = [c for c in (preferred, other) if c not in state.unavailable]
        return usable or [preferred]

    async def _try_contact(self, channel: Channel, template: str, now: datetime) -> str | None:
        """Sends on `channel` (or the other one when this one cannot reach the customer).

        Returns the attempt key when something went out. When the policy refuses for a while,
        sets `retry_contact_at`; when it refuses for good, leaves it None.
        """
        state = self._live()
        state.retry_contact_at = None
        for candidate in self._channels_for(channel):
            context = self._policy_context(candidate, now)
            decision = decide(context)
            if not decision.allowed:
                await self._record_refusal(candidate, template, now, decision)
                if decision.reason in (RefusalReason.OPTED_OUT, RefusalReason.CHANNEL_UNAVAILABLE):
                    continue
                # Never sooner than a minute: a policy answer of "now" must not spin the loop.
                earliest = decision.earliest
                state.retry_contact_at = earliest and max(earliest, now + timedelta(minutes=1))
                return None
            result = await self._send(
                candidate, self._template_for(candidate, template), _allowed_until(context)
            )
            if result is None:
                state.retry_contact_at = now + PROVIDER_PAUSE
                return None
            if result.status is not AttemptStatus.FAILED:
                return result.idempotency_key
            if result.error_code is None:
                return None  # not the channel's fault: the step is skipped
            self._steer_after_failure(candidate, result)
        return None

    @staticmethod
    def _template_for(channel: Channel, template: str) -> str:
        if channel is Channel.VOICE and not template.startswith("voice_"):
            return "voice_reminder"
        if channel is Channel.SMS and template.startswith("voice_"):
            return "reminder_friendly"
        return template

    def _policy_context(self, channel: Channel, now: datetime) -> ContactContext:
        state = self._live()
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
            time_zone=self._input.contact.time_zone,
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

    async def _record_refusal(
        self, channel: Channel, template: str, now: datetime, decision: Decision
    ) -> None:
        state = self._live()
        assert decision.reason is not None
        state.refused_count += 1
        refusal = RefusedAttempt(
            idempotency_key=self._next_key("r"),
            case_id=self._id,
            account_no=self._input.account.account_no,
            channel=channel,
            template=template,
            reason=decision.reason,
            at=now,
            retry_at=decision.earliest,
        )
        await store("record_refused_attempt", refusal)
        when = decision.earliest.isoformat() if decision.earliest else ""
        self._emit(ContactRefused(channel, template, reason=decision.reason, may_go_at=when))

    async def _send(
        self,
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
        state = self._live()
        give_up = max(until - workflow.now(), timedelta(seconds=1))
        contact = self._input.contact
        ladder = not key
        key = key or state.inflight_key or self._next_key("c")
        if ladder:
            state.inflight_key = key
        try:
            result: SendResult = await workflow.execute_activity(
                "send_contact",
                SendInput(
                    idempotency_key=key,
                    case_id=self._id,
                    account_no=self._input.account.account_no,
                    channel=channel,
                    to=contact_rules.mobile_of(state, contact.mobile),
                    language=contact.language,
                    template=template,
                    params={**self._message_params(), **(extra or {})},
                ),
                result_type=SendResult,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=give_up,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:
                # A message that can never be built (a template problem): skip it, loudly.
                if ladder:
                    state.inflight_key = None
                self._emit(ContactFailed(channel, template, cause=str(cause.type)))
                return SendResult(
                    idempotency_key=key, status=AttemptStatus.FAILED, reason=str(cause.type)
                )
            self._emit(ContactDelayed(channel, template))
            return None
        if ladder:
            state.inflight_key = None
        if result.status is AttemptStatus.FAILED:
            self._emit(ContactFailed(channel, template, cause=f"error {result.error_code}"))
            return result
        state.sent_count += 1
        state.contacts.append(
            PastContact(at=workflow.now(), channel=channel, status=result.status, key=key)
        )
        self._emit(ContactSent(channel, template))
        return result

    def _message_params(self) -> dict[str, str]:
        state = self._live()
        currency = self._input.account.currency
        return {
            "bank": state.assessment.strategy.sender_name,
            "last4": self._input.account.account_no[-4:],
            "amount": f"{currency} {state.overdue_minor // 100}.{state.overdue_minor % 100:02d}",
        }

    def _steer_after_failure(self, channel: Channel, result: SendResult) -> None:
        state = self._live()
        code = result.error_code or 0
        if code in UNREACHABLE_CODES:
            dead = [Channel.SMS, Channel.VOICE]
        elif code in CHANNEL_DEAD_CODES:
            dead = [CHANNEL_DEAD_CODES[code]]
        elif code in OPT_OUT_CODES:
            if channel not in state.opted_out:
                state.opted_out.append(channel)
            self._emit(OptedOut(channel, f"unsubscribed at the carrier ({code})"))
            return
        else:
            dead = [channel]
        for c in dead:
            if c not in state.unavailable:
                state.unavailable.append(c)
        self._emit(ChannelUnavailable(channels=", ".join(dead), error_code=code))

    async def _closing_message(self) -> None:
        state = self._live()
        template = CLOSING_TEMPLATES.get(state.closed_reason) if state.closed_reason else None
        if template is None or Channel.SMS in state.opted_out or Channel.SMS in state.unavailable:
            return
        for _ in range(CLOSING_TRIES):
            now = workflow.now()
            context = self._policy_context(Channel.SMS, now)
            # A closing confirmation is not collection: only the window, caps and opt-out apply.
            closing = ContactContext(
                now=now,
                channel=Channel.SMS,
                time_zone=context.time_zone,
                rules=context.rules,
                history=context.history,
                opted_out=context.opted_out,
                unavailable=context.unavailable,
                day_seconds=context.day_seconds,
            )
            decision = decide(closing)
            if not decision.allowed:
                if decision.earliest is None:
                    return
                await workflow.sleep(decision.earliest - now)
            elif await self._send(Channel.SMS, template, _allowed_until(closing)) is not None:
                return
            else:
                await workflow.sleep(PROVIDER_PAUSE)
        self._emit(
            ContactFailed(Channel.SMS, template, cause=f"gave up after {CLOSING_TRIES} tries")
        )


def _allowed_until(context: ContactContext) -> datetime:
    """How long a contact the policy allows at `context.now` stays allowed, up to SEND_GIVE_UP:
    the policy is asked again at later instants (the window is the rule that runs out)."""
    if decide(replace(context, now=context.now + SEND_GIVE_UP)).allowed:
        return context.now + SEND_GIVE_UP
    allowed, refused = timedelta(0), SEND_GIVE_UP
    while refused - allowed > timedelta(seconds=1):
        middle = (allowed + refused) / 2
        if decide(replace(context, now=context.now + middle)).allowed:
            allowed = middle
        else:
            refused = middle
    return context.now + allowed
