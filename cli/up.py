"""`collections up`: the Temporal dev server, the database schema, a worker on every queue and
the API, on one machine, until Ctrl-C or SIGTERM. Workflow state lives in `var/temporal.db`,
so a later `up` finds every case where this one left it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.markup import escape
from sqlalchemy import make_url

from cli import ready
from cli.local_secrets import FIRST_ADMIN_FILE, first_admin, local_secrets_env
from cli.private import keep_private
from cli.stack import (
    LOCAL_HOSTS,
    Backoff,
    ChildExited,
    Stack,
    cli_argv,
    dev_server_argv,
    frontend,
    port_taken,
    server_db,
    server_log,
    stop_timeout,
    temporal_binary,
)
from config.settings import Settings
from models.visibility import ALL_KEYS
from readmodel.engine import migrate_async
from temporal.readiness import Frontend

SERVER_READY_WITHIN = 60.0
WORKERS_READY_WITHIN = 60.0
LOG_LINES_SHOWN = 15


class CannotStart(RuntimeError):
    pass


async def up(settings: Settings, console: Console) -> int:
    """Runs the stack until cancelled (then 0); 1 if it cannot start, or if the Temporal server
    or the API dies (the rest is stopped then). A worker that dies is started again."""
    stack = Stack()
    try:
        await _check_free(settings)
        await _start(stack, settings, console)
        _print_ready(settings, console)
        await _watch(stack, console)
    except (CannotStart, ready.NotReady, FileNotFoundError) as error:
        console.print(f"[red]Cannot start:[/] {escape(str(error))}")
        return 1
    except ChildExited as exited:
        _report_exit(exited, console)
        return 1
    finally:
        stop_all(stack, settings, console, "Stopping…")


def stop_all(stack: Stack, settings: Settings, console: Console, saying: str) -> None:
    """Stops what `stack` still runs, each within the stop timeout, saying which had to be
    killed."""
    if stack.children:
        console.print(saying)
        for name in stack.stop(stop_timeout(settings)):
            console.print(f"[yellow]{name} did not stop in time and was killed[/]")
        console.print("Stopped.")


async def _watch(stack: Stack, console: Console) -> NoReturn:
    """Raises `ChildExited` when the Temporal server or the API exits. A worker that exits is
    started again after a backoff, while the others are still watched."""
    backoff = Backoff()
    while True:
        try:
            stack.check()
        except ChildExited as exited:
            if exited.child.name != "worker":
                raise
            delay = backoff.next(exited.child.ran_for)
            console.print(
                f"[yellow]{escape(str(exited))}; restarting in {delay:g} s "
                f"(restart {backoff.restarts})[/]"
            )
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                stack.check(besides=exited.child)
                await asyncio.sleep(ready.POLL_EVERY)
            stack.restart(exited.child)
        await asyncio.sleep(ready.POLL_EVERY)


async def _check_free(settings: Settings) -> None:
    """Refuses to start beside something already on our ports, naming what and how to move."""
    host, port = frontend(settings)
    if host not in LOCAL_HOSTS:
        raise CannotStart(
            f"`up` runs a local Temporal dev server, but TEMPORAL_ADDRESS points to {host}; "
            "set it to 127.0.0.1:<port>, or run `collections worker` and `collections api` instead"
        )
    if settings.temporal_tls or settings.temporal_api_key is not None:
        raise CannotStart("the local dev server speaks no TLS: unset TEMPORAL_TLS* and the API key")
    if port_taken(port):
        who = "another Temporal server" if await _temporal_answers(settings) else "a program"
        raise CannotStart(
            f"port {port} is already taken by {who} (is another `collections up` running?); "
            "stop it, or set TEMPORAL_ADDRESS=127.0.0.1:<free port>"
        )
    for variable, taken in (
        ("TEMPORAL_UI_PORT", settings.temporal_ui_port),
        ("API_PORT", settings.api_port),
    ):
        if port_taken(taken):
            raise CannotStart(f"port {taken} is already taken; set {variable} to a free port")


async def _temporal_answers(settings: Settings) -> bool:
    try:
        return await asyncio.wait_for(Frontend.reach(settings), 3.0) is not None
    except TimeoutError:
        return False


async def _start(stack: Stack, settings: Settings, console: Console) -> None:
    keep_private(settings, create_var=True)  # its children inherit the umask
    console.print("Starting the Temporal dev server…")
    stack.start("temporal", dev_server_argv(settings, temporal_binary()), log=server_log(settings))
    frontend = await ready.until(
        lambda: Frontend.reach(settings),
        stack=stack,
        what="the Temporal frontend",
        within=SERVER_READY_WITHIN,
    )
    await ready.until(
        lambda: frontend.search_attributes_listed(ALL_KEYS),
        stack=stack,
        what="search attribute registration",
        within=SERVER_READY_WITHIN,
    )
    console.print("Migrating the database…")
    await migrate_async(settings.database_url)
    console.print("Starting the worker and the API…")
    made = await first_admin(settings.var_dir, settings.database_url)
    if made is not None:
        console.print(f"Made the first admin, `admin`: its one-time password is in {made}.")
    secrets_env = local_secrets_env(settings.var_dir, have_payload_keys=bool(settings.payload_keys))
    stack.start("worker", cli_argv("worker"), env=secrets_env)
    stack.start("api", cli_argv("api"), env={**secrets_env, "API_PUBLIC_DOCS": "1"})
    await ready.until(
        lambda: frontend.worker_polling(settings.task_queues.all()),
        stack=stack,
        what="the worker",
        within=WORKERS_READY_WITHIN,
    )
    await ready.until(
        lambda: ready.api_healthy(settings.api_base_url),
        stack=stack,
        what="the API",
        within=WORKERS_READY_WITHIN,
    )
    await _retention(settings, console)


async def _retention(settings: Settings, console: Console) -> None:
    """How long Temporal keeps closed workflows, the daily retention schedule and the daily
    intake's. A failure is reported and the stack runs on: none is needed to work cases today."""
    from cli.actions import connect_gateway
    from operations import schedules

    try:
        gateway = await connect_gateway(settings)
    except Exception as error:
        _not_set_up("Retention", error, console)
        return
    try:
        kept = await schedules.set_closed_workflow_retention(
            gateway, settings.closed_workflow_retention_days
        )
        console.print(f"Closed workflows are kept {kept.days} days in Temporal.")
    except Exception as error:
        _not_set_up("The retention of closed workflows", error, console)
    try:
        done = await schedules.ensure_retention(gateway, settings)
        console.print(
            f"Retention schedule {done}: daily at 02:00 UTC, personal data erased "
            f"{settings.retention_years} years after a case closes."
        )
    except Exception as error:
        _not_set_up("The retention schedule", error, console)
    try:
        settings.intake_drop_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        done = await schedules.ensure_intake(gateway, settings)
        console.print(
            f"Daily intake schedule {done}: hourly, new files from {settings.intake_drop_dir} "
            f"(due by {settings.intake_due_hour_utc:02d}:00 UTC; `collections intake-files`).",
            markup=False,
        )
    except Exception as error:
        _not_set_up("The daily intake schedule", error, console)
    try:
        done = await schedules.ensure_allocation(gateway, settings)
        every = settings.allocate_every_minutes
        console.print(f"Allocation schedule {done}: every {every} min (0: off).", markup=False)
    except Exception as error:
        _not_set_up("The allocation schedule", error, console)


