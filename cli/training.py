"""`collections training`: practice for new staff on synthetic cases (`operations.training`).

- `training up TRAINEE [--cases N] [--port P]`: the trainee's own stack beside `collections up`
  (`cli.training_stack`): their namespace, read model, worker and API; messages to the outbox.
- `training answers --by SENIOR [--database URL] > answers.json`: what a senior recorded in
  their training read model, the reference trainees are compared with.
- `training compare [--answers FILE] [--by TRAINEE] [--database URL]`: per synthetic case, the
  trainee's outcome beside the senior's, whether they match, and a score. Accounts show their
  last four digits; nothing else of a case is shown.

Exit codes: 0 done; 1 the training stack could not start, or its API stopped; 2 usage error,
an answers file that cannot be read, or the database unreachable; 3 nothing recorded by that
person in that read model.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandEnv,
    CommandError,
    JsonOption,
    run_command,
)
from config.settings import load_settings
from models.money import money
from operations import training
from readmodel.training import CaseAnswer, recorded_answers

training_app = typer.Typer(
    name="training",
    help="Practice for new staff: synthetic cases in a namespace and read model of their own.",
    no_args_is_help=True,
)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="The training read model's URL. Default: DATABASE_URL."),
]


@training_app.command("up")
def up(
    trainee: Annotated[str, typer.Argument(help="The trainee's staff id, e.g. ann.li.")],
    cases: Annotated[
        int, typer.Option(min=1, max=300, help="How many synthetic cases.")
    ] = training.DEFAULT_CASES,
    port: Annotated[int, typer.Option(min=1, max=65535, help="The trainee's API port.")] = 8100,
) -> None:
    """Run a trainee's training stack beside `collections up` until Ctrl-C."""
    from rich.console import Console

    from cli.runtime import run_and_leave
    from cli.training_stack import training_up

    try:
        training.check_trainee(trainee)
    except training.TrainingError as error:
        raise typer.BadParameter(str(error), param_hint="TRAINEE") from None
    console = Console(highlight=False, soft_wrap=True)
    run_and_leave(training_up(load_settings(), trainee, cases=cases, port=port, console=console))


@training_app.command("answers")
def answers(
    by: Annotated[str, typer.Option("--by", help="The senior whose outcomes are exported.")],
    database: DatabaseOption = None,
) -> None:
    """Print, as JSON, the outcomes a senior recorded on the synthetic cases."""
    _launch(lambda env: export_answers(env, by=by), database=database, json_output=False)


@training_app.command("compare")
def compare(
    answers: Annotated[
        Path | None,
        typer.Option(
            help="The senior's answers. Default: var/training/answers.json, else the "
            "project's examples/training/answers.json."
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="The trainee. Default: COLLECTIONS_TRAINING.")
    ] = None,
    database: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Each synthetic case the senior answered, with the trainee's outcome beside it."""

    async def core(env: CommandEnv) -> int:
        trainee = by or env.settings.training
        if not trainee:
            raise CommandError(EXIT_USAGE, "name the trainee with --by")
        chosen = answers or training.answers_path(env.settings)
        return await compare_answers(env, answers=chosen, by=trainee)

    _launch(core, database=database, json_output=json_output)


def _launch(
    core: Callable[[CommandEnv], Awaitable[int]], *, database: str | None, json_output: bool
) -> None:
    """As `cli.actions.launch`, on the read model `--database` names (else DATABASE_URL)."""
    from cli.runtime import run_and_leave

    settings = load_settings()
    if database:
        settings = dataclasses.replace(settings, database_url=database)
    run_and_leave(run_command(CommandEnv(settings, json_output=json_output), core))


async def export_answers(env: CommandEnv, *, by: str) -> int:
    found = await recorded_answers(env.database(), by=by)
    if not found:
        raise CommandError(
            EXIT_NOT_FOUND, f"{by} completed no task and obtained no promise in this read model"
        )
    text = training.answers_json(training.AnswerSheet(by=by, cases=tuple(found)))
    env.out.file.write(text)
    env.out.file.flush()
    return EXIT_OK


async def compare_answers(env: CommandEnv, *, answers: Path, by: str) -> int:
    try:
        sheet = training.read_answers(await asyncio.to_thread(answers.read_bytes))
    except OSError as error:
        raise CommandError(EXIT_USAGE, f"cannot read {answers}: {error.strerror}") from None
    except training.TrainingError as error:
        raise CommandError(EXIT_USAGE, f"{answers}: {error}") from None
    result = training.compare(sheet.cases, await recorded_answers(env.database(), by=by))
    if env.json_output:
        return env.print_json(comparison_document(result, trainee=by, senior=sheet.by))
    rows = [
        (
            str(number),
            f"…{case.account_last4}",
            said(case.senior),
            said(case.trainee) if case.trainee else "not worked yet",
            *(_mark(case, check) for check in (case.same_outcome, case.same_right_party)),
            _mark(case, case.promise_close),
        )
        for number, case in enumerate(result.cases, start=1)
    ]
    columns = ("#", "account", sheet.by, by, "outcome", "right party", "promise ±10%")
    env.table(columns, rows, title=f"{by} beside {sheet.by}")
    env.say(summary(result))
    return EXIT_OK


def _mark(case: training.CaseComparison, same: bool) -> str:
    if case.trainee is None:
        return "-"
    return "same" if same else "differs"


def said(answer: CaseAnswer) -> str:
    """`collector_call promise_made, right party, promise 1,200.00 CNY in 7 days`."""
    parts = [" ".join(filter(None, (answer.task_kind, answer.outcome))) or "no task"]
    if answer.right_party is not None:
        parts.append("right party" if answer.right_party else "not the right party")
    if answer.promised_amount_minor is not None:
        days = answer.promise_in_days
        parts.append(
            f"promise {money(answer.promised_amount_minor, answer.currency)}"
            + (f" in {days} days" if days is not None else "")
        )
    return ", ".join(parts)


def summary(result: training.Comparison) -> str:
    checks = training.CHECKS * len(result.cases)
    return (
        f"score {result.score:.0%} ({result.points} of {checks} checks); "
        f"{result.matched} of {len(result.cases)} cases matched, {result.worked} worked"
    )


def comparison_document(
    result: training.Comparison, *, trainee: str, senior: str
) -> dict[str, Any]:
    def view(answer: CaseAnswer | None) -> dict[str, Any] | None:
        if answer is None:
            return None
        shown = dataclasses.asdict(answer)
        del shown["account_no"], shown["promised_date"]  # the days in between are what compare
        return shown

    return {
        "trainee": trainee,
        "senior": senior,
        "score": round(result.score, 4),
        "points": result.points,
        "checks": training.CHECKS * len(result.cases),
        "cases_matched": result.matched,
        "cases_worked": result.worked,
        "cases": [
            {
                "account_last4": case.account_last4,
                "senior": view(case.senior),
                "trainee": view(case.trainee),
                "same_outcome": case.same_outcome,
                "same_right_party": case.same_right_party,
                "promise_within_10_percent": case.promise_close,
                "matched": case.matched,
            }
            for case in result.cases
        ],
    }
