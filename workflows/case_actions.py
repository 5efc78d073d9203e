"""Operator actions on a case: the handlers and validators of its updates, as functions over
the case's shell (`CaseShell`); the workflow class declares each update and calls them.

A validator refuses bad input before it enters history, with a message an operator can act
on. An update that arrives while the case is still being assessed waits for the assessment
(`ready`), then is checked again, and adopts what the case's rule decides (`decided`).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_writes import PaymentRow
    from models.contracts import (
        MAX_MINOR,
        Account,
        ActionResult,
        ChannelInput,
        CloseInput,
        ClosureReason,
        PromiseToPayInput,
        ReasonInput,
        RecordPaymentInput,
        ResolveDisputeInput,
    )
    from models.money import money
    from models.strategy import Channel
    from models.tasks import TaskKind
    from workflows import case_rules as rules
    from workflows.case_base import bounded, invalid, need_reason
    from workflows.case_handoffs import apply_plan_payment, start_risk_review
    from workflows.case_shell import CaseShell
    from workflows.steering_rules import SUPERVISOR


def _need_amount(amount_minor: int) -> None:
    if not 0 < amount_minor <= MAX_MINOR:
        raise invalid(f"amount must be positive and at most {MAX_MINOR}, got {amount_minor}")


def _need_channel(req: object) -> None:
    # A JSON null decodes to None whatever the input type: refuse it here, not in the handler.
    if not isinstance(req, ChannelInput) or not isinstance(req.channel, Channel):
        raise invalid("a channel (sms or voice) is required")


def _same_currency(shell: CaseShell, currency: str) -> None:
    if currency != shell.input.account.currency:
        raise invalid(
            f"currency {currency} does not match the account's {shell.input.account.currency}"
        )


async def record_payment(shell: CaseShell, req: RecordPaymentInput) -> ActionResult:
    state = await shell.ready()
    if req.payment_ref in state.payment_refs:
        return shell.result(f"payment {req.payment_ref} was already recorded", accepted=False)
    validate_payment(shell, req)
    apply_plan_payment(shell, req.amount_minor)
    shell.records.payments.append(
        PaymentRow(
            payment_ref=req.payment_ref,
            amount_minor=req.amount_minor,
            currency=req.currency,
            received_at=workflow.now(),
        )
    )
    shell.decided(rules.record_payment(state, req))
    outstanding = money(state.outstanding_minor, req.currency)
    return shell.result(f"payment recorded; outstanding {outstanding}")


def validate_payment(shell: CaseShell, req: RecordPaymentInput) -> None:
    bounded(req)
    if shell.state is not None and req.payment_ref in shell.state.payment_refs:
        return  # a repeat is answered, not refused
    _need_amount(req.amount_minor)
    _same_currency(shell, req.currency)
    if not req.payment_ref.strip():
        raise invalid("payment_ref is required")
    state = shell.open_state()
    if state is not None and (problem := rules.payment_problem(state, req)):
        raise invalid(problem)


async def promise_to_pay(shell: CaseShell, req: PromiseToPayInput) -> ActionResult:
    state = await shell.ready()
    validate_promise(shell, req)
    shell.make_promise(req)
    assert state.promise is not None
    paused_until = state.promise.check_at
    return shell.result(f"promise recorded; contact paused until {paused_until:%Y-%m-%d}")


def validate_promise(shell: CaseShell, req: PromiseToPayInput) -> None:
    bounded(req)
    _need_amount(req.amount_minor)
    _same_currency(shell, req.currency)
    state = shell.open_state()
    if state is None:
        return
    if req.amount_minor > state.outstanding_minor:
        raise invalid("promised amount is more than the outstanding balance")
    problem = rules.promise_problem(state, req, shell.customer_today())
    if problem:
        raise invalid(problem)


async def raise_dispute(shell: CaseShell, req: ReasonInput) -> ActionResult:
    state = await shell.ready()
    validate_dispute(shell, req)
    shell.decided(rules.raise_dispute(state, req))
    shell.open_task(TaskKind.DISPUTE_INVESTIGATION, SUPERVISOR, "investigate the dispute")
    return shell.result("dispute recorded; collection stops until it is resolved")


def validate_dispute(shell: CaseShell, req: ReasonInput) -> None:
    bounded(req)
    need_reason(req.reason)
    state = shell.open_state()
    if state is not None and state.dispute_reason:
        raise invalid("a dispute is already open")


async def resolve_dispute(shell: CaseShell, req: ResolveDisputeInput) -> ActionResult:
    state = await shell.ready()
    validate_resolve(shell, req)
    shell.cancel_open_tasks("dispute resolved", kind=TaskKind.DISPUTE_INVESTIGATION)
    shell.decided(rules.resolve_dispute(state, req, workflow.now()))
    if req.upheld:
        return shell.result("dispute upheld; case closed")
    return shell.result("dispute rejected; collection resumes")


def validate_resolve(shell: CaseShell, req: ResolveDisputeInput) -> None:
    bounded(req)
    need_reason(req.reason)
    state = shell.open_state()
    if state is not None and not state.dispute_reason:
        raise invalid("no dispute is open")


async def report_hardship(shell: CaseShell, req: ReasonInput) -> ActionResult:
    state = await shell.ready()
    validate_hardship(shell, req)
    shell.decided(rules.report_hardship(state, req))
    start_risk_review(shell, f"hardship: {req.reason}")
    return shell.result("hardship recorded; contact paused for a risk review")


def validate_hardship(shell: CaseShell, req: ReasonInput) -> None:
    bounded(req)
    need_reason(req.reason)
    shell.open_state()


async def opt_out(shell: CaseShell, req: ChannelInput) -> ActionResult:
    # Honoured even on a closed case: a customer's "stop" is never refused.
    state = await shell.ready()
    shell.decided(rules.opt_out(state, req))
    return shell.result(f"no more {req.channel} contact")


def validate_opt_out(shell: CaseShell, req: ChannelInput) -> None:
    bounded(req)
    _need_channel(req)


async def opt_in(shell: CaseShell, req: ChannelInput) -> ActionResult:
    state = await shell.ready()
    validate_opt_in(shell, req)
    shell.decided(rules.opt_in(state, req))
    return shell.result(f"{req.channel} contact allowed again")


def validate_opt_in(shell: CaseShell, req: ChannelInput) -> None:
    bounded(req)
    _need_channel(req)
    shell.open_state()


async def pause(shell: CaseShell, req: ReasonInput) -> ActionResult:
    state = await shell.ready()
    validate_pause(shell, req)
    shell.decided(rules.pause(state, req))
    return shell.result("case paused; nothing goes out until it is resumed")


def validate_pause(shell: CaseShell, req: ReasonInput) -> None:
    bounded(req)
    need_reason(req.reason)
    state = shell.open_state()
    if state is not None and state.paused_reason:
        raise invalid("case is already paused")


async def resume(shell: CaseShell, req: ReasonInput) -> ActionResult:
    state = await shell.ready()
    validate_resume(shell, req)
    shell.decided(rules.resume(state, req, workflow.now()))
    return shell.result("case resumed")


def validate_resume(shell: CaseShell, req: ReasonInput) -> None:
    bounded(req)
    need_reason(req.reason)
    state = shell.open_state()
    if state is not None and not state.paused_reason:
        raise invalid("case is not paused")


async def close(shell: CaseShell, req: CloseInput) -> ActionResult:
    await shell.ready()
    validate_close(shell, req)
    shell.close(req.reason, req.note)
    return shell.result(f"case closed as {req.reason}")


def validate_close(shell: CaseShell, req: CloseInput) -> None:
    bounded(req)
    if req.reason in (ClosureReason.PAID, ClosureReason.CURED):
        raise invalid(f"a case closes as {req.reason} by recording the payment")
    need_reason(req.note)
    shell.open_state()


async def refresh_account(shell: CaseShell, account: Account) -> ActionResult:
    """The bank's daily file is the ledger: its balances replace the case's."""
    state = await shell.ready()
    validate_refresh(shell, account)
    changed, events = rules.refresh_balances(state, account)
    if not events:
        return ActionResult(accepted=True, message="balances unchanged", stage=state.stage)
    shell.decided((changed, events))
    return shell.result("balances refreshed")


def validate_refresh(shell: CaseShell, account: Account) -> None:
    bounded(account)
    mine = shell.input.account
    if account.account_no != mine.account_no:
        raise invalid("the refresh is for another account")
    _same_currency(shell, account.currency)
    if not 0 <= account.overdue_minor <= account.outstanding_minor <= MAX_MINOR:
        raise invalid("balances must satisfy 0 <= overdue <= outstanding")
    shell.open_state()
