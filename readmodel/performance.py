"""Performance per collector, per team and for the center over a window [since, until).

Each figure is a set of credits, one per thing that happened in the window, each credited to
one staff id or to nobody; a person's figures are their credits, a team's the credits of its
people (`staff.team`), the center's all of them, credited or not:

- contacts: collector calls and field visits completed with a contact outcome (one of
  `readmodel.kpis.RIGHT_PARTY` or `WRONG_PARTY`), credited to the task's assignee;
- right-party contacts: of those, the ones that spoke with the customer themself: the
  collector's own flag (`right_party`), or where they gave none (a row older than the flag) an
  outcome in `RIGHT_PARTY`;
- promises obtained: promises made in the window, credited to who obtained them (`made_by`);
  promises kept: of those, the ones kept (as known now, whenever that was);
- collected: payments received in the window, per currency in minor units, credited by
  `credited_to` at the payment's time;
- cases cured: cases closed paid or cured in the window (their closing write), credited by
  `credited_to` at the closure;
- complaints: complaints received in the window, credited to the assignee of the case's latest
  collector call or field visit created before the complaint (the register does not say who
  the customer complained about; nobody when no collector held a task on the case);
- tasks past deadline: tasks of any kind escalated in the window (their deadline passed
  before they were done), credited to their assignee (nobody when none had taken it).

Counts, money and staff ids only: no customer's data. The center's trends over months are in
`readmodel.performance_center`.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.contracts import ClosureReason
from models.people import Role
from models.tasks import TaskKind, TaskStatus
from readmodel.complaints import ComplaintRegisterRow
from readmodel.engine import Database
from readmodel.kpis import RIGHT_PARTY, WRONG_PARTY
from readmodel.tables import (
    CaseRow,
    HumanTaskRow,
    PaymentRecordRow,
    PromiseRecordRow,
    StaffRow,
)

CONTACT_KINDS = frozenset({TaskKind.COLLECTOR_CALL.value, TaskKind.FIELD_VISIT.value})
CONTACT_OUTCOMES = frozenset(o.value for o in RIGHT_PARTY | WRONG_PARTY)
CURED = frozenset({ClosureReason.PAID.value, ClosureReason.CURED.value})
# How far back a right-party contact earns the money that follows it (without a promise).
RECENT_CONTACT = timedelta(days=30)


class Figure(StrEnum):
    CONTACTS = "contacts"
    RIGHT_PARTY_CONTACTS = "right_party_contacts"
    PROMISES_OBTAINED = "promises_obtained"
    PROMISES_KEPT = "promises_kept"
    COLLECTED = "collected"
    CASES_CURED = "cases_cured"
    COMPLAINTS = "complaints"
    TASKS_PAST_DEADLINE = "tasks_past_deadline"


COUNTED = tuple(f for f in Figure if f is not Figure.COLLECTED)


@dataclass(frozen=True)
class Credit:
    person: str | None  # a staff id; None: nobody's, counted for the center only
    figure: Figure
    amount: int = 1  # minor units for money
    currency: str = ""  # money only


@dataclass(frozen=True)
class Figures:
    contacts: int = 0
    right_party_contacts: int = 0
    promises_obtained: int = 0
    promises_kept: int = 0
    collected: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    cases_cured: int = 0
    complaints: int = 0
    tasks_past_deadline: int = 0


def figures_of(credits: Iterable[Credit]) -> Figures:
    """The figures of some credits; money summed per currency, never across."""
    counts: Counter[Figure] = Counter()
    money: Counter[str] = Counter()
    for credit in credits:
        if credit.figure is Figure.COLLECTED:
            money[credit.currency] += credit.amount
        else:
            counts[credit.figure] += credit.amount
    return Figures(
        contacts=counts[Figure.CONTACTS],
        right_party_contacts=counts[Figure.RIGHT_PARTY_CONTACTS],
        promises_obtained=counts[Figure.PROMISES_OBTAINED],
        promises_kept=counts[Figure.PROMISES_KEPT],
        collected=dict(sorted(money.items())),
        cases_cured=counts[Figure.CASES_CURED],
        complaints=counts[Figure.COMPLAINTS],
        tasks_past_deadline=counts[Figure.TASKS_PAST_DEADLINE],
    )


@dataclass(frozen=True)
class Contact:
    """A collector call or field visit completed with a contact outcome."""

    case_id: str
    person: str | None
    outcome: str
    right_party: bool | None
    at: datetime  # completed

    @property
    def reached(self) -> bool:
        """Spoke with the customer themself: the collector's flag, else the outcome's word."""
        if self.right_party is not None:
            return self.right_party
        return self.outcome in RIGHT_PARTY


@dataclass(frozen=True)
class Promise:
    case_id: str
    person: str | None
    made_at: datetime
    kept: bool


@dataclass(frozen=True)
class History:
    """A case's promises and contacts, oldest first: what `credited_to` looks back on."""

    promises: list[Promise] = field(default_factory=list)
    reached: list[Contact] = field(default_factory=list)  # right-party contacts only


