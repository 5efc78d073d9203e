"""The legal dossier as a printable plain-text document, for legal staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from models.case_events import entry_text
from models.money import money
from readmodel.dossier import Dossier


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
            ("at", "event", "detail", "by"),
            [
                (
                    _at(e["at"]),
                    e["kind"],
                    entry_text(e["kind"], e["detail"], e.get("data")),
                    e.get("by", ""),
                )
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
