"""The `collections` command: the local stack (`up`) and the two processes it runs (`worker`,
`api`) are here; the other commands are sub-apps of their own modules, composed below."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from cli.actions import JsonOption, launch
from cli.approvals import approvals_app
from cli.audit import audit_app
from cli.case import case_app
from cli.complaints import complaints_app
from cli.customer import customer_app
from cli.history import history_app
from cli.inbox import inbox_app
from cli.intake import intake, intake_files
from cli.performance import performance_command
from cli.runtime import leave, run_and_leave
from cli.schedule import schedule_app
from cli.staff import staff_app, token_app
from cli.tasks import tasks_app
from cli.training import training_app
from config.settings import load_settings

app = typer.Typer(
    name="collections",
    help="Debt collection on Temporal: one durable workflow per overdue account.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


keys_app = typer.Typer(help="Encryption keys: payloads and the read model.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def new_key(key_id: Annotated[str, typer.Option(help="The key's id.")] = "") -> None:
    """Print a new AES-256 payload key as an `id:key` entry for PAYLOAD_KEYS (append it: the
    last key encrypts, every key listed still decrypts)."""
    from datetime import UTC, datetime

    from temporal.codec import generate_key

    print(f"{key_id or datetime.now(UTC).strftime('k%Y%m%d')}:{generate_key()}")


@keys_app.command("reseal")
def reseal_read_model(json_output: JsonOption = False) -> None:
    """Seal the read model's personal data under the newest data key: after adding a key, and
    once after upgrading, for rows written in clear before. Safe to run again."""
    from cli.keys import reseal

    launch(reseal, json_output=json_output)


@app.command()
def up() -> None:
    """Run everything on this machine: Temporal dev server, worker, API. Ctrl-C stops it."""
    from rich.console import Console

    from cli.up import up as run_stack

    settings = load_settings()
    run_and_leave(run_stack(settings, Console(highlight=False, soft_wrap=True)))


@app.command()
def worker(
    queue: Annotated[
        list[str] | None,
        typer.Option("--queue", "-q", help="A task queue to serve; repeat for more. Default: all."),
    ] = None,
) -> None:
    """Host the workflows and activities of the given task queues until stopped."""
    settings = load_settings()
    known = settings.task_queues.all()
    queues = queue or list(known)
    unknown = sorted(set(queues) - set(known))
    if unknown:
        raise typer.BadParameter(
            f"unknown queue {', '.join(unknown)}; the queues are {', '.join(known)}",
            param_hint="--queue",
        )
    from temporal.client import MissingPayloadKeys, require_codec
    from temporal.codec import codec_from_settings
    from workers.main import run_worker

    try:
        require_codec(settings, codec_from_settings(settings))
    except MissingPayloadKeys as error:
        typer.echo(f"the worker will not start: {error}", err=True)
        leave(2)
    from cli.private import keep_private
    from config import logs, tracing

    keep_private(settings)
    logs.configure(settings.log_format)
    tracing.start_tracing(settings)
    # SIGTERM or Ctrl-C stops polling and lets activities in flight finish (WORKER_GRACE_SECONDS);
    # a second one leaves at once.
    stop = asyncio.Event()
    run_and_leave(tracing.flushed(run_worker(settings, queues, stop)), stop)


# The API is another front end: served by name, never imported from here.
API_FACTORY = "api.app:app_from_settings"


@app.command()
def api() -> None:
    """Serve the HTTP API (and its docs at /docs) until stopped."""
    import uvicorn

    from cli.private import keep_private
    from config import logs, tracing

    settings = load_settings()
    keep_private(settings)
    logs.configure(settings.log_format)
    tracing.start_tracing(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            API_FACTORY,
            factory=True,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # as configured above
            access_log=False,  # `api.security.AccessLog` logs requests, without account numbers
        )
    )
    # uvicorn shuts down gracefully, then raises the signal again: SIGINT arrives here as
    # KeyboardInterrupt, SIGTERM ends the process the default way.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    leave(0 if server.started else 1)


app.command("intake")(intake)
app.command("intake-files")(intake_files)
app.command("performance")(performance_command)
app.add_typer(case_app)
app.add_typer(tasks_app)
app.add_typer(complaints_app)
app.add_typer(inbox_app)
app.add_typer(history_app)
app.add_typer(approvals_app)
app.add_typer(staff_app)
app.add_typer(token_app)
app.add_typer(audit_app)
app.add_typer(customer_app)
app.add_typer(schedule_app)
app.add_typer(training_app)


def run() -> None:
    """The console script `collections`."""
    app(prog_name="collections")


if __name__ == "__main__":
    run()
