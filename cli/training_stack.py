"""`collections training up TRAINEE`: beside the local stack (`collections up`), a stack of the
trainee's own on the same Temporal server: the namespace `training-<trainee>`, the read model
`var/training/<trainee>.db`, a worker and an API (`--port`, 8100) started as `up` starts them,
the trainee seated as a collector, and the synthetic cases loaded through the normal intake.
Until Ctrl-C or SIGTERM, which stop the worker and the API; the cases stay for the next time.

Its children run with `COLLECTIONS_TRAINING=<trainee>`: their settings then know no Twilio, so
every message goes to the outbox (`config.settings`), whatever the environment says.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from temporalio.service import RPCError

from cli import ready
from cli.intake import policy_names
from cli.local_secrets import local_secrets_env
from cli.private import keep_private
from cli.stack import ChildExited, Stack, cli_argv, port_taken
from cli.up import _report_exit, _watch, stop_all
from config.settings import Settings, load_settings
from models.visibility import ALL_KEYS
from operations import training
from readmodel.engine import Database, migrate_async
from temporal.client import connect
from temporal.readiness import Frontend

DEFAULT_PORT = 8100
READY_WITHIN = 60.0
REACH_WITHIN = 5.0


class CannotStart(RuntimeError):
    pass


@dataclass(frozen=True)
class TrainingStack:
    """Where one trainee's stack lives, and the environment its children run in."""

    trainee: str
    env: dict[str, str]
    settings: Settings  # the children's, read from that environment as they read it

    @classmethod
    def of(
        cls,
        parent: Settings,
        trainee: str,
        *,
        port: int,
        environ: Mapping[str, str] | None = None,
    ) -> TrainingStack:
        """`environ`: what the children inherit; default this process's environment."""
        training.check_trainee(trainee)
        inherited = dict(os.environ if environ is None else environ)
        database = training.database_path(parent.var_dir, trainee)
        twilio = {name: "" for name in inherited if name.startswith("TWILIO_")}
        env = {
            **twilio,
            "TWILIO_ACCOUNT_SID": "",
            "TWILIO_AUTH_TOKEN": "",
            "COLLECTIONS_TRAINING": trainee,
            "COLLECTIONS_VAR_DIR": str(parent.var_dir),
            "TEMPORAL_NAMESPACE": training.namespace_for(trainee),
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "COLLECTIONS_POLICY": training.TRAINING_POLICY,
            "API_PORT": str(port),
            # The well-known metrics ports are the center's worker's.
            "WORKER_METRICS_PORT": "0",
            "WORKER_SDK_METRICS_PORT": "0",
        }
        return cls(trainee, env, load_settings({**inherited, **env}))

    @property
    def folder(self) -> Path:
        return self.settings.var_dir / "training"

    def file(self, suffix: str) -> Path:
        return self.folder / f"{self.trainee}{suffix}"


async def training_up(
    parent: Settings, trainee: str, *, cases: int, port: int, console: Console
) -> int:
    """Runs the trainee's stack until cancelled (then 0); 1 if it cannot start, or if its
    API dies. A worker that dies is started again, as under `up`."""
    stack = Stack()
    try:
        plan = TrainingStack.of(parent, trainee, port=port)
        await _check(parent, plan)
        seated = await _start(stack, parent, plan, console)
        loaded = await _load_cases(plan, cases, console)
        _print_ready(plan, loaded, console, seated=seated)
        await _watch(stack, console)
    except (CannotStart, ready.NotReady, training.TrainingError, FileNotFoundError) as error:
        console.print(f"[red]Cannot start the training:[/] {escape(str(error))}")
        return 1
    except RPCError as error:  # Temporal refused: registering a namespace needs the right
        console.print(f"[red]Cannot start the training:[/] Temporal said {escape(str(error))}")
        return 1
    except ChildExited as exited:
        _report_exit(exited, console)
        return 1
    finally:
        stop_all(stack, parent, console, "Stopping the training stack…")


async def _check(parent: Settings, plan: TrainingStack) -> None:
    try:
        reached = await asyncio.wait_for(Frontend.reach(parent), REACH_WITHIN)
    except TimeoutError:
        reached = None
    if reached is None:
        raise CannotStart(
            f"no Temporal server answers at {parent.temporal_address}: start the local stack "
            "first (`collections up` or `make up`, in another terminal), then run this again"
        )
    if port_taken(plan.settings.api_port):
        raise CannotStart(
            f"port {plan.settings.api_port} is already taken (another trainee's stack, or the "
            "center's API?); choose a free one with --port"
        )


