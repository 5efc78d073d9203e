"""Allocation on the time-skipping server, with real cases: the collectors' calls several cases
open are placed by the allocator within each collector's capacity, by the customer's language
and the account's product; a second run (the schedule's workflow, on the production worker)
moves nothing; an absent collector's whole queue moves in one call, after a move to an
inactive person and one to a person without the role were each refused with nothing changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from models.allocation import AllocationRun
from models.contracts import Account, CaseInput, ContactPoints, Language, case_id
from models.people import Actor, Role
from models.tasks import TaskKind
from operations import staff
from operations.allocation import allocate_open_tasks, reassign_queue
from operations.answers import Outcome
from operations.gateway import Gateway
from readmodel.engine import Database
from readmodel.tables import HumanTaskRow, StaffRow
from tests.workflows.harness import CaseHarness
from workflows.allocation import AllocationWorkflow
from workflows.case import CollectionCaseWorkflow as Case

SUE = Actor("sup.sue", via="console", roles=(Role.SUPERVISOR,))


async def add_person(
    db: Database,
    person_id: str,
    *,
    languages: str,
    products: str = "",
    capacity: int = 40,
    team: str = "east",
    roles: str = "operations",
    active: bool = True,
) -> None:
    now = datetime.now(UTC)
    row = StaffRow(
        person_id=person_id,
        display_name=person_id.title(),
        roles=roles,
        team=team,
        languages=languages,
        products=products,
        capacity=capacity,
        active=active,
        created_at=now,
        updated_at=now,
    )
    async with db.session() as session:
        session.add(row)


async def start(harness: CaseHarness, language: Language, product: str) -> str:
    """A case 40 days past due (a collector's call opens at once) for `language` and `product`;
    its workflow id."""
    account_no = f"6223{uuid.uuid4().int % 10**12:012d}"
    today = await harness.today()
    case = CaseInput(
        customer_ref=f"C{account_no}",
        customer_name="张伟" if language is Language.ZH_CN else "Olivia Brown",
        contact=ContactPoints(
            mobile=f"+86139{account_no[-8:]}", language=language, time_zone="Asia/Shanghai"
        ),
        account=Account(
            account_no=account_no,
            product=product,
            currency="CNY",
            outstanding_minor=500_000,
            overdue_minor=120_000,
            oldest_due_date=today - timedelta(days=40),
        ),
    )
    handle = await harness.client.start_workflow(
        Case.run, case, id=case_id(account_no), task_queue=harness.queue
    )
    harness.started.append(handle.id)
    return handle.id


async def calls(harness: CaseHarness, cases: dict[str, str]) -> dict[str, HumanTaskRow]:
    """Each case's collector call, by the case's name here, once the case has written it."""
    await harness.skip(timedelta(seconds=1))  # the cases' writes after the last update
    async with harness.db.session() as session:
        rows = await session.exec(
            select(HumanTaskRow)
            .where(col(HumanTaskRow.case_id).in_(cases.values()))
            .where(HumanTaskRow.kind == TaskKind.COLLECTOR_CALL.value)
        )
        by_case = {row.case_id: row for row in rows}
    return {name: by_case[case] for name, case in cases.items()}


def holding(rows: dict[str, HumanTaskRow]) -> dict[str, str | None]:
    return {name: row.assignee for name, row in rows.items()}


async def test_tasks_are_placed_within_caps_by_language_and_product_and_a_queue_moves_at_once(
    harness: CaseHarness,
) -> None:
    db = harness.db
    await add_person(db, "zh.amy", languages="zh-CN", capacity=2)  # every product
    await add_person(db, "zh.bob", languages="zh", products="card", capacity=1)
    await add_person(db, "en.eve", languages="en", products="personal_loan", team="west")
    await staff.set_work(db, "en.eve", capacity=1)
    await add_person(db, "old.ida", languages="zh-CN,en", active=False)
    await add_person(db, "risk.rui", languages="zh-CN", roles="risk")
    wanted = {
        "zh_card_1": (Language.ZH_CN, "card"),
        "zh_card_2": (Language.ZH_CN, "card"),
        "zh_loan": (Language.ZH_CN, "personal_loan"),
        "en_card": (Language.EN, "card"),
        "en_loan_1": (Language.EN, "personal_loan"),
        "en_loan_2": (Language.EN, "personal_loan"),
    }
    cases = {name: await start(harness, *given) for name, given in wanted.items()}
    await harness.sleep_days(0.1)
    opened = await calls(harness, cases)
    assert set(holding(opened).values()) == {None}

    report = await allocate_open_tasks(Gateway(harness.client, answer_within=10), db)

    assert (len(report.placed), len(report.unplaced), report.refused) == (4, 2, ()), report
    rows = await calls(harness, cases)
    held = holding(rows)
    # Caps: amy 2, bob 1, eve 1. Language and product: the loan in Chinese only amy works,
    # bob only cards; eve speaks English but works only loans.
    assert held["zh_loan"] == "zh.amy"
    assert {held["zh_card_1"], held["zh_card_2"]} == {"zh.amy", "zh.bob"}
    assert held["en_card"] is None
    assert {held["en_loan_1"], held["en_loan_2"]} == {"en.eve", None}
    reasons = {u.task_key: u.message for u in report.unplaced}
    assert reasons[rows["en_card"].idempotency_key] == "nobody who speaks en works card"
    left = next(rows[n] for n in ("en_loan_1", "en_loan_2") if held[n] is None)
    assert reasons[left.idempotency_key] == (
        "everyone who speaks en and works personal_loan is at capacity"
    )
    placed = [row for row in rows.values() if row.assignee]
    assert {(row.status, row.assigned_by) for row in placed} == {("claimed", "svc-allocator")}
    timeline = await harness.client.get_workflow_handle(cases["zh_loan"]).query(Case.timeline)
    [entry] = [e for e in timeline if e.kind == "task_assigned"]
    assert entry.actor == "svc-allocator (schedule)" and "zh.amy" in entry.detail

    # Run again, as the schedule runs it (the workflow on the production worker): nothing moves.
    # (Its result is awaited with the clock held: skipping on would pass the calls' deadlines.)
    with harness.env.auto_time_skipping_disabled():
        again = await harness.client.execute_workflow(
            AllocationWorkflow.run,
            id=f"allocation-{uuid.uuid4().hex[:8]}",
            task_queue=harness.queue,
        )
    assert again == AllocationRun(placed=0, unplaced=2, refused=0)
    assert holding(await calls(harness, cases)) == held

    # amy is away. A move to someone inactive, or without the role, is refused: nothing moves.
    await staff.set_active(db, "zh.amy", False)
    sue = Gateway(harness.client, answer_within=10).acting(SUE)
    for target, why in [
        ("old.ida", "old.ida is not active"),
        ("risk.rui", "risk.rui does not hold a role that works the operations queue"),
        ("no.one", "no person 'no.one' in the staff directory"),
    ]:
        refused = await reassign_queue(sue, db, "zh.amy", target, "amy is on leave")
        assert (refused.outcome, refused.message) == (Outcome.REFUSED, why)
    assert holding(await calls(harness, cases)) == held

    # Shared in amy's team: bob is full, cai has room and works every product.
    await add_person(db, "zh.cai", languages="zh", capacity=5)
    moved = (await reassign_queue(sue, db, "zh.amy", None, "amy is on leave")).unwrap()

    amys = sorted(name for name, person in held.items() if person == "zh.amy")
    assert sorted(p.task_key for p in moved.placed) == sorted(
        rows[name].idempotency_key for name in amys
    )
    assert {p.person_id for p in moved.placed} == {"zh.cai"}
    assert moved.message == "zh.amy's queue to the team: 2 placed, 0 unplaced, 0 refused"
    after = await calls(harness, cases)
    assert {name: after[name].assignee for name in amys} == dict.fromkeys(amys, "zh.cai")
    assert {after[name].assigned_by for name in amys} == {"sup.sue"}
    assert {n: p for n, p in holding(after).items() if n not in amys} == {
        n: p for n, p in held.items() if n not in amys
    }

    # And by name, in one call: cai's whole queue to bob.
    to_bob = (await reassign_queue(sue, db, "zh.cai", "zh.bob", "cai moves team")).unwrap()
    assert len(to_bob.placed) == 2 and to_bob.refused == ()
    final = await calls(harness, cases)
    assert {final[name].assignee for name in amys} == {"zh.bob"}
