"""Collectors' and supervisors' work queues: list tasks, claim one, report its outcome.

The `human_tasks` table lists the work; claiming and completing go to the owning case as
its `claim_task` and `complete_task` updates, and the case decides (a task locked to another
collector, an outcome that does not fit the task ... come back as 400 with its message).
A task key holds slashes (`case-<account_no>/<opened>/t<n>`): it is the path up to the verb.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from api.auth import require_roles
from api.deps import DatabaseDep, GatewayDep
from api.errors import answered
from api.routes.cases import REFUSALS, ApprovalRequested, Offset, Order, awaiting_or_answered
from models.contracts import ActionResult
from models.tasks import (
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskKind,
    TaskOutcome,
    TaskStatus,
    VisitCheckInput,
    VisitSlotInput,
)
from operations import allocation, departments
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import TaskSort
from readmodel.tables import HumanTaskRow

Queue = Literal["operations", "supervisor"]

# Supervisor first: a key holding both roles is answered as a supervisor, who works both queues.
CallerRole = Annotated[Role, Depends(require_roles(Role.SUPERVISOR, Role.OPERATIONS))]

router = APIRouter(prefix="/tasks", tags=["tasks"])


class TaskView(BaseModel):
    task_key: str
    case_id: str
    kind: TaskKind
    queue: str
    status: TaskStatus
    assignee: str | None
    outcome: TaskOutcome | None
    deadline: datetime
    created_at: datetime
    closed_at: datetime | None
    assigned_by: str | None = None
    right_party: bool | None = None
    call_seconds: int | None = None
    visit_start: datetime | None = None
    visit_end: datetime | None = None
    visit_collectors: list[str] = []
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None

    @classmethod
    def of(cls, row: HumanTaskRow) -> TaskView:
        return cls(
            task_key=row.idempotency_key,
            case_id=row.case_id,
            kind=TaskKind(row.kind),
            queue=row.queue,
            status=TaskStatus(row.status),
            assignee=row.assignee,
            outcome=TaskOutcome(row.outcome) if row.outcome else None,
            deadline=row.deadline,
            created_at=row.created_at,
            closed_at=row.closed_at,
            assigned_by=row.assigned_by,
            right_party=row.right_party,
            call_seconds=row.call_seconds,
            visit_start=row.visit_start,
            visit_end=row.visit_end,
            visit_collectors=(row.visit_collectors or "").split(",")
            if row.visit_collectors
            else [],
            checked_in_at=row.checked_in_at,
            checked_out_at=row.checked_out_at,
        )


class ClaimBody(BaseModel):
    collector: str = ""  # you: blank or your own id (another person's is refused, 403)


class CompleteBody(BaseModel):
    """`CompleteTaskInput` without the task key, which is in the path."""

    collector: str = ""  # you: blank or your own id (another person's is refused, 403)
    outcome: TaskOutcome
    note: str = ""
    promised_amount_minor: int | None = None  # with promise_made
    promised_date: date | None = None
    visit: FieldVisitReport | None = None  # with a field visit: both collectors, and consent
    right_party: bool | None = None  # spoke with the customer themself
    call_seconds: int | None = None  # the call's length


@router.get("")
async def list_tasks(
    _: CallerRole,
    db: DatabaseDep,
    queue: Queue | None = None,
    task_status: Annotated[TaskStatus | None, Query(alias="status")] = None,
    assignee: str | None = None,
    case_id: str | None = None,
    sort: TaskSort = TaskSort.DEADLINE,
    order: Order = "asc",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[TaskView]:
    """Soonest deadline first; `sort` by `deadline`, `created`, `kind` or `status` (in their
    listed order), or `priority` (a collector's queue: overdue first, then by the day the
    deadline falls in, a promise falling due within two days, the larger balance, the more
    days past due); equal values by when the row was first written, in the same direction;
    `offset` skips that many."""
    rows = await queries.list_tasks(
        db,
        queue=queue,
        status=task_status.value if task_status else None,
        assignee=assignee,
        case_id=case_id,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return [TaskView.of(row) for row in rows]


@router.post("/{task_key:path}/claim", responses=REFUSALS)
async def claim_task(
    task_key: str, body: ClaimBody, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    row = await task_for(db, task_key, role)
    collector = body.collector or _me(gateway)
    return answered(await departments.claim_task(gateway, row.case_id, task_key, collector))


@router.post("/{task_key:path}/complete", responses={**REFUSALS, 202: {"model": ApprovalRequested}})
async def complete_task(
    task_key: str,
    body: CompleteBody,
    role: CallerRole,
    db: DatabaseDep,
    gateway: GatewayDep,
    response: Response,
) -> ActionResult | ApprovalRequested:
    """The outcome steers the case: a promise pauses contact, not found plans a visit ...
    Upholding a dispute or approving a legal referral waits for a second person (202)."""
    row = await task_for(db, task_key, role)
    fields = {**body.model_dump(), "collector": body.collector or _me(gateway)}
    report = CompleteTaskInput(task_key=task_key, **fields)
    answer = await departments.complete_task(gateway, db, row.case_id, report)
    return awaiting_or_answered(answer, response)


class AssignBody(BaseModel):
    assignee: str  # an active person whose role works the task's queue
    reason: str = ""


class VisitBody(BaseModel):
    """A field visit's slot, in the customer's own time, and the two collectors who go."""

    day: date
    start: time
    end: time
    collectors: tuple[str, ...]


class CheckBody(BaseModel):
    collector: str = ""  # you: blank or your own id


SupervisorRole = Annotated[Role, Depends(require_roles(Role.SUPERVISOR))]


@router.post("/{task_key:path}/assign", responses=REFUSALS)
async def assign_task(
    task_key: str, body: AssignBody, _: SupervisorRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    """Puts the task in one person's queue (a supervisor's, or the allocator's, decision); an
    unknown or inactive person, or one whose role does not work the queue, is refused (400)."""
    return answered(
        await departments.assign_task(gateway, db, task_key, body.assignee, body.reason)
    )


@router.post("/{task_key:path}/book-visit", responses=REFUSALS)
async def book_visit(
    task_key: str, body: VisitBody, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    """Books a field visit within the contact hours in the customer's time; a visit nobody
    checks in to by the slot's end escalates to a supervisor."""
    row = await task_for(db, task_key, role)
    req = VisitSlotInput(task_key=task_key, **body.model_dump())
    return answered(await departments.book_visit(gateway, row.case_id, req))


