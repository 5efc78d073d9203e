"""A legal referral on the time-skipping server: returned, carried through proceedings to
closure, living for years across continue-as-new, and letting the case contact the customer.
The `handoffs` row is read back as the legal inbox shows it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio import workflow
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import ParentClosePolicy

from activities.case_store import CaseStoreActivities
from activities.dossier import DossierActivities
from models.case_writes import (
    CaseSnapshot,
    CaseWrite,
)
from models.contracts import (
    Account,
    CaseInput,
    ContactPoints,
    Stage,
)
from models.departments import (
    AcceptReferralInput,
    CaseSummary,
    ContactPermissionInput,
    LegalOutcome,
    LegalOutcomeKind,
    LegalReferralInput,
    LegalState,
    Precondition,
    Proceeding,
    ProceedingInput,
    ProceedingKind,
    ReturnReferralInput,
    handoff_id,
)
from models.strategy import Segment
from readmodel.engine import Database
from readmodel.tables import HandoffRow
from tests.time_skip import skip
from workers.runners import CHECKED
from workflows.legal_referral import (
    CONTACT_PERMISSION_SIGNAL,
    OUTCOME_SIGNAL,
    LegalReferralWorkflow,
    proceeding_problem,
)

Referral = LegalReferralWorkflow
Handle = WorkflowHandle[Referral, LegalOutcome]
Kind = ProceedingKind
_accounts = itertools.count(1)

MET = (
    Precondition("two effective contacts 30+ days apart", True, "c/s3 2026-01-02; c/v9 2026-02-10"),
    Precondition("more than 3 months unpaid", True, "oldest due 2025-10-25, 120 days past due"),
    Precondition("supervisor approval", True, "approved by wang.fang"),
)


@workflow.defn(name="LegalTestCase", sandboxed=False)
class CaseStandIn:
    """Stands in for the case as it starts a referral: a child it abandons, which answers by
    signal; it hears contact permissions and the outcome."""

    def __init__(self) -> None:
        self.permissions: list[ContactPermissionInput] = []
        self.outcome: LegalOutcome | None = None

    @workflow.run
    async def run(self, input: LegalReferralInput) -> LegalOutcome:
        await workflow.start_child_workflow(
            Referral.run,
            input,
            id=handoff_id("legal", input.summary.account_no, 1),
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        await workflow.wait_condition(lambda: self.outcome is not None)
        assert self.outcome is not None
        return self.outcome

    @workflow.signal(name=CONTACT_PERMISSION_SIGNAL)
    def legal_contact_permission(self, permission: ContactPermissionInput) -> None:
        self.permissions.append(permission)

    @workflow.signal(name=OUTCOME_SIGNAL)
    def legal_outcome(self, outcome: LegalOutcome) -> None:
        self.outcome = outcome

    @workflow.query
    def heard(self) -> list[ContactPermissionInput]:
        return self.permissions


@workflow.defn(name="LegalTestGoneCase", sandboxed=False)
class GoneCase:
    """A case that started its referral and ended, leaving the referral running."""

    @workflow.run
    async def run(self, input: LegalReferralInput) -> str:
        child = await workflow.start_child_workflow(
            Referral.run,
            input,
            id=handoff_id("legal", input.summary.account_no, 1),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        return child.id


@dataclass
class LegalDesk:
    env: WorkflowEnvironment
    queue: str
    db: Database
    started: list[str] = field(default_factory=list)

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def referral_input(self, **changes: object) -> LegalReferralInput:
        """A referral for a new account whose case is in the read model."""
        account_no = f"62228888{next(_accounts):08d}"
        now = await self.env.get_current_time()
        await self._seed_case(account_no, now)
        summary = CaseSummary(
            case_id=f"case-{account_no}",
            account_no=account_no,
            customer_ref="CUST000042",
            product="card",
            currency="CNY",
            outstanding_minor=900_000,
            overdue_minor=300_000,
            days_past_due=120,
            segment=Segment.HIGH,
            score=380,
            promises_kept=0,
            promises_broken=2,
            contacts_sent=14,
        )
        referral = LegalReferralInput(summary=summary, approved_by="wang.fang", preconditions=MET)
        return replace(referral, **changes)  # type: ignore[arg-type]

    async def start(self, **changes: object) -> Handle:
        input = await self.referral_input(**changes)
        handle = await self.env.client.start_workflow(
            Referral.run,
            input,
            id=handoff_id("legal", input.summary.account_no, 1),
            task_queue=self.queue,
        )
        self.started.append(handle.id)
        return handle

    async def _seed_case(self, account_no: str, now: datetime) -> None:
        account = Account(
            account_no=account_no,
            product="card",
            currency="CNY",
            outstanding_minor=900_000,
            overdue_minor=300_000,
            oldest_due_date=now.date() - timedelta(days=120),
        )
        snapshot = CaseSnapshot(
            case_id=f"case-{account_no}",
            account_no=account_no,
            customer_ref="CUST000042",
            stage=Stage.COLLECTOR,
            segment=Segment.HIGH,
            score=380,
            strategy_version="default@1",
            days_past_due=120,
            currency="CNY",
            outstanding_minor=900_000,
            overdue_minor=300_000,
            closed_reason=None,
            updated_at=now.astimezone(UTC),
        )
        opened = CaseInput(
            customer_ref="CUST000042",
            contact=ContactPoints(mobile="+8613900139000"),
            account=account,
            customer_name="李娜",
        )
        await CaseStoreActivities(self.db).write_case(CaseWrite(snapshot=snapshot, opened=opened))

    async def row(self, key: str) -> HandoffRow | None:
        async with self.db.session() as session:
            rows = await session.exec(select(HandoffRow).where(HandoffRow.idempotency_key == key))
            return rows.first()

    async def row_once(self, key: str, status: str, *, dossier: bool = True) -> HandoffRow:
        """The row once it shows `status` (and, by default, its dossier)."""
        row = None
        for _ in range(300):
            row = await self.row(key)
            if row is not None and row.status == status and (row.dossier or not dossier):
                return row
            await asyncio.sleep(0.02)
        raise AssertionError(f"handoff {key} never reached {status}: {row}")

    async def sleep_days(self, days: float) -> None:
        await skip(self.env, timedelta(days=days), self.started)


@pytest.fixture
async def desk(
    ts_env: WorkflowEnvironment, task_queue: str, sqlite_db: Database
) -> AsyncIterator[LegalDesk]:
    """A worker like the `legal` queue's: the referral, the handoff store and the dossier."""
    async with Worker(
        ts_env.client,
        task_queue=task_queue,
        workflows=[Referral, CaseStandIn, GoneCase],
        activities=[
            CaseStoreActivities(sqlite_db).write_handoff,
            DossierActivities(sqlite_db).build_dossier,
        ],
        workflow_runner=CHECKED,
    ):
        yield LegalDesk(env=ts_env, queue=task_queue, db=sqlite_db)


