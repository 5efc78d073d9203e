"""The legal dossier holds every contact attempt the read model has for the case, the account,
its balances, payments, promises and scorecard, and nothing that names or reaches the debtor."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.case_store import CaseStoreActivities
from activities.dossier import DossierActivities
from models.case_writes import (
    AuditEntry,
    CaseSnapshot,
    CaseWrite,
    PaymentRow,
    PromiseRow,
)
from models.contracts import (
    Account,
    CaseInput,
    ContactPoints,
    RefusalReason,
    RefusedAttempt,
    Stage,
)
from models.departments import BuildDossierInput, HandoffWrite, Precondition, handoff_id
from models.money import money
from models.strategy import Channel, Segment
from models.tasks import TaskKind, TaskOutcome, TaskRecord, TaskStatus
from readmodel.dossier_text import render_dossier_text
from readmodel.engine import Database
from readmodel.queries import get_dossier, list_handoffs
from readmodel.tables import ContactAttemptRow

OPENED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACCOUNT = Account(
    account_no="6222000055556666",
    product="credit_card",
    currency="CNY",
    outstanding_minor=880_000,
    overdue_minor=310_000,
    oldest_due_date=date(2025, 12, 1),
)
CASE_ID = f"case-{ACCOUNT.account_no}"
OTHER_CASE = "case-6222000077778888"
KEY = handoff_id("legal", ACCOUNT.account_no, 1)
NAME = "王秀英"
MOBILE = "+8613712345678"
PRECONDITIONS = (
    Precondition("two effective contacts 30+ days apart", True, "a2 2026-01-06; a5 2026-02-20"),
    Precondition("more than 3 months unpaid", True, "oldest due 2025-12-01"),
)
OPENED_LINE = "strategy default 1, score 412 (dpd +120; utilisation +40), segment high"


def at(days: float) -> datetime:
    return OPENED_AT + timedelta(days=days)


def attempt(
    key: str,
    status: str,
    days: float,
    *,
    case: str = CASE_ID,
    channel: str = "sms",
    template: str = "reminder_1",
    provider_id: str | None = None,
    error_code: int | None = None,
) -> ContactAttemptRow:
    return ContactAttemptRow(
        idempotency_key=key,
        case_id=case,
        account_no=case.removeprefix("case-"),
        channel=channel,
        template=template,
        status=status,
        provider_id=provider_id,
        error_code=error_code,
        created_at=at(days),
        updated_at=at(days) + timedelta(minutes=3),
    )


def snapshot(days: float, **changes: object) -> CaseSnapshot:
    values: dict[str, object] = dict(
        case_id=CASE_ID,
        account_no=ACCOUNT.account_no,
        customer_ref="C-2024",
        stage=Stage.COLLECTOR,
        segment=Segment.HIGH,
        score=412,
        strategy_version="default@1",
        days_past_due=35,
        currency="CNY",
        outstanding_minor=ACCOUNT.outstanding_minor,
        overdue_minor=ACCOUNT.overdue_minor,
        closed_reason=None,
        updated_at=at(days),
    )
    values.update(changes)
    return CaseSnapshot(**values)  # type: ignore[arg-type]


def entry(seq: int, kind: str, detail: str, days: float) -> AuditEntry:
    return AuditEntry(case_id=CASE_ID, seq=seq, at=at(days), kind=kind, detail=detail)


async def seed(db: Database) -> set[str]:
    """A case 120 days into collection; answers the keys of its contact attempts."""
    store = CaseStoreActivities(db)
    opened = CaseInput(
        customer_ref="C-2024",
        contact=ContactPoints(mobile=MOBILE),
        account=ACCOUNT,
        customer_name=NAME,
    )
    promise = PromiseRow(
        key=f"{CASE_ID}/p7",
        amount_minor=100_000,
        currency="CNY",
        promised_date=date(2026, 2, 1),
        made_at=at(20),
        status="open",
        resolved_at=None,
    )
    task = TaskRecord(
        key=f"{CASE_ID}/t1",
        case_id=CASE_ID,
        kind=TaskKind.COLLECTOR_CALL,
        queue="operations",
        deadline=at(42),
        created_at=at(40),
        status=TaskStatus.DONE,
        assignee="chen.jie",
        outcome=TaskOutcome.REACHED,
        closed_at=at(41),
    )
    await store.write_case(
        CaseWrite(
            snapshot=snapshot(0),
            audit=(
                entry(1, "opened", OPENED_LINE, 0),
                entry(2, "contact_sent", "sms reminder_1", 1),
                entry(3, "payment", "30000 CNY ref BANK-1", 10),
            ),
            payments=(PaymentRow("BANK-1", 30_000, "CNY", at(10)),),
            promises=(promise,),
            opened=opened,
        )
    )
    await store.write_case(
        CaseWrite(
            snapshot=snapshot(60, outstanding_minor=850_000, days_past_due=95),
            audit=(
                entry(4, "promise_broken", "0 of 100000 paid; contact resumes", 35),
                entry(5, "balances_refreshed", "outstanding 850000, overdue 280000 CNY", 50),
                entry(6, "payment", "20000 CNY ref BANK-2", 55),
            ),
            payments=(PaymentRow("BANK-2", 20_000, "CNY", at(55)),),
            promises=(replace(promise, status="broken", resolved_at=at(35)),),
            tasks=(task,),
        )
    )
    await store.record_refused_attempt(
        RefusedAttempt(
            idempotency_key=f"{CASE_ID}/a3",
            case_id=CASE_ID,
            account_no=ACCOUNT.account_no,
            channel=Channel.VOICE,
            template="voice_1",
            reason=RefusalReason.OUTSIDE_WINDOW,
            at=at(15),
            retry_at=at(15.5),
        )
    )
    rows = [
        attempt(f"{CASE_ID}/a1", "delivered", 1, provider_id="SM0001"),
        attempt(f"{CASE_ID}/a2", "answered", 2, channel="voice", template="voice_1"),
        attempt(f"{CASE_ID}/a4", "undelivered", 30, provider_id="SM0004", error_code=30003),
        attempt(f"{CASE_ID}/a5", "failed", 45, provider_id="SM0005", error_code=21610),
        attempt(f"{CASE_ID}/a6", "queued", 60),
        attempt(f"{OTHER_CASE}/a1", "delivered", 3, case=OTHER_CASE),
    ]
    async with db.session() as session:
        session.add_all(rows)
    await store.write_handoff(
        HandoffWrite(
            key=KEY,
            case_id=CASE_ID,
            department="legal",
            status="referred",
            reason="referred, approved by wang.fang",
            at=at(120),
        )
    )
    return {f"{CASE_ID}/a{n}" for n in range(1, 7)}


BUILD = BuildDossierInput(
    handoff_key=KEY,
    case_id=CASE_ID,
    account_no=ACCOUNT.account_no,
    approved_by="wang.fang",
    preconditions=PRECONDITIONS,
)


async def all_attempt_keys(db: Database, case_id: str) -> set[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(ContactAttemptRow.idempotency_key).where(ContactAttemptRow.case_id == case_id)
        )
        return set(rows.all())


async def test_the_dossier_holds_every_contact_attempt_and_no_name_or_phone(
    database: Database,
) -> None:
    seeded = await seed(database)

    built = await DossierActivities(database).build_dossier(BUILD)

    dossier = await get_dossier(database, handoff_key=KEY)
    assert dossier is not None
    keys = {c["idempotency_key"] for c in dossier["contacts"]}
    assert keys == await all_attempt_keys(database, CASE_ID) == seeded
    assert built.contacts == len(dossier["contacts"]) == 6
    assert (built.payments, built.promises) == (2, 1)
    text = json.dumps(dossier, ensure_ascii=False)
    assert NAME not in text
    assert MOBILE not in text and MOBILE.removeprefix("+86") not in text
    assert dossier["customer_ref"] == "C-2024"


async def test_the_dossier_carries_the_delivery_evidence_of_each_attempt(
    database: Database,
) -> None:
    await seed(database)

    await DossierActivities(database).build_dossier(BUILD)

    dossier = await get_dossier(database, handoff_key=KEY)
    assert dossier is not None
    by_key = {c["idempotency_key"]: c for c in dossier["contacts"]}
    undelivered = by_key[f"{CASE_ID}/a4"]
    assert (undelivered["status"], undelivered["provider_id"], undelivered["error_code"]) == (
        "undelivered",
        "SM0004",
        30003,
    )
    assert datetime.fromisoformat(undelivered["created_at"]) == at(30)
    assert datetime.fromisoformat(undelivered["updated_at"]) == at(30) + timedelta(minutes=3)
    refused = by_key[f"{CASE_ID}/a3"]
    assert (refused["channel"], refused["status"], refused["reason"]) == (
        "voice",
        "refused",
        "outside_window",
    )
    assert [c["idempotency_key"] for c in dossier["contacts"]] == [
        f"{CASE_ID}/a{n}" for n in (1, 2, 3, 4, 5, 6)
    ]  # in the order they happened
    assert dossier["totals"]["contacts_by_status"]["delivered"] == 1


async def test_the_dossier_holds_account_balances_payments_promises_and_scorecard(
    database: Database,
) -> None:
    await seed(database)

    await DossierActivities(database).build_dossier(BUILD)

    dossier = await get_dossier(database, handoff_key=KEY)
    assert dossier is not None
    assert dossier["account"] == {
        "product": "credit_card",
        "currency": "CNY",
        "outstanding_minor": 880_000,
        "overdue_minor": 310_000,
        "oldest_due_date": "2025-12-01",
        "as_of": OPENED_AT.isoformat(),
    }
    assert [(e["kind"], e["detail"]) for e in dossier["balance_history"]] == [
        ("opened", OPENED_LINE),
        ("payment", "30000 CNY ref BANK-1"),
        ("balances_refreshed", "outstanding 850000, overdue 280000 CNY"),
        ("payment", "20000 CNY ref BANK-2"),
    ]
    assert [(p["payment_ref"], p["amount_minor"]) for p in dossier["payments"]] == [
        ("BANK-1", 30_000),
        ("BANK-2", 20_000),
    ]
    [promise] = dossier["promises"]
    assert (promise["status"], promise["amount_minor"], promise["promised_date"]) == (
        "broken",
        100_000,
        "2026-02-01",
    )
    assert dossier["scorecard"] == {
        "score": 412,
        "segment": "high",
        "strategy_version": "default@1",
        "factors": OPENED_LINE,
        "scored_at": OPENED_AT.isoformat(),
    }
    assert dossier["case"]["outstanding_minor"] == 850_000
    [task] = dossier["collector_tasks"]
    assert (task["kind"], task["outcome"]) == ("collector_call", "reached")
    assert dossier["preconditions"] == [
        {"name": p.name, "met": p.met, "evidence": p.evidence} for p in PRECONDITIONS
    ]
    assert dossier["approved_by"] == "wang.fang"
    assert datetime.fromisoformat(dossier["built_at"]).tzinfo is not None
    assert dossier["totals"]["paid_minor"] == {"CNY": 50_000}


async def test_the_dossier_stays_on_the_row_when_its_status_moves_on(database: Database) -> None:
    await seed(database)
    await DossierActivities(database).build_dossier(BUILD)
    built = await get_dossier(database, handoff_key=KEY)

    await CaseStoreActivities(database).write_handoff(
        HandoffWrite(KEY, CASE_ID, "legal", "accepted", "accepted by zhao.lei", at(121))
    )

    assert await get_dossier(database, handoff_key=KEY) == built
    [row] = await list_handoffs(database, department="legal", status="accepted")
    assert (row.idempotency_key, row.reason) == (KEY, "accepted by zhao.lei")


async def test_a_dossier_needs_its_handoff_row(database: Database) -> None:
    with pytest.raises(ApplicationError) as refused:
        await DossierActivities(database).build_dossier(BUILD)

    assert refused.value.type == "HandoffMissing" and refused.value.non_retryable
    assert await get_dossier(database, handoff_key=KEY) is None


async def test_the_printable_dossier_has_every_section(database: Database) -> None:
    await seed(database)
    await DossierActivities(database).build_dossier(BUILD)
    dossier = await get_dossier(database, handoff_key=KEY)
    assert dossier is not None

    text = render_dossier_text(dossier)

    for title in (
        "LEGAL REFERRAL DOSSIER",
        "1. ACCOUNT",
        "2. PRECONDITIONS FOR LEGAL ACTION",
        "3. SCORECARD",
        "4. BALANCE HISTORY",
        "5. PAYMENTS",
        "6. CONTACT ATTEMPTS",
        "7. PROMISES TO PAY",
        "8. COLLECTOR TASKS",
    ):
        assert title in text
    assert all(f"{CASE_ID}/a{n}" in text for n in range(1, 7))
    assert f"{OTHER_CASE}/a1" not in text
    assert "8,800.00 CNY" in text and "Total paid: 500.00 CNY" in text
    assert "SM0004" in text and "30003" in text
    assert "wang.fang" in text and OPENED_LINE in text
    assert "300.00 CNY ref BANK-1" in text and "30000 CNY" not in text  # balance history
    assert NAME not in text and MOBILE not in text


def test_an_empty_dossier_still_prints() -> None:
    text = render_dossier_text({"handoff_key": KEY, "case_id": CASE_ID, "account_no": "x"})

    assert "(no account on record)" in text and "(none on record)" in text


async def test_list_handoffs_is_a_departments_inbox(database: Database) -> None:
    store = CaseStoreActivities(database)
    for n, (department, status) in enumerate(
        [("legal", "referred"), ("risk", "open"), ("legal", "accepted"), ("legal", "referred")]
    ):
        await store.write_handoff(
            HandoffWrite(f"{department}-{n}", CASE_ID, department, status, "why", at(n))
        )

    legal = await list_handoffs(database, department="legal")
    referred = await list_handoffs(database, department="legal", status="referred")

    assert [r.idempotency_key for r in legal] == ["legal-0", "legal-2", "legal-3"]
    assert [r.idempotency_key for r in referred] == ["legal-0", "legal-3"]


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (123_456, "CNY", "1,234.56 CNY"),
        (5, "USD", "0.05 USD"),
        (-1_000, "CNY", "-10.00 CNY"),
        (1_500, "JPY", "1,500 JPY"),
        (None, "CNY", "-"),
    ],
)
def test_money_prints_major_units(minor: int | None, currency: str, text: str) -> None:
    assert money(minor, currency) == text
