"""`collections tasks`: the collectors' and supervisors' work queues.

- `list [--queue operations|supervisor] [--status open] [--assignee X] [--case ACCOUNT]`:
  from the database (`human_tasks`), soonest deadline first.
- `claim TASK_KEY --collector C`: locks the task to the collector.
- `complete TASK_KEY --collector C --outcome O [--note] [--promised-amount-minor N
  --promised-date D] [--visit-collectors a,b --consent]`: reports the outcome.
The task's row names its case; claiming and completing are that case's `claim_task` and
`complete_task` updates, and the case decides (locked to another collector, an outcome that
does not fit the task, a field visit by one collector ... are refused with its message).

Exit codes: 0 done; 1 refused by the case (nothing changed); 2 usage error, Temporal or the
database unreachable; 3 no task with that key; 4 the case is closed. See `cli.actions`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    CommandEnv,
    CommandError,
    JsonOption,
    at_minute,
    jsonable,
    launch,
)
from cli.case_actions import act, workflow_id_for
from models.departments import (
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    TaskOutcome,
    TaskStatus,
)
from workflows.case import CollectionCaseWorkflow as Case

if TYPE_CHECKING:
    from readmodel.tables import HumanTaskRow

tasks_app = typer.Typer(
    name="tasks", help="List, claim and complete collectors' tasks.", no_args_is_help=True
)

TaskKeyArg = Annotated[
    str, typer.Argument(metavar="TASK_KEY", help="As `tasks list` shows it: case-…/…/t<n>.")
]
CollectorOpt = Annotated[str, typer.Option(help="Who works the task (a collector's id).")]


class Queue(StrEnum):
    OPERATIONS = "operations"
    SUPERVISOR = "supervisor"


@tasks_app.command("list")
def list_command(
    queue: Annotated[Queue | None, typer.Option(help="Only this queue.")] = None,
    status: Annotated[TaskStatus | None, typer.Option(help="Only tasks in this status.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only tasks of this collector.")] = None,
    case: Annotated[str | None, typer.Option(help="Only tasks of this account's case.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Tasks from the work queues, soonest deadline first."""
    launch(
        lambda env: list_tasks(
            env, queue=queue, status=status, assignee=assignee, case=case, limit=limit
        ),
        json_output=json_output,
    )


async def list_tasks(
    env: CommandEnv,
    *,
    queue: Queue | None = None,
    status: TaskStatus | None = None,
    assignee: str | None = None,
    case: str | None = None,
    limit: int = 100,
) -> int:
    from readmodel import queries

    rows = await queries.list_tasks(
        env.database(),
        queue=queue.value if queue is not None else None,
        status=status.value if status is not None else None,
        assignee=assignee,
        case_id=workflow_id_for(case) if case else None,
        limit=limit,
    )
    if env.json_output:
        return env.print_json({"tasks": [task_view(row) for row in rows]})
    if not rows:
        env.say("no tasks match")
        return EXIT_OK
    columns = ("task", "kind", "queue", "status", "assignee", "deadline", "outcome")
    env.table(
        columns,
        [
            (
                row.idempotency_key,
                row.kind,
                row.queue,
                row.status,
                row.assignee or "-",
                at_minute(row.deadline),
                row.outcome or "-",
            )
            for row in rows
        ],
        title="Tasks",
    )
    return EXIT_OK


def task_view(row: HumanTaskRow) -> dict[str, object]:
    return {
        "task_key": row.idempotency_key,
        "case_id": row.case_id,
        "kind": row.kind,
        "queue": row.queue,
        "status": row.status,
        "assignee": row.assignee,
        "outcome": row.outcome,
        "deadline": jsonable(row.deadline),
        "created_at": jsonable(row.created_at),
        "closed_at": jsonable(row.closed_at),
    }


async def task_case(env: CommandEnv, task_key: str) -> str:
    """The case that owns the task, from the task's row."""
    from readmodel import queries

    row = await queries.get_task(env.database(), task_key=task_key)
    if row is None:
        raise CommandError(EXIT_NOT_FOUND, f"no task {task_key}")
    return row.case_id


@tasks_app.command("claim")
def claim(task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False) -> None:
    """Take a task: it is locked to you until you complete it."""
    req = ClaimTaskInput(task_key=task_key, collector=collector)
    launch(lambda env: claim_task(env, req), json_output=json_output)


async def claim_task(env: CommandEnv, req: ClaimTaskInput) -> int:
    return await act(env, await task_case(env, req.task_key), Case.claim_task, req)


@tasks_app.command("complete")
def complete(
    task_key: TaskKeyArg,
    collector: CollectorOpt,
    outcome: Annotated[TaskOutcome, typer.Option(help="What came of it.")],
    note: Annotated[str, typer.Option(help="For the record.")] = "",
    promised_amount_minor: Annotated[
        int | None, typer.Option(help="With promise_made: minor units.")
    ] = None,
    promised_date: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="With promise_made.")
    ] = None,
    visit_collectors: Annotated[
        str | None, typer.Option(help="A field visit: both collectors who went, as a,b.")
    ] = None,
    consent: Annotated[
        bool, typer.Option(help="A field visit: the customer consented to the collectors entering.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Report a task's outcome; the case steers by it (a promise, a field visit, legal ...)."""
    req = CompleteTaskInput(
        task_key=task_key,
        collector=collector,
        outcome=outcome,
        note=note,
        promised_amount_minor=promised_amount_minor,
        promised_date=promised_date.date() if promised_date else None,
        visit=visit_report(visit_collectors, consent),
    )
    launch(lambda env: complete_task(env, req), json_output=json_output)


def visit_report(collectors: str | None, consent: bool) -> FieldVisitReport | None:
    if collectors is None:
        if consent:
            raise typer.BadParameter("goes with --visit-collectors", param_hint="--consent")
        return None
    names = tuple(name.strip() for name in collectors.split(",") if name.strip())
    return FieldVisitReport(collectors=names, consent_to_enter=consent)


async def complete_task(env: CommandEnv, req: CompleteTaskInput) -> int:
    return await act(env, await task_case(env, req.task_key), Case.complete_task, req)
