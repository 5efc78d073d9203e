"""What the operations, risk and legal commands share: how they connect, run a workflow update
or query by name, turn Temporal's answers into messages and exit codes, and print.

Exit codes for scripts, the same for `case`, `tasks` and `inbox`:
  0  done;
  1  refused by the workflow (its validation: the message is printed, nothing changed), or a
     bad `case start` row, or an action answered "not accepted" (a payment already recorded);
  2  usage error, Temporal or the database unreachable, no answer in time, or a failure that
     is none of these (its type is printed);
  3  not found: no such account, task or handoff;
  4  conflict: the case is closed, the workflow has finished, the case is already running;
  130 interrupted.
With `--json`, stdout carries one JSON document, always with `exit_code`; errors are also
written to stderr. Tables are drawn on a terminal and become tab-separated lines when piped.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from config.settings import Settings, load_settings

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from readmodel.engine import Database

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
# An update that waits for a case's assessment, or for a department's row write, answers
# within seconds when a worker runs; past this, no worker is serving the queue.
ANSWER_TIMEOUT = 30.0
INVALID_ACTION = "InvalidAction"
CASE_CLOSED = "CaseClosed"
NOT_READY = "still being assessed"

T = TypeVar("T")
Connect = Callable[[Settings], Awaitable["Client"]]

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document for scripts.")]


class CommandError(Exception):
    """Ends a command with `code`; `message` is for the operator (it quotes no customer data)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class CommandEnv:
    """What a command's core needs from outside. Tests build one around their own client
    (through `connect`), database and consoles."""

    settings: Settings
    json_output: bool = False
    out: Console = field(default_factory=_stdout)
    err: Console = field(default_factory=_stderr)
    connect: Connect | None = None
    db: Database | None = None
    _client: Client | None = field(default=None, init=False, repr=False)
    _owned_db: Database | None = field(default=None, init=False, repr=False)

    async def client(self) -> Client:
        if self._client is None:
            try:
                self._client = await (self.connect or _connect)(self.settings)
            except Exception as exc:
                message = (
                    f"cannot connect to Temporal: {exc}"  # settings: names the variable only
                    if isinstance(exc, ValueError)
                    else f"Temporal is unreachable at {self.settings.temporal_address} "
                    f"({type(exc).__name__})"
                )
                raise CommandError(EXIT_USAGE, message) from None
        return self._client

    def database(self) -> Database:
        if self.db is not None:
            return self.db
        if self._owned_db is None:
            from readmodel.engine import Database

            self._owned_db = Database(self.settings.database_url)
        return self._owned_db

    async def aclose(self) -> None:
        if self._owned_db is not None:
            await self._owned_db.dispose()
            self._owned_db = None

    # --- output -------------------------------------------------------------------------------

    def print_json(self, document: dict[str, Any], code: int = EXIT_OK) -> int:
        text = json.dumps({**jsonable(document), "exit_code": code}, ensure_ascii=False, indent=2)
        self.out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return code

    def say(self, text: str, style: str | None = None) -> None:
        """A line on stdout; coloured on a terminal only."""
        self.out.print(text, style=style if self.out.is_terminal else None, markup=False)

    def warn(self, text: str) -> None:
        self.err.print(text, style="yellow" if self.err.is_terminal else None, markup=False)

    def fail(self, code: int, message: str) -> int:
        if self.json_output:
            self.print_json({"error": message}, code)
        self.err.print(message, style="red" if self.err.is_terminal else None, markup=False)
        return code

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = ""
    ) -> None:
        """A table on a terminal; a header line and tab-separated lines when piped."""
        if not self.out.is_terminal:  # rich would expand the tabs
            lines = ["\t".join(_flat(cell) for cell in row) + "\n" for row in rows]
            self.out.file.writelines(["\t".join(columns) + "\n", *lines])
            return
        table = Table(title=title or None, title_justify="left")
        for i, name in enumerate(columns):
            table.add_column(name, style="bold" if i == 0 else None, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.out.print(table)

    def fields(self, pairs: Sequence[tuple[str, str]], *, title: str = "") -> None:
        """Name and value: a grid on a terminal, `name<TAB>value` lines when piped."""
        if not self.out.is_terminal:
            self.out.file.writelines(f"{_flat(k)}\t{_flat(v)}\n" for k, v in pairs)
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="cyan")
        grid.add_column(overflow="fold")
        for name, value in pairs:
            grid.add_row(name, value)
        if title:
            self.out.print(title, style="bold", markup=False)
        self.out.print(grid)


def _flat(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


async def _connect(settings: Settings) -> Client:
    """With the payload codec, as the workers and the API: case payloads carry personal data."""
    from temporal.client import connect
    from temporal.codec import codec_from_settings

    return await connect(settings, codec_from_settings(settings))


async def run_command(env: CommandEnv, core: Callable[[CommandEnv], Awaitable[int]]) -> int:
    """Runs a command's core; its `CommandError`s become messages and exit codes."""
    try:
        return await core(env)
    except CommandError as error:
        return env.fail(error.code, error.message)
    except asyncio.CancelledError:
        return env.fail(EXIT_INTERRUPTED, "interrupted")
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):  # its text may quote parameters: the type only
            return env.fail(
                EXIT_USAGE, f"the database failed ({type(exc).__name__}); check DATABASE_URL"
            )
        return env.fail(EXIT_USAGE, f"failed: {type(exc).__name__}: {masked(str(exc))}")
    finally:
        await env.aclose()


