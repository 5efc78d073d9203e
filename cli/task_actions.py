"""`collections tasks <action>`: one command per task action of the catalogue
(`operations.catalogue.TASK_ACTIONS`), named as its word (`claim`, `book-visit` ...).

The commands written here have the command line's own flags (`--hours 10:00-12:00`, a visit's
`--visit-collectors a,b`); an action without one gets a command made from its input type
(`generated_command`), and `add_task_commands` fails at start-up if neither can be had. Each
runs the owning case's update through `cli.case_actions.act`, as a case action's command does
(approvals, output and exit codes included); assigning goes through
`operations.departments.act_on_task`, which checks the person before the case is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Annotated, Any

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    CommandEnv,
    CommandError,
    JsonOption,
    jsonable,
    launch,
    settled,
)
from cli.case_actions import CaseUpdate, act
from cli.generated import Launch, command_from_input
from models.contracts import ActionResult
from models.tasks import (
    AssignTaskInput,
    ClaimTaskInput,
    CompleteTaskInput,
    FieldVisitReport,
    PlaceCallInput,
    TaskOutcome,
    VisitCheckInput,
    VisitSlotInput,
)
from operations.catalogue import TASK_ACTIONS, TaskAction
from workflows.case import CollectionCaseWorkflow as Case

TaskKeyArg = Annotated[
    str, typer.Argument(metavar="TASK_KEY", help="As `tasks list` shows it: case-…/…/t<n>.")
]
CollectorOpt = Annotated[str, typer.Option(help="Who works the task (a collector's id).")]


async def task_case(env: CommandEnv, task_key: str) -> str:
    """The case that owns the task, from the task's row."""
    from readmodel import queries

    row = await queries.get_task(env.database(), task_key=task_key)
    if row is None:
        raise CommandError(EXIT_NOT_FOUND, f"no task {task_key}")
    return row.case_id


async def on_task(env: CommandEnv, update: CaseUpdate[Any], req: Any) -> int:
    """The update, with `req` (which names its task), on the case that owns the task."""
    return await act(env, await task_case(env, req.task_key), update, req)


def claim(task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False) -> None:
    """Take a task: it is locked to you until you complete it."""
    req = ClaimTaskInput(task_key=task_key, collector=collector)
    launch(lambda env: claim_task(env, req), json_output=json_output)


async def claim_task(env: CommandEnv, req: ClaimTaskInput) -> int:
    return await on_task(env, Case.claim_task, req)


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
    return await on_task(env, Case.complete_task, req)


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

    req = AssignTaskInput(task_key, to, reason)
    gateway = await env.gateway()
    answer = await departments.act_on_task(gateway, env.database(), TASK_ACTIONS["assign"], req)
    result = await settled(env, answer, f"task {task_key}", action=True)
    return said(env, result)


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
    launch(lambda env: on_task(env, Case.book_visit, req), json_output=json_output)


def check_in(
    task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False
) -> None:
    """At the customer's door: the visit is kept, its report due within a day."""
    req = VisitCheckInput(task_key, collector)
    launch(lambda env: on_task(env, Case.check_in_visit, req), json_output=json_output)


def check_out(
    task_key: TaskKeyArg, collector: CollectorOpt, json_output: JsonOption = False
) -> None:
    """Leaving the customer's door; then complete the task with the visit's report."""
    req = VisitCheckInput(task_key, collector)
    launch(lambda env: on_task(env, Case.check_out_visit, req), json_output=json_output)


def call(
    task_key: TaskKeyArg,
    collector: CollectorOpt,
    agent_phone: Annotated[str, typer.Option(help="Your phone, E.164: it rings once they answer.")],
    json_output: JsonOption = False,
) -> None:
    """Click-to-call: the contact policy decides, then the customer's phone rings, then yours."""
    req = PlaceCallInput(task_key, collector, agent_phone)
    launch(lambda env: on_task(env, Case.place_call, req), json_output=json_output)


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


# The commands written here, by the case's update.
_COMMANDS: dict[object, Callable[..., None]] = {
    Case.claim_task: claim,
    Case.complete_task: complete,
    Case.assign_task: assign,
    Case.book_visit: book_visit,
    Case.check_in_visit: check_in,
    Case.check_out_visit: check_out,
    Case.place_call: call,
}


def generated_command(action: TaskAction, run: Launch = launch) -> Callable[..., None]:
    """A command for a task action nobody wrote one for (`cli.generated`): `TASK_KEY`, then
    one option per field of its input."""
    return command_from_input(
        f"tasks {action.word}",
        action.input_type,
        ("task_key", TaskKeyArg),
        lambda env, _, req: on_task(env, action.update, req),
        skip=action.internal,
        summary=action.summary,
        launcher=run,
    )


def add_task_commands(app: typer.Typer) -> None:
    """One command per task action, in the catalogue's order: the one written here, or one
    made from its input; a command here for no action fails at start-up."""
    actions = list(TASK_ACTIONS.values())
    if extra := set(_COMMANDS) - {action.update for action in actions}:
        raise RuntimeError(f"task commands for no action of the catalogue: {extra}")
    for action in actions:
        app.command(action.word)(_COMMANDS.get(action.update) or generated_command(action))