async def refusal(handle: Handle, update: object, arg: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, arg)  # type: ignore[call-overload]
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidAction"
    return cause.message


def step(kind: Kind, on: date, amount: int | None = None, note: str = "") -> ProceedingInput:
    return ProceedingInput(kind=kind, on=on, by="zhao.lei", note=note, amount_minor=amount)


async def test_legal_returns_the_referral_with_a_reason(desk: LegalDesk) -> None:
    handle = await desk.start()

    referred = await desk.row_once(handle.id, "referred")
    assert referred.department == "legal"
    assert referred.reason == "referred, approved by wang.fang"
    assert referred.dossier is not None and referred.dossier["approved_by"] == "wang.fang"
    assert "a reason is required" in await refusal(
        handle, Referral.return_referral, ReturnReferralInput(by="zhao.lei", reason=" ")
    )
    assert "reason holds a control character" in await refusal(
        handle, Referral.return_referral, ReturnReferralInput(by="zhao.lei", reason="no\x00proof")
    )
    assert "reason is longer than 2000 characters" in await refusal(
        handle, Referral.return_referral, ReturnReferralInput(by="zhao.lei", reason="n" * 2_001)
    )

    status = await handle.execute_update(
        Referral.return_referral,
        ReturnReferralInput(by="zhao.lei", reason="no evidence of the second contact"),
    )

    assert status.status == "returned"
    outcome = await handle.result()
    assert outcome == LegalOutcome(LegalOutcomeKind.RETURNED, "no evidence of the second contact")
    row = await desk.row_once(handle.id, "returned")
    assert row.reason == "returned by zhao.lei: no evidence of the second contact"
    assert row.dossier == referred.dossier  # the evidence stays with the row