def launch(core: Callable[[CommandEnv], Awaitable[int]], *, json_output: bool) -> NoReturn:
    """From a typer command: runs the core and leaves the process with its exit code."""
    from cli.runtime import run_and_leave

    env = CommandEnv(load_settings(), json_output=json_output)
    run_and_leave(run_command(env, core))


# --- Temporal: updates and queries by name ------------------------------------------------------


async def execute_update(
    env: CommandEnv,
    workflow_id: str,
    update: str,
    arg: object,
    *,
    result_type: type[T],
    label: str,
) -> T:
    """The update's answer; refusals and failures become `CommandError`s. `label` names the
    workflow in messages ("case for account 6222…", "risk review risk-6222…")."""
    from temporalio.client import (
        WorkflowUpdateFailedError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
    )
    from temporalio.service import RPCError

    client = await env.client()
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            answer: T = await handle.execute_update(update, arg, result_type=result_type)
            return answer
    except WorkflowUpdateFailedError as error:
        raise await _refusal(client, workflow_id, error, label) from None
    except RPCError as error:
        raise await _rpc_failure(client, workflow_id, error, label) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        _reraise_cancellation()
        raise CommandError(
            EXIT_USAGE,
            f"no answer from the {label} within {ANSWER_TIMEOUT:g} s (is a worker running?); "
            "the action may still take effect",
        ) from None


async def query(
    env: CommandEnv,
    workflow_id: str,
    name: str,
    *,
    result_type: type[T],
    label: str,
    wait: float = ANSWER_TIMEOUT,
) -> T:
    """The query's answer. A case that is still being assessed is asked again for `wait` s."""
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError

    client = await env.client()
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(wait):
            while True:
                try:
                    answer: T = await handle.query(name, result_type=result_type)
                    return answer
                except WorkflowQueryFailedError as error:
                    if NOT_READY not in str(error):
                        raise CommandError(
                            EXIT_USAGE, f"the {label} could not answer ({name}): {error}"
                        ) from None
                await asyncio.sleep(0.2)
    except RPCError as error:
        raise await _rpc_failure(client, workflow_id, error, label) from None
    except TimeoutError:
        _reraise_cancellation()
        raise CommandError(
            EXIT_USAGE, f"no answer from the {label} within {wait:g} s (is a worker running?)"
        ) from None


async def _refusal(
    client: Client, workflow_id: str, error: WorkflowUpdateFailedError, label: str
) -> CommandError:
    from temporalio.exceptions import ApplicationError

    cause = error.cause
    if isinstance(cause, ApplicationError):
        if cause.type == INVALID_ACTION:
            return CommandError(EXIT_REFUSED, f"refused: {cause.message}")
        if cause.type == CASE_CLOSED:
            return CommandError(EXIT_CONFLICT, f"refused: {cause.message}")
    ended = await _not_running(client, workflow_id, label)  # it ended while the update waited?
    if ended is not None:
        return ended
    detail = cause.message if isinstance(cause, ApplicationError) else type(cause).__name__
    return CommandError(EXIT_REFUSED, f"refused: {detail}")


async def _rpc_failure(
    client: Client, workflow_id: str, error: RPCError, label: str
) -> CommandError:
    """Temporal answers NOT_FOUND for an id it never saw and for a finished workflow alike:
    describing the workflow tells them apart."""
    from temporalio.service import RPCStatusCode

    if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return CommandError(EXIT_USAGE, "Temporal is unreachable")
    if error.status == RPCStatusCode.NOT_FOUND:
        ended = await _not_running(client, workflow_id, label)
        if ended is not None:
            return ended
    return CommandError(EXIT_USAGE, f"Temporal refused the call ({error.status.name})")


async def _not_running(client: Client, workflow_id: str, label: str) -> CommandError | None:
    """Not found (3) when Temporal has no such workflow, conflict (4) once it has finished."""
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return CommandError(EXIT_NOT_FOUND, f"no {label}")
        return CommandError(EXIT_USAGE, f"Temporal refused the call ({error.status.name})")
    if description.status != WorkflowExecutionStatus.RUNNING:
        ended = description.status.name.lower() if description.status else "ended"
        return CommandError(EXIT_CONFLICT, f"the {label} has finished ({ended})")
    return None


def _reraise_cancellation() -> None:
    """The SDK turns our own cancellation (Ctrl-C) into its timeout error: undo that."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# --- words ----------------------------------------------------------------------------------


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\b\d+ [A-Z]{3}\b")
_KEPT = re.compile(f"{_ISO_DATE.pattern}|{_AMOUNT.pattern}")


def masked(text: str) -> str:
    """Free text (reasons, notes, timeline details) with phone numbers masked; dates and
    `<minor> <CUR>` amounts, which `mask_numbers` would take for numbers, are left readable."""
    from activities.messaging.privacy import mask_numbers

    pieces, last = [], 0
    for kept in _KEPT.finditer(text):
        pieces += [mask_numbers(text[last : kept.start()]), kept.group(0)]
        last = kept.end()
    return "".join([*pieces, mask_numbers(text[last:])])


def mask_name(name: str) -> str:
    """`张伟` -> `张*`, `Li Wei` -> `L* W**`: enough for a collector to recognise, no more."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split()) or "-"


def at_minute(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else "-"


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, dates and SQLModel rows as JSON types."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)
