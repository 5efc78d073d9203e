"""The team's queues, for supervisors (the tasks page's `queues` view): each collector's open
tasks against their capacity, a form that moves all of one person's tasks to another or shares
them out in their team, and the allocator run now (`operations.allocation`).

The routes are the tasks page's (`api.console.tasks`); this module draws the view and acts.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from api.console.forms import posted
from api.console.i18n import translator
from api.console.pages import Operator, answered, forbidden, gateway_of, render
from operations import allocation
from operations.allocation import AllocationReport
from operations.roles import Role
from readmodel.engine import Database

BACK = "/console/tasks?view=queues"
VERBS = ("move", "allocate")
REASONS_SHOWN = 3  # distinct reasons tasks were left unplaced, after the counts


def sees_queues(operator: Operator) -> bool:
    return Role.SUPERVISOR in operator.roles


async def page(request: Request, operator: Operator, db: Database) -> HTMLResponse:
    if not sees_queues(operator):
        return forbidden(request, operator)
    loads = await allocation.queue_loads(db)
    takers = [q.person_id for q in loads if q.active and Role.OPERATIONS in q.roles]
    return render(request, "queues.html", operator, view="queues", loads=loads, takers=takers)


async def act(request: Request, operator: Operator, verb: str, db: Database) -> Response:
    """`allocate` (the allocator now) or `move` (a whole queue: `from_person`, `to_person`,
    blank for the team, and `reason`); the answer is shown on the view."""
    if not sees_queues(operator) or verb not in VERBS:
        return forbidden(request, operator)
    gateway = gateway_of(request, operator)
    if verb == "allocate":
        report = await allocation.allocate_open_tasks(gateway, db, asked_by=operator.staff)
        return answered(BACK, _told(report))
    form = await posted(request)
    to_person = form.get("to_person", "").strip() or None
    answer = await allocation.reassign_queue(
        gateway, db, form.get("from_person", ""), to_person, form.get("reason", "")
    )
    if not answer.ok:
        return answered(BACK, f"{translator(operator.language)('error')}: {answer.message}")
    return answered(BACK, _told(answer.unwrap()))


def _told(report: AllocationReport) -> str:
    reasons = sorted({u.message for u in report.unplaced} | {r.message for r in report.refused})
    return "; ".join([report.message, *reasons[:REASONS_SHOWN]])
