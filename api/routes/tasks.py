"""Collectors' and supervisors' work queues: list tasks, claim one, report its outcome.

The `human_tasks` table lists the work. Every task action is a row of
`operations.catalogue.TASK_ACTIONS`: its route is made from the row (path word, body, roles)
and runs the owning case's update (`claim_task`, `complete_task` ...), and the case decides (a
task locked to another collector, an outcome that does not fit the task ... come back as 400
with its message). A task key holds slashes (`case-<account_no>/<opened>/t<n>`): it is the
path up to the verb.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal, get_type_hints

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, create_model

from api.auth import require_roles
from api.deps import DatabaseDep, GatewayDep
from api.errors import answered
from api.routes.cases import REFUSALS, ApprovalRequested, Offset, Order, awaiting_or_answered
from models.contracts import ActionResult
from models.tasks import TaskKind, TaskOutcome, TaskStatus
from operations import allocation, departments
from operations.catalogue import TASK_ACTIONS, TaskAction
from operations.gateway import Gateway
from operations.roles import Role
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries import TaskSort
from readmodel.tables import HumanTaskRow

Queue = Literal["operations", "supervisor"]

# Supervisor first: a key holding both roles is answered as a supervisor, who works both queues.
CallerRole = Annotated[Role, Depends(require_roles(Role.SUPERVISOR, Role.OPERATIONS))]
SupervisorRole = Annotated[Role, Depends(require_roles(Role.SUPERVISOR))]

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


def _me(gateway: Gateway) -> str:
    assert gateway.actor is not None, "the routes act for a caller"
    return gateway.actor.id


async def task_for(db: Database, task_key: str, role: Role) -> HumanTaskRow:
    """The task's row: 404 when unknown, 403 when the caller's role does not work its queue
    (the console asks the same)."""
    return answered(await departments.worked_task(db, task_key, role))


# --- task actions: one route per row of the catalogue ------------------------------------------


def body_of(action: TaskAction) -> type[BaseModel]:
    """The action's input without its task key, which is in the path, and without what only
    the application sets; a `collector` the caller may leave blank when it is the caller."""
    hints = get_type_hints(action.input_type)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(action.input_type):
        if field.name == "task_key" or field.name in action.internal:
            continue
        default = ... if field.default is dataclasses.MISSING else field.default
        if field.name == "collector" and action.collector_is_caller:
            default = ""  # you: blank or your own id (another person's is refused, 403)
        fields[field.name] = (hints[field.name], default)
    name = "".join(part.title() for part in action.word.split("-")) + "Body"
    doc = f"`{action.input_type.__name__}` without the task key, which is in the path."
    return create_model(name, __doc__=doc, **fields)


BODIES: dict[str, type[BaseModel]] = {word: body_of(a) for word, a in TASK_ACTIONS.items()}
# Supervisor first: a key holding both roles is answered as a supervisor, who works both queues.
_SEES_MOST = (Role.SUPERVISOR, *(role for role in Role if role is not Role.SUPERVISOR))


def _add_task_route(action: TaskAction) -> None:
    """`POST /tasks/{task_key}/<word>`: its body is `BODIES[word]`, and only the catalogue's
    roles may call it, on the queues their role works."""
    body_type = BODIES[action.word]
    roles = require_roles(*(role for role in _SEES_MOST if role in action.roles))

    async def take(
        task_key: str,
        body: Any,
        role: Role,
        db: DatabaseDep,
        gateway: GatewayDep,
        response: Response,
    ) -> ActionResult | ApprovalRequested:
        fields = {name: getattr(body, name) for name in body_type.model_fields}
        if action.collector_is_caller:
            fields["collector"] = fields["collector"] or _me(gateway)
        arg = action.input_type(task_key=task_key, **fields)
        answer = await departments.act_on_task(gateway, db, action, arg, role=role)
        return awaiting_or_answered(answer, response)

    take.__annotations__ = {
        **take.__annotations__,
        "body": body_type,
        "role": Annotated[Role, Depends(roles)],
    }
    take.__doc__ = action.summary
    waits: dict[int | str, dict[str, Any]] = {202: {"model": ApprovalRequested}}
    router.add_api_route(
        f"/{{task_key:path}}/{action.word}",
        take,
        methods=["POST"],
        name=action.name,
        response_model=ActionResult | ApprovalRequested if action.approval else ActionResult,
        responses={**REFUSALS, **(waits if action.approval else {})},
    )


for _action in TASK_ACTIONS.values():
    _add_task_route(_action)


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
