"""Operator actions on a case, as workflow updates with validators.

A validator refuses bad input before it enters history, with a message an operator can act
on. An update that arrives while the case is still being assessed waits for the assessment,
then is checked again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_writes import PaymentRow
    from models.contact_events import ContactOutcomeReported
    from models.contracts import (
        MAX_MINOR,
        Account,
        ActionResult,
        AttemptStatus,
        ChannelInput,
        CloseInput,
        ClosureReason,
        ContactOutcome,
        PastContact,
        PromiseToPayInput,
        ReasonInput,
        RecordPaymentInput,
        ResolveDisputeInput,
    )
    from models.money import money
    from models.people import COLLECTORS, SUPERVISORS
    from models.permissions import EVERYONE, taken_by
    from models.strategy import Channel
    from models.tasks import TaskKind
    from workflows import case_rules as rules
    from workflows.case_base import bounded, invalid
    from workflows.case_tasks import CaseTasks
    from workflows.steering_rules import SUPERVISOR


def _need_amount(amount_minor: int) -> None:
    if not 0 < amount_minor <= MAX_MINOR:
        raise invalid(f"amount must be positive and at most {MAX_MINOR}, got {amount_minor}")


def _need_channel(req: object) -> None:
    # A JSON null decodes to None whatever the input type: refuse it here, not in the handler.
    if not isinstance(req, ChannelInput) or not isinstance(req.channel, Channel):
        raise invalid("a channel (sms or voice) is required")


def _need_reason(text: str) -> None:
    if not text.strip():
        raise invalid("a reason is required")


class CaseActions(CaseTasks):
    def _same_currency(self, currency: str) -> None:
        if currency != self._input.account.currency:
            raise invalid(
                f"currency {currency} does not match the account's {self._input.account.currency}"
            )

    @workflow.update
    @taken_by(COLLECTORS)
    async def record_payment(self, req: RecordPaymentInput) -> ActionResult:
        state = await self._ready()
        if req.payment_ref in state.payment_refs:
            return self._result(f"payment {req.payment_ref} was already recorded", accepted=False)
        self._validate_payment(req)
        self._apply_plan_payment(req.amount_minor)
        self._payments.append(
            PaymentRow(
                payment_ref=req.payment_ref,
                amount_minor=req.amount_minor,
                currency=req.currency,
                received_at=workflow.now(),
            )
        )
        self._decided(rules.record_payment(state, req))
        outstanding = money(state.outstanding_minor, req.currency)
        return self._result(f"payment recorded; outstanding {outstanding}")

    @record_payment.validator
    def _validate_payment(self, req: RecordPaymentInput) -> None:
        bounded(req)
        if self._state is not None and req.payment_ref in self._state.payment_refs:
            return  # a repeat is answered, not refused
        _need_amount(req.amount_minor)
        self._same_currency(req.currency)
        if not req.payment_ref.strip():
            raise invalid("payment_ref is required")
        state = self._open_state()
        if state is not None and (problem := rules.payment_problem(state, req)):
            raise invalid(problem)

    @workflow.update
    @taken_by(COLLECTORS)
    async def promise_to_pay(self, req: PromiseToPayInput) -> ActionResult:
        state = await self._ready()
        self._validate_promise(req)
        self._make_promise(req)
        assert state.promise is not None
        paused_until = state.promise.check_at
        return self._result(f"promise recorded; contact paused until {paused_until:%Y-%m-%d}")

    @promise_to_pay.validator
    def _validate_promise(self, req: PromiseToPayInput) -> None:
        bounded(req)
        _need_amount(req.amount_minor)
        self._same_currency(req.currency)
        state = self._open_state()
        if state is None:
            return
        if req.amount_minor > state.outstanding_minor:
            raise invalid("promised amount is more than the outstanding balance")
        problem = rules.promise_problem(state, req, self._customer_today())
        if problem:
            raise invalid(problem)

    @workflow.update
    @taken_by(COLLECTORS)
    async def raise_dispute(self, req: ReasonInput) -> ActionResult:
        state = await self._ready()
        self._validate_dispute(req)
        self._decided(rules.raise_dispute(state, req))
        self._open_task(TaskKind.DISPUTE_INVESTIGATION, SUPERVISOR, "investigate the dispute")
        return self._result("dispute recorded; collection stops until it is resolved")

    @raise_dispute.validator
    def _validate_dispute(self, req: ReasonInput) -> None:
        bounded(req)
        _need_reason(req.reason)
        state = self._open_state()
        if state is not None and state.dispute_reason:
            raise invalid("a dispute is already open")

    @workflow.update
    @taken_by(SUPERVISORS)
    async def resolve_dispute(self, req: ResolveDisputeInput) -> ActionResult:
        state = await self._ready()
        self._validate_resolve(req)
        self._cancel_open_tasks("dispute resolved", kind=TaskKind.DISPUTE_INVESTIGATION)
        self._decided(rules.resolve_dispute(state, req, workflow.now()))
        if req.upheld:
            return self._result("dispute upheld; case closed")
        return self._result("dispute rejected; collection resumes")

    @resolve_dispute.validator
    def _validate_resolve(self, req: ResolveDisputeInput) -> None:
        bounded(req)
        _need_reason(req.reason)
        state = self._open_state()
        if state is not None and not state.dispute_reason:
            raise invalid("no dispute is open")

    @workflow.update
    @taken_by(COLLECTORS)
    async def report_hardship(self, req: ReasonInput) -> ActionResult:
        state = await self._ready()
        self._validate_hardship(req)
        self._decided(rules.report_hardship(state, req))
        self._start_risk_review(f"hardship: {req.reason}")
        return self._result("hardship recorded; contact paused for a risk review")

    @report_hardship.validator
    def _validate_hardship(self, req: ReasonInput) -> None:
        bounded(req)
        _need_reason(req.reason)
        self._open_state()

    @workflow.update
    @taken_by(COLLECTORS)
    async def opt_out(self, req: ChannelInput) -> ActionResult:
        # Honoured even on a closed case: a customer's "stop" is never refused.
        state = await self._ready()
        self._decided(rules.opt_out(state, req))
        return self._result(f"no more {req.channel} contact")

    @opt_out.validator
    def _validate_opt_out(self, req: ChannelInput) -> None:
        bounded(req)
        _need_channel(req)

    @workflow.update
    @taken_by(COLLECTORS)
    async def opt_in(self, req: ChannelInput) -> ActionResult:
        state = await self._ready()
        self._validate_opt_in(req)
        self._decided(rules.opt_in(state, req))
        return self._result(f"{req.channel} contact allowed again")

    @opt_in.validator
    def _validate_opt_in(self, req: ChannelInput) -> None:
        bounded(req)
        _need_channel(req)
        self._open_state()

    @workflow.update
    @taken_by(COLLECTORS)
    async def pause(self, req: ReasonInput) -> ActionResult:
        state = await self._ready()
        self._validate_pause(req)
        self._decided(rules.pause(state, req))
        return self._result("case paused; nothing goes out until it is resumed")

    @pause.validator
    def _validate_pause(self, req: ReasonInput) -> None:
        bounded(req)
        _need_reason(req.reason)
        state = self._open_state()
        if state is not None and state.paused_reason:
            raise invalid("case is already paused")

    @workflow.update
    @taken_by(COLLECTORS)
    async def resume(self, req: ReasonInput) -> ActionResult:
        state = await self._ready()
        self._validate_resume(req)
        self._decided(rules.resume(state, req, workflow.now()))
        return self._result("case resumed")

    @resume.validator
    def _validate_resume(self, req: ReasonInput) -> None:
        bounded(req)
        _need_reason(req.reason)
        state = self._open_state()
        if state is not None and not state.paused_reason:
            raise invalid("case is not paused")

    @workflow.update
    @taken_by(SUPERVISORS)
    async def close(self, req: CloseInput) -> ActionResult:
        await self._ready()
        self._validate_close(req)
        self._close(req.reason, req.note)
        return self._result(f"case closed as {req.reason}")

    @close.validator
    def _validate_close(self, req: CloseInput) -> None:
        bounded(req)
        if req.reason in (ClosureReason.PAID, ClosureReason.CURED):
            raise invalid(f"a case closes as {req.reason} by recording the payment")
        _need_reason(req.note)
        self._open_state()

    @workflow.update
    @taken_by(EVERYONE)
    async def refresh_account(self, account: Account) -> ActionResult:
        """The bank's daily file is the ledger: its balances replace the case's."""
        state = await self._ready()
        self._validate_refresh(account)
        changed, events = rules.refresh_balances(state, account)
        if not events:
            return ActionResult(accepted=True, message="balances unchanged", stage=state.stage)
        self._decided((changed, events))
        return self._result("balances refreshed")

    @refresh_account.validator
    def _validate_refresh(self, account: Account) -> None:
        bounded(account)
        mine = self._input.account
        if account.account_no != mine.account_no:
            raise invalid("the refresh is for another account")
        self._same_currency(account.currency)
        if not 0 <= account.overdue_minor <= account.outstanding_minor <= MAX_MINOR:
            raise invalid("balances must satisfy 0 <= overdue <= outstanding")
        self._open_state()

    @workflow.signal
    def contact_outcome(self, outcome: ContactOutcome) -> None:
        """A delivery or call status from the provider; an answered call is a contact made."""
        state = self._state
        if state is None:
            return
        for i, past in enumerate(state.contacts):
            if past.key == outcome.idempotency_key and past.status != outcome.status:
                state.contacts[i] = PastContact(
                    at=past.at, channel=past.channel, status=outcome.status, key=past.key
                )
                self._emit(ContactOutcomeReported(past.channel, outcome.status))
                self._note_delivery(past.key, past.channel, outcome.status)
                if outcome.status is AttemptStatus.ANSWERED and past.channel is Channel.VOICE:
                    self._changed = True
