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
The task's row names its case; claiming and completing are that case's `claim_task` and
`complete_task` updates, and the case decides (locked to another collector, an outcome that
does not fit the task, a field visit by one collector ... are refused with its message).

Exit codes: 0 done; 1 refused by the case (nothing changed); 2 usage error, Temporal or the
database unreachable; 3 no task with that key; 4 the case is closed. See `cli.actions`.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

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
    settled,
)
from cli.case_actions import act, workflow_id_for
from models.contracts import ActionResult
from models.tasks import (
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskOutcome,
    TaskStatus,
    VisitCheckInput,
    VisitSlotInput,
)
from readmodel.queries.tasks import TaskSort
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
    right_party: Annotated[
        bool | None,
        typer.Option("--right-party/--not-right-party", help="Spoke with the customer themself."),
    ] = None,
    call_seconds: Annotated[
        int | None, typer.Option(min=0, help="How long the call lasted, in seconds.")
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
        right_party=right_party,
        call_seconds=call_seconds,
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


@tasks_app.command("assign")
def assign(
    task_key: TaskKeyArg,
    to: Annotated[str, typer.Option("--to", help="The person whose queue takes it.")],
    reason: Annotated[str, typer.Option(help="Why (for the record).")] = "",
    json_output: JsonOption = False,
) -> None:
    """Put a task in one person's queue (supervisors): they must be active and work its queue."""
    launch(lambda env: assign_task(env, task_key, to, reason), json_output=json_output)


async def assign_task(env: CommandEnv, task_key: str, to: str, reason: str) -> int:
    from operations import departments

    answer = await departments.assign_task(
        await env.gateway(), env.database(), task_key, to, reason
    )
    result = await settled(env, answer, f"task {task_key}", action=True)
    return said(env, result)


@tasks_app.command("book-visit")
def book_visit(
    task_key: TaskKeyArg,
    day: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The customer's day.")],
    hours: Annotated[str, typer.Option(help="HH:MM-HH:MM in the customer's time.")],
    collectors: Annotated[str, typer.Option(help="The two collectors who go, as a,b.")],
    json_output: JsonOption = False,
) -> None:
    """Book a field visit's slot; nobody checking in by its end escalates the visit."""
    start, end = slot_hours(hours)
    names = tuple(name.strip() for name in collectors.split(",") if name.strip())
    req = VisitSlotInput(task_key, day.date(), start, end, names)
    launch(
        lambda env: act_on_task(env, req.task_key, Case.book_visit, req), json_output=json_output
    )


@tasks_app.command("check-in")
def check_in(
    task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False
) -> None:
    """At the customer's door: the visit is kept, its report due within a day."""
    req = VisitCheckInput(task_key, collector)
    launch(
        lambda env: act_on_task(env, task_key, Case.check_in_visit, req), json_output=json_output
    )


@tasks_app.command("check-out")
def check_out(
    task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False
) -> None:
    """Leaving the customer's door; then complete the task with the visit's report."""
    req = VisitCheckInput(task_key, collector)
    launch(
        lambda env: act_on_task(env, task_key, Case.check_out_visit, req), json_output=json_output
    )


@tasks_app.command("call")
def call(
    task_key: TaskKeyArg,
    collector: CollectorOpt,
    agent_phone: Annotated[str, typer.Option(help="Your phone, E.164: it rings once they answer.")],
    json_output: JsonOption = False,
) -> None:
    """Click-to-call: the contact policy decides, then the customer's phone rings, then yours."""
    req = PlaceCallInput(task_key, collector, agent_phone)
    launch(lambda env: act_on_task(env, task_key, Case.place_call, req), json_output=json_output)


async def act_on_task(env: CommandEnv, task_key: str, update: Any, req: Any) -> int:
    return await act(env, await task_case(env, task_key), update, req)


def slot_hours(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise typer.BadParameter("as HH:MM-HH:MM, e.g. 10:00-12:00", param_hint="--hours") from None
    return start, end


def said(env: CommandEnv, result: ActionResult) -> int:
    if env.json_output:
        return env.print_json(jsonable(result))
    env.say(result.message, "green")
    return EXIT_OK


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