def credited_to(history: History, at: datetime) -> str | None:
    """Who money received, or a cure, at `at` is credited to:
    1. who obtained the case's latest promise made before `at`, when the promise names them;
    2. else who completed the case's latest right-party contact in the `RECENT_CONTACT` (30
       days) before `at`;
    3. else nobody: the center counts it, no person or team does."""
    promises = history.promises[: bisect.bisect_left([p.made_at for p in history.promises], at)]
    if promises and promises[-1].person:
        return promises[-1].person
    times = [c.at for c in history.reached]
    recent = history.reached[
        bisect.bisect_left(times, at - RECENT_CONTACT) : bisect.bisect_left(times, at)
    ]
    return recent[-1].person if recent else None


@dataclass(frozen=True)
class CollectorFigures:
    person_id: str
    team: str  # "" when the directory gives none
    figures: Figures


@dataclass(frozen=True)
class TeamFigures:
    team: str
    people: int  # the collectors of the team listed
    figures: Figures


@dataclass(frozen=True)
class Performance:
    since: datetime
    until: datetime
    collectors: list[CollectorFigures]  # every active collector, and anyone credited
    teams: list[TeamFigures]
    center: Figures


async def performance(
    db: Database, *, since: datetime, until: datetime, team: str | None = None
) -> Performance:
    """The figures over [`since`, `until`) per collector, per team (only `team`'s, when given)
    and for the center (always all of it)."""
    async with db.session() as session:
        credits = await _credits(session, since, until)
        staff = (
            await session.exec(
                select(StaffRow.person_id, StaffRow.team, StaffRow.roles, StaffRow.active)
            )
        ).all()
    teams = {person: team_of for person, team_of, _, _ in staff}
    listed = {
        person
        for person, _, roles, active in staff
        if active and Role.OPERATIONS.value in roles.split(",")
    } | {c.person for c in credits if c.person is not None}
    by_person: dict[str | None, list[Credit]] = defaultdict(list)
    for credit in credits:
        by_person[credit.person].append(credit)
    collectors = [
        CollectorFigures(person, teams.get(person, ""), figures_of(by_person[person]))
        for person in sorted(listed)
        if team is None or teams.get(person, "") == team
    ]
    members: dict[str, list[str]] = defaultdict(list)
    for row in collectors:
        if row.team:
            members[row.team].append(row.person_id)
    return Performance(
        since=since,
        until=until,
        collectors=collectors,
        teams=[
            TeamFigures(
                name,
                len(people),
                figures_of(c for person in people for c in by_person[person]),
            )
            for name, people in sorted(members.items())
        ],
        center=figures_of(credits),
    )


