"""Maker-checker: the actions a bank lets no one take alone (writing off, settling below the
balance, resolving a dispute for the customer, approving a legal referral) are asked by one
person and approved by another, then run with both names on the record.

`act_or_ask` is the one door for a case's updates: an action that needs a second person (by
`models.permissions.second_person_for`) becomes a pending request instead of an update; any
other runs at once. `approve` runs the request as its maker with the checker named
(`Actor.approved_by`), so the timeline reads "ann (console), approved by sam"; the workflow
refuses it again if both are the same person. The request's input is kept as JSON until then.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func
from sqlmodel import col, select, update
from temporalio.workflow import UpdateMethodMultiParam

from models.contracts import CloseInput, ResolveDisputeInput, Stage
from models.people import Actor
from models.permissions import UPDATE_ROLES, may, second_person_for
from models.tasks import CompleteTaskInput, TaskKind, misfit_outcome
from operations.answers import Answer, Outcome
from operations.catalogue import update_name
from operations.gateway import Gateway
from operations.staff import Person
from readmodel import queries
from readmodel.engine import Database
from readmodel.queries.paging import Page, ordered, page_of
from readmodel.tables import ApprovalRow
from workflows.case import CollectionCaseWorkflow as Case

# The updates a request can wait to run, by name, with their input types.
_UPDATES: dict[str, tuple[UpdateMethodMultiParam[[Any, Any], Any], type]] = {
    update_name(u): (u, t)
    for u, t in (
        (Case.close, CloseInput),
        (Case.resolve_dispute, ResolveDisputeInput),
        (Case.complete_task, CompleteTaskInput),
    )
}


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # and run: `result` is the workflow's answer
    REJECTED = "rejected"
    FAILED = "failed"  # approved, but the workflow refused it (`result` says why)


def _now() -> datetime:
    return datetime.now(UTC)


async def act_or_ask(
    gateway: Gateway,
    db: Database,
    workflow_id: str,
    action: UpdateMethodMultiParam[[Any, Any], Any],
    arg: Any,
) -> Answer[Any]:
    """Runs the update, or, when it needs a second person and none approved it yet, records
    a request for one: AWAITING_APPROVAL, with the request's id."""
    actor = gateway.actor
    name = update_name(action)
    needs = second_person_for(arg)
    if not needs or actor is None or actor.approved_by:
        return await gateway.update(workflow_id, action, arg)
    if actor.roles and not may(actor.roles, name):
        allowed = ", ".join(sorted(UPDATE_ROLES[name]))
        return Answer(
            Outcome.FORBIDDEN, message=f"{name.replace('_', ' ')} needs the role {allowed}"
        )
    if misfit := await _misfit(db, arg):  # no request that could only fail at its approval
        return Answer(Outcome.REFUSED, message=misfit)
    live = await gateway.query(workflow_id, Case.status)  # unknown, closed, unreachable: say so
    if not live.ok:
        return live
    if live.unwrap().stage is Stage.CLOSED:
        return Answer(Outcome.CLOSED, message=f"{workflow_id} is closed")
    _, input_type = _UPDATES[name]
    row = ApprovalRow(
        case_id=workflow_id,
        action=name,
        input=TypeAdapter(input_type).dump_python(arg, mode="json"),
        needs=needs,
        status=ApprovalStatus.PENDING,
        requested_by=actor.id,
        requested_via=actor.via,
        requested_roles=",".join(actor.roles),
        requested_at=_now(),
    )
    async with db.session() as session:
        session.add(row)
        await session.flush()
    return Answer(
        Outcome.AWAITING_APPROVAL,
        message=f"{needs} needs a second person: request {row.id} waits for their approval",
        approval_id=row.id,
    )


async def _misfit(db: Database, arg: Any) -> str:
    """A task outcome that does not fit its task, refused as the case would refuse it."""
    if not isinstance(arg, CompleteTaskInput):
        return ""
    task = await queries.get_task(db, task_key=arg.task_key)
    return misfit_outcome(TaskKind(task.kind), arg.outcome) if task is not None else ""


async def pending(
    db: Database, *, case_id: str | None = None, limit: int = 200
) -> list[ApprovalRow]:
    query = (
        select(ApprovalRow)
        .where(ApprovalRow.status == ApprovalStatus.PENDING)
        .order_by(col(ApprovalRow.requested_at), col(ApprovalRow.id))
        .limit(limit)
    )
    if case_id:
        query = query.where(ApprovalRow.case_id == case_id)
    async with db.session() as session:
        return list(await session.exec(query))