async def _start(stack: Stack, parent: Settings, plan: TrainingStack, console: Console) -> bool:
    """Starts the trainee's worker and API; True when the trainee was seated just now."""
    keep_private(plan.settings, create_var=True)  # its children inherit the umask
    plan.folder.mkdir(mode=0o700, exist_ok=True)
    namespace = plan.settings.temporal_namespace
    client = await connect(parent, None, sends_payloads=False)
    retention = parent.closed_workflow_retention_days
    if await training.register_namespace(client, namespace, retention_days=retention):
        console.print(f"Registered the namespace {namespace}.", markup=False)
    await ready.until(
        lambda: training.search_attributes_in(client, namespace, ALL_KEYS),
        stack=stack,
        what=f"the search attributes of {namespace}",
        within=READY_WITHIN,
    )
    console.print("Migrating the trainee's read model…")
    await migrate_async(plan.settings.database_url)
    seated = await _seat(plan, console)
    secrets_env = local_secrets_env(
        plan.settings.var_dir, have_payload_keys=bool(plan.settings.payload_keys)
    )
    env = {**plan.env, **secrets_env}
    console.print("Starting the trainee's worker and API…")
    stack.start("worker", cli_argv("worker"), env=env, log=plan.file("-worker.log"))
    stack.start("api", cli_argv("api"), env=env, log=plan.file("-api.log"))
    frontend = await ready.until(
        lambda: Frontend.reach(plan.settings), stack=stack, what="Temporal", within=READY_WITHIN
    )
    await ready.until(
        lambda: frontend.worker_polling(plan.settings.task_queues.all()),
        stack=stack,
        what="the trainee's worker",
        within=READY_WITHIN,
    )
    await ready.until(
        lambda: ready.api_healthy(plan.settings.api_base_url),
        stack=stack,
        what="the trainee's API",
        within=READY_WITHIN,
    )
    return seated


async def _seat(plan: TrainingStack, console: Console) -> bool:
    """The trainee as a collector; a new one-time password goes to a 0600 file (never
    printed, as `up`'s first admin's)."""
    db = Database(plan.settings.database_url)
    try:
        password = await training.seat_trainee(db, plan.trainee)
    finally:
        await db.dispose()
    where = plan.file("-password")
    if password is None:
        console.print(f"{plan.trainee} is in the training directory already.", markup=False)
        return False
    where.unlink(missing_ok=True)
    fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"staff ID: {plan.trainee}\none-time password: {password}\n")
    console.print(
        f"Seated {plan.trainee} as a collector: the one-time password is in {where}.",
        markup=False,
    )
    return True


@dataclass(frozen=True)
class Loaded:
    cases: int
    started: int
    already: int


async def _load_cases(plan: TrainingStack, count: int, console: Console) -> Loaded:
    """The synthetic cases through the normal intake, into the trainee's namespace. Cases a
    former run started are left as the trainee left them (no refresh)."""
    from cli.actions import connect_gateway
    from config.strategy import Assessor
    from operations.intake import run_intake

    parsed = training.synthetic_intake(count, as_of=date.today(), strategies=policy_names())
    if parsed.errors:  # the generator and the intake disagree: a bug, said plainly
        first = parsed.errors[0]
        raise training.TrainingError(
            f"the synthetic file fails the intake's checks: row {first.row} {first.field}: "
            f"{first.reason}"
        )
    console.print(f"Loading {count} synthetic cases…")
    gateway = await connect_gateway(plan.settings)
    summary = await run_intake(
        gateway,
        parsed.valid,
        task_queue=plan.settings.task_queues.collections,
        refresh=False,
        assessor=Assessor.configured(plan.settings),
    )
    if summary.failed:
        raise training.TrainingError(
            f"{len(summary.failed)} synthetic case(s) did not start: {summary.failed[0].note}"
        )
    return Loaded(count, len(summary.started), len(summary.already_running))


def _print_ready(plan: TrainingStack, loaded: Loaded, console: Console, *, seated: bool) -> None:
    s = plan.settings
    api, namespace = s.api_base_url, s.temporal_namespace
    password = plan.file("-password")
    sign_in = (
        f"one-time password in {password}"
        if seated
        else "the password they set; a new one-time one: "
        f"`DATABASE_URL={s.database_url} collections staff reset-password {plan.trainee}`"
    )
    console.print(
        f"[bold green]Training stack for {escape(plan.trainee)} is up.[/] "
        "Messages go to the outbox only: nothing reaches a customer or Twilio."
    )
    console.print(
        f"  Web console      {api}/console  (sign in as {plan.trainee}; {sign_in})\n"
        f"  Cases            {loaded.cases} synthetic (seed {training.TRAINING_SEED}, strategy "
        f"{training.TRAINING_POLICY}): {loaded.started} started, {loaded.already} already there\n"
        f"  Temporal         {s.temporal_address}, namespace {namespace}  "
        f"({s.web_ui_url}/namespaces/{namespace}/workflows)\n"
        f"  Read model       {s.database_url}\n"
        f"  Logs             {plan.file('-worker.log')}, {plan.file('-api.log')}\n"
        f"  Compare          {api}/console/training, or\n"
        f"                   collections training compare --database {s.database_url} "
        f"--by {plan.trainee}\n"
        "Press Ctrl-C to stop; the cases stay where the trainee left them for the next "
        f"`collections training up {plan.trainee}`.",
        markup=False,
    )
