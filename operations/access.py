"""Reads that reveal a customer's personal data or evidence, each recorded with who, when,
which case and why: a customer's contact details revealed, a dossier opened, payloads decoded
through the codec endpoint, the complaint register read. `who_saw(account_no)` answers "who
saw this customer's phone number, and why". The log is append-only; it names staff and
accounts, never a customer's name or number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import col, select

from models.contracts import case_account
from operations.staff import Person
from readmodel.complaints import ComplaintRegisterRow, Show, list_complaints
from readmodel.engine import Database
from readmodel.tables import AccessLogRow, AccountRow, CustomerRow


class Looked(StrEnum):
    CONTACT_DETAILS = "contact_details"
    DOSSIER = "dossier"
    PAYLOADS = "payloads"
    CUSTOMER_RECORD = "customer_record"  # everything held about a customer, exported
    ERASURE = "erasure"  # a customer's personal data erased at their request
    COMPLAINTS = "complaints"  # the complaint register: what customers asked, and the answers


# The reasons a console offers; any other typed reason is taken as given.
REASONS = (
    "calling the customer",
    "the customer called in",
    "a field visit",
    "a complaint or dispute",
    "legal proceedings",
)
MAX_REASON = 200


class ReasonRequired(ValueError):
    pass


def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise ReasonRequired("say why you need to see this (reason)")
    if len(cleaned) > MAX_REASON:
        raise ReasonRequired(f"a reason is at most {MAX_REASON} characters")
    return cleaned


async def record(
    db: Database, person: Person, via: str, what: Looked, reason: str, *, account_no: str = ""
) -> None:
    """One read, appended; raises `ReasonRequired` for a blank or overlong reason, before any
    data is shown."""
    row = AccessLogRow(
        at=datetime.now(UTC),
        person_id=person.id,
        via=via,
        account_no=account_no,
        what=what,
        reason=_reason(reason),
    )
    async with db.session() as session:
        session.add(row)


REGISTER_REASON = "the complaint register"


async def read_complaint_register(
    db: Database,
    person: Person,
    via: str,
    *,
    show: Show,
    now: datetime,
    case_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ComplaintRegisterRow]:
    """The register's rows, and one access-log row per account shown: what a customer asked and
    the answer are their words, and "who saw" them is answered like a look at their number."""
    rows = await list_complaints(
        db, show=show, now=now, case_id=case_id, limit=limit, offset=offset
    )
    seen = sorted({case_account(row.case_id) for row in rows})
    looks = [
        AccessLogRow(
            at=datetime.now(UTC),
            person_id=person.id,
            via=via,
            account_no=account_no,
            what=Looked.COMPLAINTS,
            reason=REGISTER_REASON,
        )
        for account_no in seen
    ]
    if looks:
        async with db.session() as session:
            session.add_all(looks)
    return rows


@dataclass(frozen=True)
class ContactDetails:
    account_no: str
    name: str | None
    mobile: str
    language: str
    time_zone: str
    address: str | None = None  # recorded after intake, for a field visit


async def reveal_contact_details(
    db: Database, person: Person, via: str, account_no: str, reason: str
) -> ContactDetails | None:
    """The customer's name and phone number for a case, recorded in the access log first;
    None when the read model holds no such account (nothing is recorded then)."""
    async with db.session() as session:
        found = await session.exec(
            select(CustomerRow)
            .join(AccountRow, col(AccountRow.customer_ref) == col(CustomerRow.customer_ref))
            .where(AccountRow.account_no == account_no)
        )
        customer = found.first()
    if customer is None:
        return None
    await record(db, person, via, Looked.CONTACT_DETAILS, reason, account_no=account_no)
    return ContactDetails(
        account_no=account_no,
        name=customer.name,
        mobile=customer.mobile,
        language=customer.language,
        time_zone=customer.time_zone,
        address=customer.address,
    )


async def who_saw(db: Database, account_no: str, *, limit: int = 500) -> list[AccessLogRow]:
    """Every recorded read of the account's personal data or evidence, newest first."""
    async with db.session() as session:
        found = await session.exec(
            select(AccessLogRow)
            .where(AccessLogRow.account_no == account_no)
            .order_by(col(AccessLogRow.at).desc(), col(AccessLogRow.id).desc())
            .limit(limit)
        )
        return list(found)