def _not_set_up(what: str, error: Exception, console: Console) -> None:
    reason = f"{type(error).__name__}: {error}"
    console.print(f"[yellow]{escape(what)} is not set up:[/] {escape(reason)}")


def _print_ready(settings: Settings, console: Console) -> None:
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    api = settings.api_base_url
    first = settings.var_dir / FIRST_ADMIN_FILE
    admin = (
        f"`admin`, one-time password in {first} (change it at first sign-in)"
        if first.exists()
        else "`collections staff list` (add people with `collections staff add`)"
    )
    console.print("[bold green]Collections is up.[/]")
    console.print(
        f"  Temporal Web UI  http://127.0.0.1:{settings.temporal_ui_port}\n"
        f"  Web console      {api}/console  (sign in as yourself; first admin below)\n"
        f"  API              {api}  (docs: {api}/docs)\n"
        f"  Temporal         {settings.temporal_address}, namespace {settings.temporal_namespace}"
        f", state in {server_db(settings)}, log in {server_log(settings)}\n"
        f"  Worker queues    {', '.join(settings.task_queues.all())}\n"
        f"  Metrics          {_metrics_urls(settings)}\n"
        f"  Readiness        {api}/ready\n"
        f"  Database         {database}\n"
        f"  Staff            {admin}\n"
        f"  Sign in (browser, then enable 'Include cross-origin credentials' in the Web UI's\n"
        f"  data encoder settings to read encrypted payloads)  {api}/signin\n"
        "Press Ctrl-C to stop.",
        markup=False,
    )


def _metrics_urls(settings: Settings) -> str:
    """Where Prometheus scrapes the stack (alert rules: ops/alerts.yml)."""
    host = settings.metrics_host
    worker = [
        f"{what} http://{host}:{port}/metrics" if port > 0 else f"{what} off"
        for what, port in (
            ("worker", settings.worker_metrics_port),
            ("Temporal SDK", settings.worker_sdk_metrics_port),
        )
    ]
    return ", ".join([f"API {settings.api_base_url}/metrics", *worker])


def _report_exit(exited: ChildExited, console: Console) -> None:
    console.print(f"[red]{escape(str(exited))}[/] unexpectedly; stopping the rest.")
    if exited.child.log is not None:
        console.print(f"Last lines of {exited.child.log}:", markup=False)
        console.print(_tail(exited.child.log), markup=False)


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_LINES_SHOWN:])