async def test_an_accepted_referral_goes_from_filing_to_judgment_and_closure(
    desk: LegalDesk,
) -> None:
    handle = await desk.start()
    today = await desk.today()
    assert "accept it first" in await refusal(
        handle, Referral.record_proceeding, step(Kind.FILED, today)
    )

    accepted = await handle.execute_update(Referral.accept, AcceptReferralInput(by="zhao.lei"))
    assert (accepted.status, accepted.accepted_by) == ("accepted", "zhao.lei")
    assert (await desk.row_once(handle.id, "accepted")).reason == "accepted by zhao.lei"
    assert "already accepted by zhao.lei" in await refusal(
        handle, Referral.accept, AcceptReferralInput(by="li.na")
    )
    assert "record 'filed' first" in await refusal(
        handle, Referral.record_proceeding, step(Kind.HEARING, today)
    )
    assert "in the future" in await refusal(
        handle, Referral.record_proceeding, step(Kind.FILED, today + timedelta(days=2))
    )

    await handle.execute_update(Referral.record_proceeding, step(Kind.FILED, today))
    await desk.sleep_days(45)
    hearing_day = await desk.today()
    await handle.execute_update(
        Referral.record_proceeding, step(Kind.HEARING, hearing_day, note="first hearing")
    )
    assert "record 'judgment' first" in await refusal(
        handle, Referral.record_proceeding, step(Kind.ENFORCEMENT, hearing_day)
    )
    await desk.sleep_days(30)
    judgment_day = await desk.today()
    assert "amount must be positive" in await refusal(
        handle, Referral.record_proceeding, step(Kind.JUDGMENT, judgment_day, amount=0)
    )
    await handle.execute_update(
        Referral.record_proceeding, step(Kind.JUDGMENT, judgment_day, amount=950_000)
    )
    judged = await desk.row_once(handle.id, "judgment")
    assert judged.reason == f"judgment on {judgment_day} by zhao.lei, amount 950000 CNY"
    assert "cannot come after the judgment" in await refusal(
        handle, Referral.record_proceeding, step(Kind.HEARING, judgment_day)
    )
    assert "already recorded" in await refusal(
        handle, Referral.record_proceeding, step(Kind.FILED, judgment_day)
    )
    assert "before the last proceeding" in await refusal(
        handle, Referral.record_proceeding, step(Kind.CLOSED, hearing_day)
    )

    await desk.sleep_days(20)
    closed = await handle.execute_update(
        Referral.record_proceeding,
        step(Kind.CLOSED, await desk.today(), amount=950_000, note="judgment paid in full"),
    )

    assert closed.status == "closed"
    assert [p.kind for p in closed.proceedings] == [
        Kind.FILED,
        Kind.HEARING,
        Kind.JUDGMENT,
        Kind.CLOSED,
    ]
    outcome = await handle.result()
    assert outcome == LegalOutcome(LegalOutcomeKind.CLOSED, "judgment paid in full", 950_000)
    row = await desk.row_once(handle.id, "closed")
    assert row.dossier is not None and len(row.dossier["preconditions"]) == len(MET)
    # The referral has ended: nothing more is taken.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(
            Referral.record_proceeding, step(Kind.ENFORCEMENT, await desk.today())
        )


