"""The legal dossier: the evidence a case hands to the legal department, built from the read model.

The dossier is a JSON document stored on the referral's `handoffs` row by the `build_dossier`
activity, read back with `readmodel.queries.get_dossier` and printed by
`readmodel.dossier_text`. It holds the account, its balance history, every payment, EVERY
contact attempt the database holds for the case with its delivery evidence, every promise and
its fate, the collectors' tasks, the scorecard that segmented the case, the referral's
preconditions with their evidence, who approved the referral and when the dossier was built.

It holds no customer name and no phone number: the account number and the customer reference
identify the debtor, and legal takes contact details from the bank's own systems. The
`customers` table is never read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from models.departments import BuildDossierInput
from readmodel import aging
from readmodel.engine import Database
from readmodel.tables import (
    AccountRow,
    AuditLogRow,
    CaseRow,
    ContactAttemptRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

DOSSIER_FORMAT = 1
# Audit entries that move the balance or state where it started.
BALANCE_KINDS = ("opened", "payment", "balances_refreshed")

Dossier = dict[str, Any]


async def assemble_dossier(
    db: Database, *, input: BuildDossierInput, built_at: datetime
) -> Dossier:
    """The dossier of `input.case_id` as the read model holds it now; nothing is written."""
    case_id = input.case_id
    async with db.session() as session:
        case = (await session.exec(select(CaseRow).where(CaseRow.case_id == case_id))).first()
        account = (
            await session.exec(select(AccountRow).where(AccountRow.account_no == input.account_no))
        ).first()
        audit = (
            await session.exec(
                select(AuditLogRow)
                .where(AuditLogRow.case_id == case_id, col(AuditLogRow.kind).in_(BALANCE_KINDS))
                .order_by(col(AuditLogRow.seq))
            )
        ).all()
        payments = (
            await session.exec(
                select(PaymentRecordRow)
                .where(PaymentRecordRow.case_id == case_id)
                .order_by(col(PaymentRecordRow.received_at), col(PaymentRecordRow.id))
            )
        ).all()
        attempts = (
            await session.exec(
                select(ContactAttemptRow)
                .where(ContactAttemptRow.case_id == case_id)
                .order_by(col(ContactAttemptRow.created_at), col(ContactAttemptRow.id))
            )
        ).all()
        promises = (
            await session.exec(
                select(PromiseRecordRow)
                .where(PromiseRecordRow.case_id == case_id)
                .order_by(col(PromiseRecordRow.made_at), col(PromiseRecordRow.id))
            )
        ).all()
        tasks = (
            await session.exec(
                select(HumanTaskRow)
                .where(HumanTaskRow.case_id == case_id)
                .order_by(col(HumanTaskRow.created_at), col(HumanTaskRow.id))
            )
        ).all()
    debtor = case or account
    return {
        "format": DOSSIER_FORMAT,
        "handoff_key": input.handoff_key,
        "case_id": case_id,
        "account_no": input.account_no,
        "customer_ref": debtor.customer_ref if debtor else "",
        "approved_by": input.approved_by,
        "built_at": built_at.isoformat(),
        "account": _account(account, case),
        "case": _case(case, built_at),
        "scorecard": _scorecard(case, audit),
        "balance_history": [_audit(row) for row in audit],
        "payments": [_payment(row) for row in payments],
        "contacts": [_attempt(row) for row in attempts],
        "promises": [_promise(row) for row in promises],
        "collector_tasks": [_task(row) for row in tasks],
        "preconditions": [
            {"name": p.name, "met": p.met, "evidence": p.evidence} for p in input.preconditions
        ],
        "totals": _totals(payments, attempts, promises),
    }


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _account(account: AccountRow | None, case: CaseRow | None) -> dict[str, Any] | None:
    if account is not None:
        return {
            "product": account.product,
            "currency": account.currency,
            "outstanding_minor": account.outstanding_minor,
            "overdue_minor": account.overdue_minor,
            "oldest_due_date": _iso(account.oldest_due_date),
            "as_of": _iso(account.updated_at),
        }
    if case is not None:  # the case row's balances are newer than the daily file's anyway
        return {
            "product": None,
            "currency": case.currency,
            "outstanding_minor": case.outstanding_minor,
            "overdue_minor": case.overdue_minor,
            "oldest_due_date": None,
            "as_of": _iso(case.updated_at),
        }
    return None


def _case(case: CaseRow | None, built_at: datetime) -> dict[str, Any] | None:
    if case is None:
        return None
    return {
        "stage": case.stage,
        "days_past_due": aging.days_past_due(case, built_at),
        "currency": case.currency,
        "outstanding_minor": case.outstanding_minor,
        "overdue_minor": case.overdue_minor,
        "opened_at": _iso(case.opened_at),
        "updated_at": _iso(case.updated_at),
    }


def _scorecard(case: CaseRow | None, audit: Sequence[AuditLogRow]) -> dict[str, Any]:
    opened = [row for row in audit if row.kind == "opened"]
    latest = opened[-1] if opened else None  # a case reopened under its id is scored again
    return {
        "score": case.score if case else None,
        "segment": case.segment if case else None,
        "strategy_version": case.strategy_version if case else None,
        "factors": latest.detail if latest else None,
        "scored_at": _iso(latest.at) if latest else None,
    }


def _audit(row: AuditLogRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": _iso(row.at),
        "kind": row.kind,
        "detail": row.detail,
        "data": row.data,
        "by": row.actor,
    }


def _payment(row: PaymentRecordRow) -> dict[str, Any]:
    return {
        "payment_ref": row.payment_ref,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "received_at": _iso(row.received_at),
    }


def _attempt(row: ContactAttemptRow) -> dict[str, Any]:
    return {
        "idempotency_key": row.idempotency_key,
        "channel": row.channel,
        "template": row.template,
        "status": row.status,
        "reason": row.reason,
        "provider_id": row.provider_id,
        "error_code": row.error_code,
        "retry_at": _iso(row.retry_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _promise(row: PromiseRecordRow) -> dict[str, Any]:
    return {
        "key": row.idempotency_key,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "promised_date": _iso(row.promised_date),
        "made_at": _iso(row.made_at),
        "status": row.status,
        "resolved_at": _iso(row.resolved_at),
    }


def _task(row: HumanTaskRow) -> dict[str, Any]:
    return {
        "key": row.idempotency_key,
        "kind": row.kind,
        "queue": row.queue,
        "assignee": row.assignee,  # a collector, not the customer
        "status": row.status,
        "outcome": row.outcome,
        "deadline": _iso(row.deadline),
        "created_at": _iso(row.created_at),
        "closed_at": _iso(row.closed_at),
    }


def _totals(
    payments: Sequence[PaymentRecordRow],
    attempts: Sequence[ContactAttemptRow],
    promises: Sequence[PromiseRecordRow],
) -> dict[str, Any]:
    paid: Counter[str] = Counter()
    for payment in payments:
        paid[payment.currency] += payment.amount_minor
    return {
        "paid_minor": dict(paid),
        "contacts": len(attempts),
        "contacts_by_status": dict(Counter(row.status for row in attempts)),
        "promises_by_status": dict(Counter(row.status for row in promises)),
    }
