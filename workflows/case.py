"""CollectionCaseWorkflow: one overdue account's whole life. Id: `case-<account_no>`.

Lifecycle: assess (scorecard picks a segment and its strategy) -> early stage (the segment's
reminder ladder by SMS and automated voice, every contact checked by the contact policy first;
a refused contact waits durably until it may go) -> collector stage past the collector
threshold -> closed (paid, cured, settled, written off, dispute upheld, manual).

Updates (validated before they enter history): record_payment, promise_to_pay, raise_dispute,
resolve_dispute, report_hardship, opt_out, opt_in, pause, resume, close.
Signal: contact_outcome (a delivery or call status from the provider).
Queries: status, timeline.
The case continues as new when its history grows long, carrying its whole state.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.contracts import (
        ActionResult,
        AssessInput,
        Assessment,
        AttemptStatus,
        AuditEntry,
        CaseInput,
        CaseSnapshot,
        CaseState,
        CaseStatus,
        CaseWrite,
        ChannelInput,
        CloseInput,
        ClosureReason,
        ContactOutcome,
        PastContact,
        PaymentRow,
        Promise,
        PromiseRow,
        PromiseToPayInput,
        ReasonInput,
        RecordPaymentInput,
        RefusalReason,
        RefusedAttempt,
        ResolveDisputeInput,
        SendInput,
        SendResult,
        Stage,
        TimelineEvent,
        case_id,
    )
    from models.strategy import Channel, LadderStep
    from models.visibility import BALANCE_BAND, CASE_STAGE, DAYS_PAST_DUE, SEGMENT, balance_band
    from workflows import case_rules as rules
    from workflows.contact_policy import ContactContext, Decision, decide

# Store writes are local and quick; they retry until the database is back.
STORE_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
}
# A send may hit 429/5xx for a while; exactly-once is the activity's job, so retrying is safe.
SEND_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=["PermanentSendError"],
    ),
}
HISTORY_LIMIT = 5_000
UNREACHABLE_CODES = {21211}  # invalid number: no channel works
CHANNEL_DEAD_CODES = {21614: Channel.SMS}  # not a mobile: texts cannot reach it
OPT_OUT_CODES = {21610: Channel.SMS}  # the customer unsubscribed at the carrier
CLOSING_TEMPLATES = {
    ClosureReason.PAID: "closing_paid",
    ClosureReason.CURED: "closing_cured",
    ClosureReason.SETTLED: "closing_settled",
}


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidAction", non_retryable=True)


@workflow.defn(name="CollectionCase")
class CollectionCaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._id = case_id(input.account.account_no)
        self._state: CaseState | None = input.carried
        self._audit: list[AuditEntry] = []
        self._changed = True
        self._payments: list[PaymentRow] = []
        self._promises: list[PromiseRow] = []
        self._opened = input.carried is None
        self._flushed_dpd = -1

    # --- the run --------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        state = self._state or await self._open(input)
        self._state = state
        while state.stage is not Stage.CLOSED:
            now = workflow.now()
            self._note_stage(now)
            await self._flush()
            if self._history_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._flush()
                rules.trim_for_carry(state, workflow.now())
                state.runs += 1
                workflow.continue_as_new(
                    CaseInput(
                        customer_ref=input.customer_ref,
                        contact=input.contact,
                        account=input.account,
                        strategy_version=input.strategy_version,
                        customer_name=input.customer_name,
                        carried=state,
                    )
                )
            action, at = self._next(now)
            if at > now:
                self._changed = False
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._changed, timeout=at - now)
                continue
            if action == "contact":
                await self._contact_step(now)
            elif action == "promise":
                self._check_promise(now)
        await self._closing_message()
        await self._flush()
        return self.status()

    async def _open(self, input: CaseInput) -> CaseState:
        now = workflow.now()
        assessment: Assessment = await workflow.execute_activity(
            "assess_case",
            AssessInput(
                account=input.account,
                strategy_version=input.strategy_version,
                as_of=now.date(),
            ),
            result_type=Assessment,
            **STORE_OPTIONS,  # type: ignore[arg-type]
        )
        state = CaseState(
            started_at=now,
            initial_dpd=max(0, (now.date() - input.account.oldest_due_date).days),
            assessment=assessment,
            outstanding_minor=input.account.outstanding_minor,
            overdue_minor=input.account.overdue_minor,
        )
        self._state = state
        lines = "; ".join(f"{line.factor} {line.points:+d}" for line in assessment.lines)
        self._event(
            "opened",
            f"strategy {assessment.strategy.name} {assessment.strategy.version}, "
            f"score {assessment.score} ({lines or 'no factor'}), segment {assessment.segment}",
        )
        return state

    # --- what comes next ------------------------------------------------------------------

    def _next(self, now: datetime) -> tuple[str, datetime]:
        """The next thing this case will do by itself, and when."""
        state = self._live()
        candidates: list[tuple[datetime, str]] = []
        strategy = state.assessment.strategy
        refresh = now + rules.day(strategy) * strategy.check_every_days
        candidates.append((refresh, "refresh"))
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
        at, action = min(candidates)
        return action, at

    def _next_action_text(self) -> tuple[str, datetime | None]:
        state = self._live()
        if state.stage is Stage.CLOSED:
            return "none: case closed", None
        if state.paused_reason:
            return "none while paused", None
        if state.dispute_reason:
            return "none while the dispute is investigated", None
        action, at = self._next(workflow.now())
        step = self._current_step()
        words = {
            "contact": f"{step.channel} reminder ({step.template})" if step else "contact",
            "promise": "check the promise to pay",
            "stage": "move to the collector stage",
            "refresh": "review the case",
        }
        return words[action], at

    def _current_step(self) -> LadderStep | None:
        state = self._live()
        steps = rules.ladder(state)
        return steps[state.ladder_index] if state.ladder_index < len(steps) else None

    def _contact_blocked(self) -> bool:
        """Blocks that need an operator to lift; they stop the ladder's clock entirely."""
        state = self._live()
        return bool(state.paused_reason or state.dispute_reason or state.hardship_reason)

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

    def _set_stage(self, stage: Stage, why: str) -> None:
        state = self._live()
        if state.stage is not stage:
            self._event("stage", f"{state.stage} -> {stage}: {why}")
            state.stage = stage

    # --- contact --------------------------------------------------------------------------

    async def _contact_step(self, now: datetime) -> None:
        state = self._live()
        skipped = rules.skip_stale_steps(state, now)
        if skipped:
            self._event("ladder", f"{skipped} stale reminder(s) skipped after a pause")
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
            decision = decide(self._policy_context(candidate, now))
            if not decision.allowed:
                await self._record_refusal(candidate, template, now, decision)
                if decision.reason in (RefusalReason.OPTED_OUT, RefusalReason.CHANNEL_UNAVAILABLE):
                    continue
                # Never sooner than a minute: a policy answer of "now" must not spin the loop.
                earliest = decision.earliest
                state.retry_contact_at = earliest and max(earliest, now + timedelta(minutes=1))
                return None
            result = await self._send(candidate, self._template_for(candidate, template))
            if result.status is not AttemptStatus.FAILED:
                return result.idempotency_key
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
        return ContactContext(
            now=now,
            channel=channel,
            time_zone=self._input.contact.time_zone,
            rules=state.assessment.strategy.contact,
            history=tuple(state.contacts),
            opted_out=frozenset(state.opted_out),
            unavailable=frozenset(state.unavailable),
            dispute_open=bool(state.dispute_reason),
            paused=bool(state.paused_reason or state.hardship_reason),
            promise_until=promise.check_at if promise and promise.status == "open" else None,
            paid_in_full=state.outstanding_minor == 0,
            closed=state.stage is Stage.CLOSED,
            last_conversation_at=state.last_conversation_at,
            day_seconds=state.assessment.strategy.day_seconds,
        )

    def _next_key(self, kind: str) -> str:
        state = self._live()
        state.attempt_seq += 1
        return f"{self._id}/{kind}{state.attempt_seq}"

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
        await workflow.execute_activity(
            "record_refused_attempt",
            refusal,
            **STORE_OPTIONS,  # type: ignore[arg-type]
        )
        when = f", may go at {decision.earliest.isoformat()}" if decision.earliest else ""
        self._event("contact_refused", f"{channel} {template}: {decision.reason}{when}")

    async def _send(self, channel: Channel, template: str) -> SendResult:
        state = self._live()
        contact = self._input.contact
        key = self._next_key("c")
        result: SendResult = await workflow.execute_activity(
            "send_contact",
            SendInput(
                idempotency_key=key,
                case_id=self._id,
                account_no=self._input.account.account_no,
                channel=channel,
                to=contact.mobile,
                language=contact.language,
                template=template,
                params=self._message_params(),
            ),
            result_type=SendResult,
            **SEND_OPTIONS,  # type: ignore[arg-type]
        )
        if result.status is AttemptStatus.FAILED:
            self._event("contact_failed", f"{channel} {template}: error {result.error_code}")
            return result
        state.sent_count += 1
        state.contacts.append(
            PastContact(at=workflow.now(), channel=channel, status=result.status, key=key)
        )
        self._event("contact_sent", f"{channel} {template}")
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
            self._event("opted_out", f"{channel}: unsubscribed at the carrier ({code})")
            return
        else:
            dead = [channel]
        for c in dead:
            if c not in state.unavailable:
                state.unavailable.append(c)
        self._event("channel_unavailable", f"{', '.join(dead)}: provider error {code}")

    async def _closing_message(self) -> None:
        state = self._live()
        template = CLOSING_TEMPLATES.get(state.closed_reason) if state.closed_reason else None
        if template is None or Channel.SMS in state.opted_out or Channel.SMS in state.unavailable:
            return
        while True:
            now = workflow.now()
            context = self._policy_context(Channel.SMS, now)
            # A closing confirmation is not collection: only the window and opt-out apply.
            decision = decide(
                ContactContext(
                    now=now,
                    channel=Channel.SMS,
                    time_zone=context.time_zone,
                    rules=context.rules,
                    history=context.history,
                    opted_out=context.opted_out,
                    unavailable=context.unavailable,
                    day_seconds=context.day_seconds,
                )
            )
            if decision.allowed:
                await self._send(Channel.SMS, template)
                return
            if decision.earliest is None:
                return
            await workflow.sleep(decision.earliest - now)

    # --- promises -------------------------------------------------------------------------

    def _check_promise(self, now: datetime) -> None:
        state = self._live()
        promise = state.promise
        if promise is None or promise.status != "open" or now < promise.check_at:
            return
        if rules.promise_met(state, promise):
            promise.status = "kept"
            state.promises_kept += 1
            self._event("promise_kept", f"{promise.paid_since_minor} paid by the date")
        else:
            promise.status = "broken"
            state.promises_broken += 1
            self._event(
                "promise_broken",
                f"{promise.paid_since_minor} of {promise.amount_minor} paid; contact resumes",
            )
        self._promise_row(promise)
        rules.skip_stale_steps(state, now)

    # --- updates --------------------------------------------------------------------------

    def _live(self) -> CaseState:
        if self._state is None:
            raise ApplicationError("the case is still being assessed", type="NotReady")
        return self._state

    def _require_open(self) -> CaseState:
        state = self._live()
        if state.stage is Stage.CLOSED:
            raise ApplicationError(
                f"case is closed ({state.closed_reason})", type="CaseClosed", non_retryable=True
            )
        return state

    def _result(self, message: str, accepted: bool = True) -> ActionResult:
        self._changed = True
        return ActionResult(accepted=accepted, message=message, stage=self._live().stage)

    def _close(self, reason: ClosureReason, why: str) -> None:
        state = self._live()
        state.closed_reason = reason
        self._set_stage(Stage.CLOSED, f"{reason}: {why}")

    @workflow.update
    async def record_payment(self, req: RecordPaymentInput) -> ActionResult:
        state = self._live()
        if req.payment_ref in state.payment_refs:
            return self._result(f"payment {req.payment_ref} was already recorded", accepted=False)
        effect = rules.apply_payment(state, req)
        self._payments.append(
            PaymentRow(
                payment_ref=req.payment_ref,
                amount_minor=req.amount_minor,
                currency=req.currency,
                received_at=workflow.now(),
            )
        )
        self._event("payment", f"{req.amount_minor} {req.currency} ref {req.payment_ref}")
        if effect.promise_kept and state.promise is not None:
            self._promise_row(state.promise)
            self._event("promise_kept", "paid within tolerance")
        if effect.closes_as is not None:
            self._close(effect.closes_as, f"payment {req.payment_ref}")
        return self._result(
            f"payment recorded; outstanding {state.outstanding_minor} {req.currency}"
        )

    @record_payment.validator
    def _validate_payment(self, req: RecordPaymentInput) -> None:
        if self._state is not None and req.payment_ref in self._state.payment_refs:
            return  # a repeat is answered, not refused
        self._require_open()
        if req.amount_minor <= 0:
            raise invalid(f"amount must be positive, got {req.amount_minor}")
        if req.currency != self._input.account.currency:
            raise invalid(
                f"currency {req.currency} does not match the account's "
                f"{self._input.account.currency}"
            )
        if not req.payment_ref.strip():
            raise invalid("payment_ref is required")

    @workflow.update
    async def promise_to_pay(self, req: PromiseToPayInput) -> ActionResult:
        promise = rules.open_promise(self._live(), req, workflow.now())
        promise.key = self._next_key("p")
        self._promise_row(promise)
        self._event(
            "promise",
            f"{req.amount_minor} {req.currency} by {req.promised_date.isoformat()}; "
            f"contact paused until {promise.check_at.isoformat()}",
        )
        return self._result(f"promise recorded; contact paused until {promise.check_at:%Y-%m-%d}")

    @promise_to_pay.validator
    def _validate_promise(self, req: PromiseToPayInput) -> None:
        state = self._require_open()
        if req.amount_minor <= 0:
            raise invalid(f"amount must be positive, got {req.amount_minor}")
        if req.currency != self._input.account.currency:
            raise invalid(f"currency {req.currency} does not match the account's")
        if req.amount_minor > state.outstanding_minor:
            raise invalid("promised amount is more than the outstanding balance")
        problem = rules.promise_problem(state, req, workflow.now().date())
        if problem:
            raise invalid(problem)

    @workflow.update
    async def raise_dispute(self, req: ReasonInput) -> ActionResult:
        self._live().dispute_reason = req.reason
        self._event("dispute_raised", req.reason)
        return self._result("dispute recorded; collection stops until it is resolved")

    @raise_dispute.validator
    def _validate_dispute(self, req: ReasonInput) -> None:
        state = self._require_open()
        if state.dispute_reason:
            raise invalid("a dispute is already open")
        self._need_reason(req.reason)

    @workflow.update
    async def resolve_dispute(self, req: ResolveDisputeInput) -> ActionResult:
        state = self._live()
        state.dispute_reason = ""
        outcome = "upheld" if req.upheld else "rejected"
        self._event("dispute_resolved", f"{outcome}: {req.reason}")
        if req.upheld:
            self._close(ClosureReason.DISPUTE_UPHELD, req.reason)
            return self._result("dispute upheld; case closed")
        rules.skip_stale_steps(state, workflow.now())
        return self._result("dispute rejected; collection resumes")

    @resolve_dispute.validator
    def _validate_resolve(self, req: ResolveDisputeInput) -> None:
        if not self._require_open().dispute_reason:
            raise invalid("no dispute is open")
        self._need_reason(req.reason)

    @workflow.update
    async def report_hardship(self, req: ReasonInput) -> ActionResult:
        state = self._live()
        state.hardship_reason = req.reason
        self._set_stage(Stage.RISK_REVIEW, "hardship reported")
        self._event("hardship", req.reason)
        return self._result("hardship recorded; contact paused for a risk review")

    @report_hardship.validator
    def _validate_hardship(self, req: ReasonInput) -> None:
        self._require_open()
        self._need_reason(req.reason)

    @workflow.update
    async def opt_out(self, req: ChannelInput) -> ActionResult:
        state = self._live()
        if req.channel not in state.opted_out:
            state.opted_out.append(req.channel)
            self._event("opted_out", f"{req.channel}: {req.reason or 'customer request'}")
        return self._result(f"no more {req.channel} contact")

    @opt_out.validator
    def _validate_opt_out(self, req: ChannelInput) -> None:
        self._live()

    @workflow.update
    async def opt_in(self, req: ChannelInput) -> ActionResult:
        state = self._live()
        if req.channel in state.opted_out:
            state.opted_out.remove(req.channel)
            self._event("opted_in", f"{req.channel}: {req.reason or 'customer request'}")
        return self._result(f"{req.channel} contact allowed again")

    @opt_in.validator
    def _validate_opt_in(self, req: ChannelInput) -> None:
        self._require_open()

    @workflow.update
    async def pause(self, req: ReasonInput) -> ActionResult:
        self._live().paused_reason = req.reason
        self._event("paused", req.reason)
        return self._result("case paused; nothing goes out until it is resumed")

    @pause.validator
    def _validate_pause(self, req: ReasonInput) -> None:
        if self._require_open().paused_reason:
            raise invalid("case is already paused")
        self._need_reason(req.reason)

    @workflow.update
    async def resume(self, req: ReasonInput) -> ActionResult:
        state = self._live()
        state.paused_reason = ""
        rules.skip_stale_steps(state, workflow.now())
        self._event("resumed", req.reason)
        return self._result("case resumed")

    @resume.validator
    def _validate_resume(self, req: ReasonInput) -> None:
        if not self._require_open().paused_reason:
            raise invalid("case is not paused")
        self._need_reason(req.reason)

    @workflow.update
    async def close(self, req: CloseInput) -> ActionResult:
        self._close(req.reason, req.note)
        return self._result(f"case closed as {req.reason}")

    @close.validator
    def _validate_close(self, req: CloseInput) -> None:
        self._require_open()
        if req.reason in (ClosureReason.PAID, ClosureReason.CURED):
            raise invalid(f"a case closes as {req.reason} by recording the payment")
        self._need_reason(req.note)

    @staticmethod
    def _need_reason(text: str) -> None:
        if not text.strip():
            raise invalid("a reason is required")

    @workflow.signal
    def contact_outcome(self, outcome: ContactOutcome) -> None:
        state = self._state
        if state is None:
            return
        for i, past in enumerate(state.contacts):
            if past.key == outcome.idempotency_key and past.status != outcome.status:
                state.contacts[i] = PastContact(
                    at=past.at, channel=past.channel, status=outcome.status, key=past.key
                )
                self._event("contact_outcome", f"{past.channel}: {outcome.status}")
                if outcome.status is AttemptStatus.ANSWERED and past.channel is Channel.VOICE:
                    self._changed = True

    # --- queries --------------------------------------------------------------------------

    @workflow.query
    def status(self) -> CaseStatus:
        state = self._live()
        action, at = self._next_action_text()
        account = self._input.account
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
        )

    @workflow.query
    def timeline(self) -> list[TimelineEvent]:
        return list(self._live().timeline)

    # --- records --------------------------------------------------------------------------

    def _strategy_label(self) -> str:
        strategy = self._live().assessment.strategy
        return f"{strategy.name}@{strategy.version}"

    def _event(self, kind: str, detail: str) -> None:
        state = self._live()
        now = workflow.now()
        state.timeline.append(TimelineEvent(at=now, kind=kind, detail=detail))
        if len(state.timeline) > 2 * rules.TIMELINE_KEPT:
            del state.timeline[: -rules.TIMELINE_KEPT]
        state.audit_seq += 1
        self._audit.append(
            AuditEntry(case_id=self._id, seq=state.audit_seq, at=now, kind=kind, detail=detail)
        )
        self._changed = True

    async def _flush(self) -> None:
        """Writes what changed to the read model: the case row, the audit log, new rows."""
        state = self._live()
        now = workflow.now()
        dpd = rules.days_past_due(state, now)
        pending = self._audit or self._payments or self._promises
        if not pending and dpd == self._flushed_dpd:
            return
        self._flushed_dpd = dpd
        workflow.upsert_search_attributes(
            [
                CASE_STAGE.value_set(str(state.stage)),
                DAYS_PAST_DUE.value_set(dpd),
                SEGMENT.value_set(str(state.assessment.segment)),
                BALANCE_BAND.value_set(balance_band(state.outstanding_minor)),
            ]
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
            opened=self._input if self._opened else None,
        )
        self._audit, self._payments, self._promises = [], [], []
        self._opened = False
        await workflow.execute_activity(
            "write_case",
            write,
            **STORE_OPTIONS,  # type: ignore[arg-type]
        )

    def _promise_row(self, promise: Promise) -> None:
        self._promises.append(
            PromiseRow(
                key=promise.key,
                amount_minor=promise.amount_minor,
                currency=self._input.account.currency,
                promised_date=promise.promised_date,
                made_at=promise.made_at,
                status=promise.status,
                resolved_at=None if promise.status == "open" else workflow.now(),
            )
        )

    def _history_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested() or info.get_current_history_length() > HISTORY_LIMIT
        )
