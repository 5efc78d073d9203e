"""`collections schedule`: the center's Temporal Schedules (`operations.schedules`).

- `schedule list`: every schedule of the namespace, paused or not, its next and last run;
- `schedule pause [NAME] [--note ...]`, `schedule unpause [NAME]`: stop and resume its ticks;
- `schedule trigger [NAME]`: run it now;
- `schedule ensure`: create the retention, daily intake and allocation schedules, or bring them
  up to date with the settings (`collections up` does this itself; on a cluster, run it once
  after deploying).
NAME defaults to `collections-retention`, the daily erasure of personal data past its period;
`collections-daily-intake` loads the bank's overdue file from the drop folder, hourly;
`collections-allocation` puts new tasks in collectors' queues every `ALLOCATE_EVERY_MINUTES`.

Exit codes: 0 done; 2 Temporal unreachable (or no payload keys); 3 no such schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated

import typer

from cli.actions import (
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandEnv,
    CommandError,
    JsonOption,
    at_minute,
    launch,
)
from models.allocation import ALLOCATION_SCHEDULE
from models.daily_intake import DAILY_INTAKE_SCHEDULE
from models.retention import RETENTION_SCHEDULE

schedule_app = typer.Typer(
    name="schedule",
    help="Temporal Schedules: the daily retention run and the hourly look for the daily file.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The schedule's id.")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why (shown on the schedule).")]


@schedule_app.command("list")
def list_(json_output: JsonOption = False) -> None:
    """Every schedule: paused or not, next and last run."""
    launch(list_schedules, json_output=json_output)


@schedule_app.command("pause")
def pause(name: NameArg = RETENTION_SCHEDULE, note: NoteOpt = "") -> None:
    """Stop the schedule's runs until it is unpaused."""
    launch(lambda env: change(env, "pause", name, note), json_output=False)


@schedule_app.command("unpause")
def unpause(name: NameArg = RETENTION_SCHEDULE, note: NoteOpt = "") -> None:
    """Resume the schedule's runs."""
    launch(lambda env: change(env, "unpause", name, note), json_output=False)


@schedule_app.command("trigger")
def trigger(name: NameArg = RETENTION_SCHEDULE) -> None:
    """Run the schedule's workflow now."""
    launch(lambda env: change(env, "trigger", name), json_output=False)


@schedule_app.command("ensure")
def ensure() -> None:
    """Create the retention and intake schedules, or update them to the settings (a paused one
    stays paused)."""
    launch(ensure_schedules, json_output=False)


async def list_schedules(env: CommandEnv) -> int:
    from operations import schedules

    gateway = await env.gateway()  # exit 2 when Temporal is unreachable, as every command
    with _temporal(env):
        views = await schedules.list_schedules(gateway)
    if env.json_output:
        return env.print_json({"schedules": [asdict(v) for v in views]})
    if not views:
        env.say("no schedules (`collections schedule ensure` creates them)")
        return EXIT_OK
    rows = [
        (
            v.id,
            v.workflow or "-",
            f"yes: {v.note}" if v.paused and v.note else "yes" if v.paused else "no",
            at_minute(v.next_run),
            at_minute(v.last_run),
            v.last_workflow_id or "-",
        )
        for v in views
    ]
    env.table(("id", "workflow", "paused", "next run", "last run", "last workflow id"), rows)
    return EXIT_OK


async def change(env: CommandEnv, action: str, name: str, note: str = "") -> int:
    """`pause`, `unpause` or `trigger` the schedule `name`."""
    from operations import schedules

    gateway = await env.gateway()  # exit 2 when Temporal is unreachable, as every command
    with _temporal(env):
        try:
            if action == "pause":
                await schedules.pause(gateway, name, note)
            elif action == "unpause":
                await schedules.unpause(gateway, name, note)
            elif action == "trigger":
                await schedules.trigger(gateway, name)
            else:
                raise CommandError(EXIT_USAGE, f"unknown action {action}")
        except schedules.ScheduleNotFound as error:
            raise CommandError(
                EXIT_NOT_FOUND, f"{error} (see `collections schedule list`)"
            ) from None
    done = {"pause": "paused", "unpause": "unpaused", "trigger": "triggered"}[action]
    env.say(f"{done} {name}")
    return EXIT_OK


async def ensure_schedules(env: CommandEnv) -> int:
    from operations import schedules

    gateway = await env.gateway()  # exit 2 when Temporal is unreachable, as every command
    settings = env.settings
    with _temporal(env):
        done = await schedules.ensure_retention(gateway, settings)
        env.say(
            f"{done} {RETENTION_SCHEDULE}: daily at 02:00 UTC, erasing personal data "
            f"{settings.retention_years} years after a case closes"
        )
        done = await schedules.ensure_intake(gateway, settings)
        env.say(
            f"{done} {DAILY_INTAKE_SCHEDULE}: hourly at :05, loading new files from "
            f"{settings.intake_drop_dir} (due by {settings.intake_due_hour_utc:02d}:00 UTC)"
        )
        done = await schedules.ensure_allocation(gateway, settings)
        every = settings.allocate_every_minutes
        when = f"every {every} min, new tasks to collectors" if every else "off (0 minutes)"
        env.say(f"{done} {ALLOCATION_SCHEDULE}: {when}")
    return EXIT_OK


@contextmanager
def _temporal(env: CommandEnv) -> Iterator[None]:
    """Temporal gone, or refusing, mid-command: exit 2 saying so."""
    from temporalio.service import RPCError, RPCStatusCode

    try:
        yield
    except RPCError as error:
        if error.status == RPCStatusCode.UNAVAILABLE:
            message = f"Temporal is unreachable at {env.settings.temporal_address}"
        else:
            message = f"Temporal refused: {error.message}"
        raise CommandError(EXIT_USAGE, message) from None
