"""Performance per collector, per team and for the center over June 2026, on a portfolio seeded
in the read model (cases through the case store, so their bucket moves are the store's own),
with every figure worked out by hand below. `seed` is shared by the API, CLI and console
tests of the same figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from models.case_writes import CaseWrite
from models.contracts import ClosureReason, Stage
from models.tasks import TaskKind, TaskOutcome, TaskStatus
from readmodel import writes
from readmodel.complaints import ComplaintRegisterRow
from readmodel.engine import Database
from readmodel.kpis import Rate
from readmodel.performance import CollectorFigures, Figures, TeamFigures, performance
from readmodel.performance_center import center_trends, month_spans
from readmodel.tables import HumanTaskRow, PaymentRecordRow, PromiseRecordRow, StaffRow
from tests.readmodel.test_kpis import snapshot

SINCE = datetime(2026, 6, 1, tzinfo=UTC)
UNTIL = datetime(2026, 7, 1, tzinfo=UTC)
ANN, BOB, CAT, SUP = "ops.ann", "ops.oli", "ops.cat", "sup.sam"  # ann, bob: north; cat: south


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def place(db: Database, person_id: str, roles: str, team: str, active: bool = True) -> None:
    """A person of the directory in `team`: added, or moved there when known already."""
    async with db.session() as session:
        row = (await session.exec(select(StaffRow).where(StaffRow.person_id == person_id))).first()
        if row is None:
            row = StaffRow(
                person_id=person_id,
                display_name=person_id,
                roles=roles,
                created_at=SINCE,
                updated_at=SINCE,
            )
        row.team, row.active = team, active
        session.add(row)


async def case(
    db: Database,
    n: int,
    *,
    origin: datetime,
    opened: datetime,
    currency: str = "CNY",
    outstanding: int = 100_000,
    later: tuple[datetime, int, ClosureReason | None] | None = None,
) -> None:
    """Case `n`, opened at `opened` with days past due counted from `origin`; `later`: a
    second write (when, outstanding, closed for what reason)."""
    day = timedelta(days=1)
    first = snapshot(
        n,
        (opened - origin) // day,
        opened,
        due_origin=origin,
        currency=currency,
        outstanding_minor=outstanding,
        stage=Stage.EARLY,
    )
    await writes.write_case(db, write=CaseWrite(snapshot=first))
    if later is not None:
        when, left, reason = later
        second = replace(
            first,
            days_past_due=(when - origin) // day,
            outstanding_minor=left,
            closed_reason=reason,
            stage=Stage.CLOSED if reason else Stage.EARLY,
            updated_at=when,
        )
        await writes.write_case(db, write=CaseWrite(snapshot=second))


def task(
    key: str,
    n: int,
    person: str | None,
    *,
    created: datetime,
    closed: datetime | None = None,
    kind: TaskKind = TaskKind.COLLECTOR_CALL,
    status: TaskStatus = TaskStatus.DONE,
    outcome: TaskOutcome | None = None,
    right_party: bool | None = None,
) -> HumanTaskRow:
    return HumanTaskRow(
        idempotency_key=key,
        case_id=f"case-{n}",
        kind=kind.value,
        queue="operations",
        assignee=person,
        status=status.value,
        outcome=outcome.value if outcome else None,
        deadline=created + timedelta(days=1),
        created_at=created,
        closed_at=closed,
        right_party=right_party,
    )


def promise(key: str, n: int, person: str | None, made: datetime, status: str) -> PromiseRecordRow:
    return PromiseRecordRow(
        idempotency_key=key,
        case_id=f"case-{n}",
        amount_minor=1_000,
        currency="CNY",
        promised_date=(made + timedelta(days=3)).date(),
        made_at=made,
        status=status,
        resolved_at=None if status == "open" else made + timedelta(days=3),
        made_by=person,
    )


def payment(n: int, amount: int, currency: str, received: datetime) -> PaymentRecordRow:
    return PaymentRecordRow(
        account_no=str(n),
        payment_ref=f"P-{n}-{received:%m%d}",
        case_id=f"case-{n}",
        amount_minor=amount,
        currency=currency,
        received_at=received,
    )


def complaint(key: str, n: int, received: datetime) -> ComplaintRegisterRow:
    return ComplaintRegisterRow(
        key=key,
        case_id=f"case-{n}",
        category="conduct",
        channel="phone",
        asks="stop calling",
        received_at=received,
        deadline=received + timedelta(days=15),
        pauses_collection=False,
    )


async def seed(db: Database) -> None:
    """Two teams, three collectors, six cases (days past due from each origin):
    1 CNY 100,000, origin 10 Apr, opened 20 Apr: M1 on 1 May, M2 on 1 Jun, M3 on 1 Jul;
    2 CNY, origin 21 Mar, opened 25 Apr: M2 on 1 May, M3 on 1 Jun; paid and closed 10 Jun 12:00;
    3 USD, origin 5 May, opened 10 May: M1 on 1 Jun; cured 20 Jun;
    4 CNY 300,000, origin and opened 1 Mar: M3 on 1 May, M4+ on 1 Jun and 1 Jul; 290,000 left
      after a payment on 5 Jun 10:00;
    5 CNY, origin 12 Jun, opened 15 Jun; 6 CNY 40,000, origin and opened 20 May: M1 on 1 Jun,
      M2 on 1 Jul; 7 CNY, opened 1 Feb, paid and closed 15 Apr: before everything."""
    for person, roles, team, active in [
        (ANN, "operations", "north", True),
        (BOB, "operations", "north", True),
        (CAT, "operations", "south", True),
        (SUP, "supervisor", "north", True),
        ("ops.old", "operations", "south", False),  # left: listed only when credited
    ]:
        await place(db, person, roles, team, active)
    await case(db, 1, origin=at(4, 10), opened=at(4, 20))
    await case(
        db, 2, origin=at(3, 21), opened=at(4, 25), later=(at(6, 10, 12), 0, ClosureReason.PAID)
    )
    await case(
        db,
        3,
        origin=at(5, 5),
        opened=at(5, 10),
        currency="USD",
        later=(at(6, 20), 0, ClosureReason.CURED),
    )
    await case(
        db,
        4,
        origin=at(3, 1),
        opened=at(3, 1),
        outstanding=300_000,
        later=(at(6, 5, 10), 290_000, None),
    )
    await case(db, 5, origin=at(6, 12), opened=at(6, 15))
    await case(db, 6, origin=at(5, 20), opened=at(5, 20), outstanding=40_000)
    await case(db, 7, origin=at(2, 1), opened=at(2, 1), later=(at(4, 15), 0, ClosureReason.PAID))
    async with db.session() as session:
        reached, wrong = TaskOutcome.REACHED, TaskOutcome.WRONG_NUMBER
        session.add_all(
            [
                # ann's three calls on case 1: a right party by the outcome (no flag), one
                # she flagged as not the customer, a wrong number.
                task("t1", 1, ANN, created=at(6, 1), closed=at(6, 2), outcome=reached),
                task(
                    "t2",
                    1,
                    ANN,
                    created=at(6, 2),
                    closed=at(6, 3),
                    outcome=reached,
                    right_party=False,
                ),
                task("t3", 1, ANN, created=at(6, 3), closed=at(6, 4), outcome=wrong),
                # bob's visit to case 2, cat's call on case 3: right party by the flag.
                task(
                    "t4",
                    2,
                    BOB,
                    created=at(6, 4),
                    closed=at(6, 5),
                    kind=TaskKind.FIELD_VISIT,
                    outcome=TaskOutcome.PROMISE_MADE,
                    right_party=True,
                ),
                task(
                    "t5",
                    3,
                    CAT,
                    created=at(5, 31),
                    closed=at(6, 1),
                    outcome=reached,
                    right_party=True,
                ),
                # bob reached case 4 on 5 May 12:00: 30 days before its payment (5 Jun 10:00)
                # is 6 May 10:00, so this call earns nothing; and it is before the window.
                task("t6", 4, BOB, created=at(5, 4), closed=at(5, 5, 12), outcome=reached),
                # done by nobody named (a refusal is a right party): the center's only.
                task(
                    "t7", 1, None, created=at(6, 19), closed=at(6, 20), outcome=TaskOutcome.REFUSED
                ),
                # done at `until`: after the window.
                task("t8", 1, ANN, created=at(6, 30), closed=UNTIL, outcome=reached),
                # not a contact.
                task(
                    "t9",
                    2,
                    BOB,
                    created=at(6, 4),
                    closed=at(6, 6),
                    kind=TaskKind.SUPERVISOR_APPROVAL,
                    outcome=TaskOutcome.APPROVED,
                ),
                # bob holds case 1's call from 6 Jun (the complaint of 9 Jun is his).
                task("t10", 1, BOB, created=at(6, 6), status=TaskStatus.CLAIMED),
                # past deadline: cat's on case 4, nobody's on case 1, ann's before the window.
                task("e1", 4, CAT, created=at(6, 1), closed=at(6, 7), status=TaskStatus.ESCALATED),
                task("e2", 1, None, created=at(6, 7), closed=at(6, 8), status=TaskStatus.ESCALATED),
                task(
                    "e3", 1, ANN, created=at(5, 28), closed=at(5, 30), status=TaskStatus.ESCALATED
                ),
            ]
        )
        session.add_all(
            [
                promise("p1", 1, ANN, at(6, 3), "broken"),
                promise("p2", 2, BOB, at(6, 5), "kept"),
                promise("p3", 2, ANN, at(5, 20), "broken"),  # before the window
                promise("p4", 3, None, at(6, 12), "kept"),  # an older row: names nobody
                promise("p5", 5, CAT, at(6, 16), "kept"),
                promise("p6", 1, ANN, at(6, 28), "open"),
            ]
        )
        session.add_all(
            [
                payment(2, 50_000, "CNY", at(6, 10, 12)),  # p2 (bob's) is the latest promise
                payment(3, 20_000, "USD", at(6, 15)),  # p4 names nobody: t5 (cat, 1 Jun)
                payment(4, 10_000, "CNY", at(6, 5, 10)),  # no promise, t6 too old: nobody's
                payment(5, 5_000, "CNY", at(6, 25)),  # p5: cat's
                payment(1, 3_000, "CNY", at(5, 31)),  # before the window
                payment(1, 7_000, "CNY", at(7, 2)),  # after it
            ]
        )
        session.add_all(
            [
                complaint("k1", 1, at(6, 9)),  # case 1's latest task before: t10, bob's
                complaint("k2", 4, at(6, 11)),  # case 4's: e1, cat's
                complaint("k3", 3, at(5, 31)),  # before the window
            ]
        )


ANN_FIGURES = Figures(contacts=3, right_party_contacts=1, promises_obtained=2)  # t1-t3; p1, p6
BOB_FIGURES = Figures(
    contacts=1,  # t4
    right_party_contacts=1,
    promises_obtained=1,  # p2
    promises_kept=1,
    collected={"CNY": 50_000},  # case 2's payment
    cases_cured=1,  # case 2, closed 10 Jun 12:00: p2 is the latest promise before
    complaints=1,  # k1
)
CAT_FIGURES = Figures(
    contacts=1,  # t5
    right_party_contacts=1,
    promises_obtained=1,  # p5
    promises_kept=1,
    collected={"CNY": 5_000, "USD": 20_000},  # case 5's; case 3's by t5 (14 days before)
    cases_cured=1,  # case 3, 20 Jun: p4 names nobody, t5 is 19 days before
    complaints=1,  # k2
    tasks_past_deadline=1,  # e1
)
NORTH = Figures(
    contacts=4,  # 3 + 1
    right_party_contacts=2,  # 1 + 1
    promises_obtained=3,  # 2 + 1
    promises_kept=1,
    collected={"CNY": 50_000},
    cases_cured=1,
    complaints=1,
)
CENTER = Figures(
    contacts=6,  # t1-t5, t7
    right_party_contacts=4,  # t1, t4, t5, t7
    promises_obtained=5,  # p1, p2, p4, p5, p6
    promises_kept=3,  # p2, p4, p5
    collected={"CNY": 65_000, "USD": 20_000},  # 50,000 + 10,000 + 5,000 CNY; 20,000 USD
    cases_cured=2,  # cases 2 and 3
    complaints=2,  # k1, k2
    tasks_past_deadline=2,  # e1, e2
)


async def test_each_collector_team_and_the_center_has_its_figures(database: Database) -> None:
    await seed(database)

    counted = await performance(database, since=SINCE, until=UNTIL)

    assert counted.collectors == [
        CollectorFigures(ANN, "north", ANN_FIGURES),
        CollectorFigures(CAT, "south", CAT_FIGURES),
        CollectorFigures(BOB, "north", BOB_FIGURES),
    ]  # by staff id; the supervisor and the one who left have no credit
    assert counted.teams == [TeamFigures("north", 2, NORTH), TeamFigures("south", 1, CAT_FIGURES)]
    assert counted.center == CENTER

    north = await performance(database, since=SINCE, until=UNTIL, team="north")
    assert [row.person_id for row in north.collectors] == [ANN, BOB]
    assert north.teams == [TeamFigures("north", 2, NORTH)] and north.center == CENTER


async def test_the_center_s_trends(database: Database) -> None:
    await seed(database)

    trends = await center_trends(database, since=SINCE, until=UNTIL, months=2)

    days = {d.day: d.collected for d in trends.collected_per_day}
    assert len(days) == 30 and min(days) == date(2026, 6, 1) and max(days) == date(2026, 6, 30)
    assert {day: paid for day, paid in days.items() if paid} == {
        date(2026, 6, 5): {"CNY": 10_000},
        date(2026, 6, 10): {"CNY": 50_000},
        date(2026, 6, 15): {"USD": 20_000},
        date(2026, 6, 25): {"CNY": 5_000},
    }
    # Open on 1 Jun: cases 1, 2, 3, 4 and 6 (5 opened later, 7 closed before).
    # CNY owed then: balances 100,000 + 0 + 290,000 + 40,000, plus what they paid from 1 Jun on:
    # 50,000 + 10,000 + 7,000 (2 Jul) = 497,000; collected in June: 50,000 + 10,000 = 60,000.
    # USD: 0 + 20,000 owed, 20,000 collected.
    assert trends.recovery == {"CNY": Rate(60_000, 497_000), "USD": Rate(20_000, 20_000)}

    may, june = trends.roll_matrices
    assert (may.month, may.start, may.end) == (date(2026, 5, 1), at(5, 1), at(6, 1))
    # 1 May -> 1 Jun: case 1 M1 -> M2, case 2 M2 -> M3, case 4 M3 -> M4+ (3 and 6 not open).
    assert _moved(may.cases) == {("M1", "M2"): 1, ("M2", "M3"): 1, ("M3", "M4+"): 1}
    # 1 Jun -> 1 Jul: 1 M2 -> M3, 2 M3 -> closed, 3 M1 -> closed, 4 M4+ -> M4+, 6 M1 -> M2.
    assert _moved(june.cases) == {
        ("M1", "closed"): 1,
        ("M1", "M2"): 1,
        ("M2", "M3"): 1,
        ("M3", "closed"): 1,
        ("M4+", "M4+"): 1,
    }
    assert june.share("M1", "closed") == Rate(1, 2) and june.share("current", "M1") == Rate(0, 0)
    # May: open during it 1, 2, 3, 4, 6; none closed by 1 Jun. June: those and 5; 2 and 3 cured.
    assert [(m.month, m.cure) for m in trends.cure_trend] == [
        (date(2026, 5, 1), Rate(0, 5)),
        (date(2026, 6, 1), Rate(2, 6)),
    ]


def _moved(cases: dict[str, dict[str, int]]) -> dict[tuple[str, str], int]:
    return {(a, b): n for a, row in cases.items() for b, n in row.items() if n}


def test_the_months_end_at_until() -> None:
    mid_july = datetime(2026, 7, 15, 8, tzinfo=UTC)
    assert month_spans(mid_july, 3) == [
        (at(5, 1), at(6, 1)),
        (at(6, 1), at(7, 1)),
        (at(7, 1), mid_july),
    ]
    assert month_spans(datetime(2026, 1, 1, tzinfo=UTC), 1) == [
        (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    ]
