"""`collections tasks`: the collectors' and supervisors' work queues.

- `list [--queue operations|supervisor] [--status open] [--assignee X] [--case ACCOUNT]
  [--sort deadline|priority|...]`: from the database (`human_tasks`), soonest deadline first
  (`priority`: a collector's queue, overdue first, then by deadline day, promise, balance).
- `allocate`, `reassign --from P [--to Q] --reason R` (supervisors): see `cli.allocation`.
- `claim TASK_KEY --collector C`: locks the task to the collector.
- `assign TASK_KEY --to P [--reason R]` (supervisors): puts the task in P's queue; P must be an
  active person whose role works the task's queue.
- `book-visit TASK_KEY --day D --hours 10:00-12:00 --collectors a,b`, `check-in`, `check-out`:
  a field visit's slot in the customer's time, and the collectors at the door.
- `complete TASK_KEY --collector C --outcome O [--note] [--promised-amount-minor N
  --promised-date D] [--visit-collectors a,b --consent]`: reports the outcome.
- `call TASK_KEY --collector C --agent-phone P`: click-to-call.
The task actions are the catalogue's (`operations.catalogue.TASK_ACTIONS`; their commands in
`cli.task_actions`). The task's row names its case; each action is that case's update
(`claim_task`, `complete_task` ...), and the case decides (locked to another collector, an
outcome that does not fit the task, a field visit by one collector ... are refused with its
message).

Exit codes: 0 done; 1 refused by the case (nothing changed); 2 usage error, Temporal or the
database unreachable; 3 no task with that key; 4 the case is closed. See `cli.actions`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.actions import EXIT_OK, CommandEnv, JsonOption, at_minute, jsonable, launch
from cli.case_actions import workflow_id_for
from cli.task_actions import add_task_commands
from models.tasks import TaskStatus
from readmodel.queries.tasks import TaskSort

if TYPE_CHECKING:
    from readmodel.tables import HumanTaskRow

tasks_app = typer.Typer(
    name="tasks", help="List, claim and complete collectors' tasks.", no_args_is_help=True
)


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
    sort: Annotated[
        TaskSort, typer.Option(help="priority: overdue, deadline day, promise, balance.")
    ] = TaskSort.DEADLINE,
    json_output: JsonOption = False,
) -> None:
    """Tasks from the work queues, soonest deadline first (or as `--sort` says)."""
    launch(
        lambda env: list_tasks(
            env, queue=queue, status=status, assignee=assignee, case=case, limit=limit, sort=sort
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
    sort: TaskSort = TaskSort.DEADLINE,
) -> int:
    from readmodel import queries

    rows = await queries.list_tasks(
        env.database(),
        queue=queue.value if queue is not None else None,
        status=status.value if status is not None else None,
        assignee=assignee,
        case_id=workflow_id_for(case) if case else None,
        limit=limit,
        sort=sort,
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


# claim, complete, assign, book-visit, check-in, check-out, call: the catalogue's task actions.
add_task_commands(tasks_app)


@tasks_app.command("allocate")
def allocate(json_output: JsonOption = False) -> None:
    """Put unassigned tasks in collectors' queues now: by language, product and capacity."""
    from cli import allocation

    launch(allocation.allocate, json_output=json_output)


@tasks_app.command("reassign")
def reassign(
    from_person: Annotated[str, typer.Option("--from", help="Whose open tasks move.")],
    reason: Annotated[str, typer.Option(help="Why (for the record), e.g. on leave.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Who takes them all; none: shared in the team.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Move a whole queue in one action (an absent collector's); a target who is inactive or
    does not work the queue is refused and nothing moves."""
    from cli import allocation

    launch(lambda env: allocation.reassign(env, from_person, to, reason), json_output=json_output)