async def _credits(session: AsyncSession, since: datetime, until: datetime) -> list[Credit]:
    """Every credit of the window, by the rules of the module's docstring."""
    task = HumanTaskRow
    contacts = [
        Contact(row.case_id, row.assignee, row.outcome or "", row.right_party, row.closed_at)
        for row in await session.exec(
            select(task)
            .where(
                col(task.kind).in_(CONTACT_KINDS),
                task.status == TaskStatus.DONE.value,
                col(task.outcome).in_(CONTACT_OUTCOMES),
                col(task.closed_at) >= since - RECENT_CONTACT,
                col(task.closed_at) < until,
            )
            .order_by(col(task.closed_at), col(task.id))
        )
        if row.closed_at is not None
    ]
    payment = PaymentRecordRow
    payments = (
        await session.exec(
            select(payment.case_id, payment.received_at, payment.amount_minor, payment.currency)
            .where(col(payment.received_at) >= since, col(payment.received_at) < until)
            .order_by(col(payment.received_at), col(payment.id))
        )
    ).all()
    closed_in = (col(CaseRow.updated_at) >= since) & (col(CaseRow.updated_at) < until)
    cured = (
        await session.exec(
            select(CaseRow.case_id, CaseRow.updated_at).where(
                col(CaseRow.closed_reason).in_(CURED), closed_in
            )
        )
    ).all()
    promise = PromiseRecordRow
    paid_in = (col(payment.received_at) >= since) & (col(payment.received_at) < until)
    earning = col(promise.case_id).in_(select(payment.case_id).where(paid_in)) | col(
        promise.case_id
    ).in_(select(CaseRow.case_id).where(col(CaseRow.closed_reason).in_(CURED), closed_in))
    promises = [
        Promise(case_id, person, made_at, status == "kept")
        for case_id, person, made_at, status in await session.exec(
            select(promise.case_id, promise.made_by, promise.made_at, promise.status)
            .where(
                col(promise.made_at) < until,
                (col(promise.made_at) >= since) | earning,
            )
            .order_by(col(promise.made_at), col(promise.id))
        )
    ]
    credits = [
        credit
        for contact in contacts
        if contact.at >= since
        for credit in (
            Credit(contact.person, Figure.CONTACTS),
            *([Credit(contact.person, Figure.RIGHT_PARTY_CONTACTS)] if contact.reached else []),
        )
    ]
    for p in promises:
        if p.made_at >= since:
            credits.append(Credit(p.person, Figure.PROMISES_OBTAINED))
            if p.kept:
                credits.append(Credit(p.person, Figure.PROMISES_KEPT))
    histories: dict[str, History] = defaultdict(History)
    for p in promises:
        histories[p.case_id].promises.append(p)
    for contact in contacts:
        if contact.reached:
            histories[contact.case_id].reached.append(contact)
    for case_id, at, amount, currency in payments:
        person = credited_to(histories[case_id], at)
        credits.append(Credit(person, Figure.COLLECTED, amount, currency))
    for case_id, at in cured:
        credits.append(Credit(credited_to(histories[case_id], at), Figure.CASES_CURED))
    credits += await _complaints(session, since, until)
    escalated = await session.exec(
        select(task.assignee).where(
            task.status == TaskStatus.ESCALATED.value,
            col(task.closed_at) >= since,
            col(task.closed_at) < until,
        )
    )
    credits += [Credit(person, Figure.TASKS_PAST_DEADLINE) for person in escalated]
    return credits


async def _complaints(session: AsyncSession, since: datetime, until: datetime) -> list[Credit]:
    """A complaint credited to who held the case's latest collector task before it."""
    complaint, task = ComplaintRegisterRow, HumanTaskRow
    received_in = (col(complaint.received_at) >= since) & (col(complaint.received_at) < until)
    received = (
        await session.exec(select(complaint.case_id, complaint.received_at).where(received_in))
    ).all()
    held: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for case_id, created_at, person in await session.exec(
        select(task.case_id, task.created_at, task.assignee)
        .where(
            col(task.kind).in_(CONTACT_KINDS),
            col(task.assignee).is_not(None),
            col(task.case_id).in_(select(complaint.case_id).where(received_in)),
            col(task.created_at) < until,
        )
        .order_by(col(task.created_at), col(task.id))
    ):
        if person is not None:
            held[case_id].append((created_at, person))
    credits = []
    for case_id, at in received:
        before = [person for created_at, person in held[case_id] if created_at < at]
        credits.append(Credit(before[-1] if before else None, Figure.COMPLAINTS))
    return credits