async def test_filing_is_refused_while_a_precondition_is_not_met(desk: LegalDesk) -> None:
    unmet = (MET[0], Precondition("more than 3 months unpaid", False, "75 days past due"))
    handle = await desk.start(preconditions=unmet)
    await handle.execute_update(Referral.accept, AcceptReferralInput(by="zhao.lei"))

    message = await refusal(
        handle, Referral.record_proceeding, step(Kind.FILED, await desk.today())
    )

    assert message == "cannot file: precondition(s) not met: more than 3 months unpaid"
    settled = await handle.execute_update(
        Referral.record_proceeding,
        step(Kind.SETTLED, await desk.today(), amount=250_000, note="settled before filing"),
    )
    assert settled.status == "closed"
    assert await handle.result() == LegalOutcome(
        LegalOutcomeKind.SETTLED, "settled before filing", 250_000
    )


async def test_a_referral_lives_for_years_across_continue_as_new(desk: LegalDesk) -> None:
    handle = await desk.start(history_limit=40)
    first_run = handle.first_execution_run_id
    await handle.execute_update(Referral.accept, AcceptReferralInput(by="zhao.lei"))
    await handle.execute_update(Referral.record_proceeding, step(Kind.FILED, await desk.today()))

    hearings = 12
    for n in range(hearings):  # one every two months: two years in court
        await desk.sleep_days(61)
        await handle.execute_update(
            Referral.record_proceeding, step(Kind.HEARING, await desk.today(), note=f"h{n}")
        )

    assert (await handle.describe()).run_id != first_run
    status = await handle.query(Referral.referral)
    assert (status.status, status.accepted_by) == ("accepted", "zhao.lei")
    assert [p.kind for p in status.proceedings] == [Kind.FILED] + [Kind.HEARING] * hearings
    assert [p.note for p in status.proceedings[1:]] == [f"h{n}" for n in range(hearings)]
    assert status.preconditions == MET
    row = await desk.row_once(handle.id, "hearing")
    assert row.dossier is not None  # built once, on the first run, and kept

    await handle.execute_update(
        Referral.record_proceeding, step(Kind.SETTLED, await desk.today(), amount=600_000)
    )
    outcome = await handle.result()
    assert (outcome.kind, outcome.amount_minor) == (LegalOutcomeKind.SETTLED, 600_000)


async def test_contact_permission_is_recorded_without_a_parent(desk: LegalDesk) -> None:
    handle = await desk.start()
    assert "reason is required" in await refusal(
        handle, Referral.set_contact_permission, ContactPermissionInput(True, "zhao.lei", "")
    )

    status = await handle.execute_update(
        Referral.set_contact_permission,
        ContactPermissionInput(allowed=True, by="zhao.lei", reason="negotiating a settlement"),
    )

    assert status.contact_allowed
    assert (await handle.query(Referral.referral)).contact_allowed
    row = await desk.row_once(handle.id, "referred")
    assert row.reason == "contact allowed by zhao.lei: negotiating a settlement"


async def test_contact_permission_reaches_the_case_even_after_continue_as_new(
    desk: LegalDesk,
) -> None:
    input = await desk.referral_input(history_limit=40)
    case = await desk.env.client.start_workflow(
        CaseStandIn.run, input, id=f"case-{input.summary.account_no}", task_queue=desk.queue
    )
    child_id = handoff_id("legal", input.summary.account_no, 1)
    await desk.row_once(child_id, "referred")
    child: Handle = desk.env.client.get_workflow_handle_for(Referral.run, child_id)
    first_run = (await child.describe()).run_id
    allow = ContactPermissionInput(allowed=True, by="zhao.lei", reason="payment talks")
    await child.execute_update(Referral.set_contact_permission, allow)
    await child.execute_update(Referral.accept, AcceptReferralInput(by="zhao.lei"))
    await child.execute_update(Referral.record_proceeding, step(Kind.FILED, await desk.today()))
    for _ in range(5):
        await desk.sleep_days(30)
        await child.execute_update(
            Referral.record_proceeding, step(Kind.HEARING, await desk.today())
        )
    assert (await child.describe()).run_id != first_run

    stop = ContactPermissionInput(allowed=False, by="zhao.lei", reason="hearing next week")
    status = await child.execute_update(Referral.set_contact_permission, stop)

    assert not status.contact_allowed
    assert await case.query(CaseStandIn.heard) == [allow, stop]
    await child.execute_update(
        Referral.record_proceeding, step(Kind.CLOSED, await desk.today(), note="written off")
    )
    assert await case.result() == LegalOutcome(LegalOutcomeKind.CLOSED, "written off")


