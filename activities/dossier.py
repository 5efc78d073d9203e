"""The legal dossier: the evidence a case hands to the legal department, built from the read model.

The dossier is a JSON document stored on the referral's `handoffs` row (and read back by the
API). It holds the account, its balance history, every payment, EVERY contact attempt the
database holds for the case with its delivery evidence, every promise and its fate, the
collectors' tasks, the scorecard that segmented the case, the referral's preconditions with
their evidence, who approved the referral and when the dossier was built.

It holds no customer name and no phone number: the account number and the customer reference
identify the debtor, and legal takes contact details from the bank's own systems. The
`customers` table is never read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.departments import BuildDossierInput, DossierBuilt
from models.money import amounts_in_words, money
from readmodel.engine import Database
from readmodel.tables import (
    AccountRow,
    AuditLogRow,
    CaseRow,
    ContactAttemptRow,
    HandoffRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
)

DOSSIER_FORMAT = 1
# Audit entries that move the balance or state where it started.
BALANCE_KINDS = ("opened", "payment", "balances_refreshed")

Dossier = dict[str, Any]


class DossierActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name="build_dossier")
    async def build_dossier(self, input: BuildDossierInput) -> DossierBuilt:
        """Builds the dossier and stores it on the handoff row, which must already exist.

        Returns counts only: the dossier grows with every contact over the years, and a
        workflow's history is no place for a document of that size. A retry rebuilds it."""
        dossier = await assemble_dossier(self._db, input, built_at=datetime.now(UTC))
        async with self._db.session() as session:
            result = await session.exec(
                update(HandoffRow)
                .where(col(HandoffRow.idempotency_key) == input.handoff_key)
                .values(dossier=dossier)
            )
            if result.rowcount == 0:
                raise ApplicationError(
                    f"no handoff row {input.handoff_key}: write_handoff comes first",
                    type="HandoffMissing",
                    non_retryable=True,
                )
        return DossierBuilt(
            handoff_key=input.handoff_key,
            built_at=datetime.fromisoformat(dossier["built_at"]),
            contacts=len(dossier["contacts"]),
            payments=len(dossier["payments"]),
            promises=len(dossier["promises"]),
        )


