"""The `collections` command. Here: the local stack (`up`) and the two processes it runs
(`worker`, `api`). Other modules add their commands to `app` when imported; see
`COMMAND_MODULES` at the bottom."""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import Annotated

import typer

from cli.runtime import leave, run_and_leave
from config.settings import load_settings

app = typer.Typer(
    name="collections",
    help="Debt collection on Temporal: one durable workflow per overdue account.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


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
    from workers.main import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    run_and_leave(run_worker(settings, queues))


@app.command()
def api() -> None:
    """Serve the HTTP API (and its docs at /docs) until stopped."""
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=settings.api_host, port=settings.api_port)
    )
    # uvicorn shuts down gracefully, then raises the signal again: SIGINT arrives here as
    # KeyboardInterrupt, SIGTERM ends the process the default way.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    leave(0 if server.started else 1)


def run() -> None:
    """The console script `collections`."""
    app(prog_name="collections")


# Modules that add commands or sub-apps to `app` (`from cli.main import app`) when imported.
# One that does not exist yet is skipped; one that fails to import is an error.
COMMAND_MODULES = ("cli.intake", "cli.case", "cli.tasks", "cli.inbox", "cli.history")


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise


if __name__ == "__main__":
    # `python -m cli.main` runs this file as `__main__`; commands register on `cli.main.app`.
    importlib.import_module("cli.main").run()
else:
    _register_commands()