@router.post("/{task_key:path}/check-in", responses=REFUSALS)
async def check_in(
    task_key: str, body: CheckBody, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    row = await task_for(db, task_key, role)
    req = VisitCheckInput(task_key=task_key, collector=body.collector or _me(gateway))
    return answered(await departments.check_visit(gateway, row.case_id, req, leaving=False))


@router.post("/{task_key:path}/check-out", responses=REFUSALS)
async def check_out(
    task_key: str, body: CheckBody, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    row = await task_for(db, task_key, role)
    req = VisitCheckInput(task_key=task_key, collector=body.collector or _me(gateway))
    return answered(await departments.check_visit(gateway, row.case_id, req, leaving=True))


class CallBody(BaseModel):
    agent_phone: str  # your own phone, E.164: it rings once the customer answers
    collector: str = ""  # you: blank or your own id


@router.post("/{task_key:path}/call", responses=REFUSALS)
async def place_call(
    task_key: str, body: CallBody, role: CallerRole, db: DatabaseDep, gateway: GatewayDep
) -> ActionResult:
    """Click-to-call (a collector call task): the contact policy decides first; the customer's
    phone rings, then yours. A call the policy refuses now answers 200 with `accepted: false`
    and why, and the refusal is recorded like any contact's."""
    row = await task_for(db, task_key, role)
    collector = body.collector or _me(gateway)
    req = PlaceCallInput(task_key=task_key, collector=collector, agent_phone=body.agent_phone)
    return answered(await departments.place_call(gateway, row.case_id, req))


def _me(gateway: Gateway) -> str:
    assert gateway.actor is not None, "the routes act for a caller"
    return gateway.actor.id


async def task_for(db: Database, task_key: str, role: Role) -> HumanTaskRow:
    """The task's row: 404 when unknown, 403 when the caller's role does not work its queue
    (the console asks the same)."""
    row = await queries.get_task(db, task_key=task_key)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_key}")
    if not departments.works_queue(role, row.queue):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a supervisor works this task")
    return row


# --- allocation: these two paths end in no task key, so no `/{task_key:path}/...` route above
# matches them (each of those ends in its verb after a slash).


class ReassignBody(BaseModel):
    from_person: str  # whose open tasks move (an absent collector)
    to_person: str | None = None  # an active person fit for the tasks' queues; none: the team
    reason: str


@router.post("/allocate")
async def allocate_tasks(
    _: SupervisorRole, db: DatabaseDep, gateway: GatewayDep
) -> allocation.AllocationReport:
    """Runs the allocator now (it also runs on its schedule): the operations queue's unassigned
    tasks go to collectors who speak the customer's language and work the product, round robin
    within their capacity; the tasks nobody can take are listed with why."""
    return await allocation.allocate_open_tasks(gateway, db, asked_by=_me(gateway))


@router.post("/reassign", responses=REFUSALS)
async def reassign_queue(
    body: ReassignBody, _: SupervisorRole, db: DatabaseDep, gateway: GatewayDep
) -> allocation.AllocationReport:
    """Moves every open task of `from_person` to `to_person`, or shares them out among the
    other collectors of their team; an unknown, inactive or unfit `to_person` is refused
    (400) and nothing moves."""
    answer = await allocation.reassign_queue(
        gateway, db, body.from_person, body.to_person, body.reason
    )
    return answered(answer)