async def assemble_dossier(
    db: Database, input: BuildDossierInput, *, built_at: datetime
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
        "case": _case(case),
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


def _case(case: CaseRow | None) -> dict[str, Any] | None:
    if case is None:
        return None
    return {
        "stage": case.stage,
        "days_past_due": case.days_past_due,
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
    return {"seq": row.seq, "at": _iso(row.at), "kind": row.kind, "detail": row.detail}


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


# --- printable -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value).replace("\n", " ")


def _at(value: str | None) -> str:
    """An ISO timestamp from the dossier as people read it: to the minute, in UTC."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return value
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["(none on record)"]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)]


def _section(title: str, body: list[str]) -> list[str]:
    return ["", title.upper(), "=" * len(title), *body]


def render_dossier_text(dossier: Dossier) -> str:
    """The dossier as a printable plain-text document for legal staff: numbered sections,
    tables in fixed-width columns (print in a monospaced font)."""
    account = dossier.get("account") or {}
    currency = account.get("currency")
    case = dossier.get("case") or {}
    score = dossier.get("scorecard") or {}
    totals = dossier.get("totals") or {}
    out = [
        "LEGAL REFERRAL DOSSIER",
        f"Referral:     {dossier.get('handoff_key')}",
        f"Case:         {dossier.get('case_id')}",
        f"Account:      {dossier.get('account_no')}",
        f"Customer ref: {dossier.get('customer_ref') or '-'}",
        f"Approved by:  {dossier.get('approved_by')}",
        f"Built at:     {_at(dossier.get('built_at'))}",
        "Contact details are not part of this dossier: take them from the bank's systems.",
    ]
    out += _section(
        "1. Account",
        [
            f"Product:           {_cell(account.get('product'))}",
            f"Outstanding:       {money(account.get('outstanding_minor'), currency)}",
            f"Overdue:           {money(account.get('overdue_minor'), currency)}",
            f"Oldest due date:   {_cell(account.get('oldest_due_date'))}",
            f"Balances as of:    {_at(account.get('as_of'))}",
            f"Case stage:        {_cell(case.get('stage'))}",
            f"Days past due:     {_cell(case.get('days_past_due'))}",
            f"Case opened:       {_at(case.get('opened_at'))}",
        ]
        if account or case
        else ["(no account on record)"],
    )
    out += _section(
        "2. Preconditions for legal action",
        _table(
            ("precondition", "met", "evidence"),
            [(p["name"], p["met"], p["evidence"]) for p in dossier.get("preconditions", [])],
        ),
    )
    out += _section(
        "3. Scorecard",
        [
            f"Score:     {_cell(score.get('score'))}",
            f"Segment:   {_cell(score.get('segment'))}",
            f"Strategy:  {_cell(score.get('strategy_version'))}",
            f"Scored at: {_at(score.get('scored_at'))}",
            f"Factors:   {_cell(score.get('factors'))}",
        ],
    )
    out += _section(
        "4. Balance history",
        _table(
            ("at", "event", "detail"),
            [
                (_at(e["at"]), e["kind"], amounts_in_words(e["detail"]))
                for e in dossier.get("balance_history", [])
            ],
        ),
    )
    paid = ", ".join(money(v, k) for k, v in (totals.get("paid_minor") or {}).items()) or "none"
    out += _section(
        "5. Payments",
        [
            *_table(
                ("received at", "reference", "amount"),
                [
                    (
                        _at(p["received_at"]),
                        p["payment_ref"],
                        money(p["amount_minor"], p["currency"]),
                    )
                    for p in dossier.get("payments", [])
                ],
            ),
            f"Total paid: {paid}",
        ],
    )
    by_status = totals.get("contacts_by_status") or {}
    out += _section(
        "6. Contact attempts (every attempt on record, with delivery evidence)",
        [
            *_table(
                (
                    "created",
                    "channel",
                    "template",
                    "status",
                    "reason",
                    "provider id",
                    "error",
                    "last update",
                    "key",
                ),
                [
                    (
                        _at(c["created_at"]),
                        c["channel"],
                        c["template"],
                        c["status"],
                        c["reason"],
                        c["provider_id"],
                        c["error_code"],
                        _at(c["updated_at"]),
                        c["idempotency_key"],
                    )
                    for c in dossier.get("contacts", [])
                ],
            ),
            f"Total: {totals.get('contacts', 0)} "
            + "("
            + (", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none")
            + ")",
        ],
    )
    out += _section(
        "7. Promises to pay",
        _table(
            ("made at", "amount", "promised date", "fate", "resolved at", "key"),
            [
                (
                    _at(p["made_at"]),
                    money(p["amount_minor"], p["currency"]),
                    p["promised_date"],
                    p["status"],
                    _at(p["resolved_at"]),
                    p["key"],
                )
                for p in dossier.get("promises", [])
            ],
        ),
    )
    out += _section(
        "8. Collector tasks",
        _table(
            ("created", "kind", "assignee", "status", "outcome", "closed", "key"),
            [
                (
                    _at(t["created_at"]),
                    t["kind"],
                    t["assignee"],
                    t["status"],
                    t["outcome"],
                    _at(t["closed_at"]),
                    t["key"],
                )
                for t in dossier.get("collector_tasks", [])
            ],
        ),
    )
    return "\n".join(out) + "\n"


# --- queries for the API -----------------------------------------------------------------


async def get_dossier(db: Database, *, handoff_key: str) -> Dossier | None:
    """The dossier stored on a handoff row; None if the row or its dossier is missing."""
    async with db.session() as session:
        result = await session.exec(
            select(HandoffRow).where(HandoffRow.idempotency_key == handoff_key)
        )
        row = result.first()
        return row.dossier if row is not None else None


async def list_handoffs(
    db: Database, *, department: str, status: str | None = None
) -> list[HandoffRow]:
    """A department's inbox: its handoff rows, oldest first, optionally of one status."""
    query = select(HandoffRow).where(HandoffRow.department == department)
    if status is not None:
        query = query.where(HandoffRow.status == status)
    async with db.session() as session:
        result = await session.exec(query.order_by(col(HandoffRow.created_at), col(HandoffRow.id)))
        return list(result.all())