async def pending_page(
    db: Database, *, descending: bool = False, page: int = 1, per_page: int = 50
) -> Page[ApprovalRow]:
    """Page `page` (from 1) of the requests waiting for a second person, the longest waiting
    first (the newest first if `descending`), with how many wait in all."""
    waiting = col(ApprovalRow.status) == ApprovalStatus.PENDING
    query = ordered(
        select(ApprovalRow).where(waiting),
        col(ApprovalRow.requested_at),
        col(ApprovalRow.id),
        descending=descending,
    )
    counted = select(func.count()).select_from(ApprovalRow).where(waiting)
    async with db.session() as session:
        return await page_of(session, counted, query, page=page, per_page=per_page)


async def get(db: Database, approval_id: int) -> ApprovalRow | None:
    async with db.session() as session:
        return await session.get(ApprovalRow, approval_id)


async def _checkable(db: Database, approval_id: int, checker: Person) -> Answer[ApprovalRow]:
    row = await get(db, approval_id)
    if row is None:
        return Answer(Outcome.NOT_FOUND, message=f"no approval request {approval_id}")
    if row.status != ApprovalStatus.PENDING:
        return Answer(Outcome.CLOSED, message=f"request {approval_id} is already {row.status}")
    if row.requested_by == checker.id:
        return Answer(
            Outcome.FORBIDDEN,
            message=f"{row.needs} needs a second person: {checker.id} cannot approve "
            "their own request",
        )
    if checker.roles and not may(checker.roles, row.action):
        allowed = ", ".join(sorted(UPDATE_ROLES[row.action]))
        return Answer(Outcome.FORBIDDEN, message=f"approving this needs the role {allowed}")
    return Answer(Outcome.ACCEPTED, row)


async def _decide(db: Database, row: ApprovalRow, status: str, checker: str, result: str) -> bool:
    """Moves a pending request on; False when another checker decided it first."""
    async with db.session() as session:
        moved = await session.exec(
            update(ApprovalRow)
            .where(col(ApprovalRow.id) == row.id)
            .where(col(ApprovalRow.status) == ApprovalStatus.PENDING)
            .values(status=status, decided_by=checker, decided_at=_now(), result=result[:500])
        )
        return bool(moved.rowcount)


async def approve(gateway: Gateway, db: Database, approval_id: int, checker: Person) -> Answer[Any]:
    """Runs the request as its maker, approved by `checker`: the workflow's answer, or why not
    (the same person, a missing role, a request already decided)."""
    checked = await _checkable(db, approval_id, checker)
    if not checked.ok:
        return checked
    row = checked.unwrap()
    if not await _decide(db, row, ApprovalStatus.APPROVED, checker.id, "running"):
        return Answer(Outcome.CLOSED, message=f"request {approval_id} was decided by someone else")
    action, input_type = _UPDATES[row.action]
    maker = Actor(
        row.requested_by,
        via=row.requested_via,
        roles=tuple(filter(None, row.requested_roles.split(","))),
        approved_by=checker.id,
    )
    arg: Any = TypeAdapter(input_type).validate_python(row.input)
    answer = await gateway.acting(maker).update(row.case_id, action, arg)
    outcome = ApprovalStatus.APPROVED if answer.ok else ApprovalStatus.FAILED
    message = answer.unwrap().message if answer.ok else answer.message
    async with db.session() as session:
        await session.exec(
            update(ApprovalRow)
            .where(col(ApprovalRow.id) == row.id)
            .values(status=outcome, result=message[:500])
        )
    return answer


async def reject(
    db: Database, approval_id: int, checker: Person, reason: str
) -> Answer[ApprovalRow]:
    """Declines the request; nothing is sent to the case."""
    checked = await _checkable(db, approval_id, checker)
    if not checked.ok:
        return checked
    row = checked.unwrap()
    if not reason.strip():
        return Answer(Outcome.REFUSED, message="say why the request is rejected (reason)")
    if not await _decide(db, row, ApprovalStatus.REJECTED, checker.id, reason.strip()):
        return Answer(Outcome.CLOSED, message=f"request {approval_id} was decided by someone else")
    return Answer(Outcome.ACCEPTED, await get(db, approval_id))