async def test_the_case_hears_a_returned_referral(desk: LegalDesk) -> None:
    input = await desk.referral_input()
    case = await desk.env.client.start_workflow(
        CaseStandIn.run, input, id=f"case-{input.summary.account_no}", task_queue=desk.queue
    )
    child_id = handoff_id("legal", input.summary.account_no, 1)
    await desk.row_once(child_id, "referred")
    child: Handle = desk.env.client.get_workflow_handle_for(Referral.run, child_id)

    await child.execute_update(
        Referral.return_referral, ReturnReferralInput(by="zhao.lei", reason="dispute pending")
    )

    returned = LegalOutcome(LegalOutcomeKind.RETURNED, "dispute pending")
    assert await case.result() == returned == await child.result()


async def test_a_cancelled_referral_leaves_no_live_row(desk: LegalDesk) -> None:
    handle = await desk.start()
    await handle.execute_update(Referral.accept, AcceptReferralInput(by="zhao.lei"))

    await handle.cancel()

    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    row = await desk.row_once(handle.id, "cancelled")
    assert row.reason == "cancelled: the case closed or moved on" and row.dossier is not None


async def test_contact_permission_is_kept_when_the_case_has_ended(desk: LegalDesk) -> None:
    input = await desk.referral_input()
    child_id = await desk.env.client.execute_workflow(
        GoneCase.run, input, id=f"case-{input.summary.account_no}", task_queue=desk.queue
    )
    await desk.row_once(child_id, "referred")
    child: Handle = desk.env.client.get_workflow_handle_for(Referral.run, child_id)

    status = await child.execute_update(
        Referral.set_contact_permission,
        ContactPermissionInput(allowed=True, by="zhao.lei", reason="payment talks"),
    )

    assert status.contact_allowed and status.status == "referred"


# --- the order of proceedings, without a server ------------------------------------------

TODAY = date(2027, 5, 1)


def accepted(*kinds: Kind) -> LegalState:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    proceedings = [Proceeding(k, date(2027, 1, 1), "zhao.lei", "", None, at) for k in kinds]
    return LegalState(status="accepted", accepted_by="zhao.lei", proceedings=proceedings)


@pytest.mark.parametrize(
    ("done", "kind", "expected"),
    [
        ((), Kind.FILED, None),
        ((), Kind.SETTLED, None),
        ((), Kind.CLOSED, None),
        ((), Kind.JUDGMENT, "record 'filed' first"),
        ((), Kind.ENFORCEMENT, "record 'judgment' first"),
        ((Kind.FILED,), Kind.JUDGMENT, None),  # a judgment by default, without a hearing
        ((Kind.FILED, Kind.HEARING), Kind.HEARING, None),
        ((Kind.FILED, Kind.JUDGMENT), Kind.ENFORCEMENT, None),
        ((Kind.FILED, Kind.JUDGMENT, Kind.ENFORCEMENT), Kind.ENFORCEMENT, None),
        ((Kind.FILED, Kind.JUDGMENT), Kind.JUDGMENT, "already recorded"),
        ((Kind.FILED, Kind.JUDGMENT, Kind.ENFORCEMENT), Kind.HEARING, "cannot come after"),
        ((Kind.FILED, Kind.JUDGMENT, Kind.ENFORCEMENT), Kind.SETTLED, None),
    ],
)
def test_proceedings_follow_the_order_of_a_lawsuit(
    done: tuple[Kind, ...], kind: Kind, expected: str | None
) -> None:
    problem = proceeding_problem(accepted(*done), step(kind, TODAY), MET, TODAY)

    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem


def test_nothing_is_recorded_after_closure_or_settlement() -> None:
    for end in (Kind.CLOSED, Kind.SETTLED):
        state = replace(accepted(Kind.FILED, end), status="closed")

        problem = proceeding_problem(state, step(Kind.ENFORCEMENT, TODAY), MET, TODAY)

        assert problem == f"the referral ended ({end} on 2027-01-01): nothing comes after it"
