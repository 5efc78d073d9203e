"""What the operations, risk and legal commands share: how they reach the application layer's
gateway, how its answers become messages and exit codes (`answered`, the one place), and print.

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
import getpass
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
from models.people import Actor
from operations.answers import Answer, Outcome

if TYPE_CHECKING:
    from operations.gateway import Gateway
    from readmodel.engine import Database

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130

T = TypeVar("T")
Connect = Callable[[Settings], Awaitable["Gateway"]]

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
    """What a command's core needs from outside. Tests build one around their own gateway
    (through `connect`), database and consoles."""

    settings: Settings
    json_output: bool = False
    out: Console = field(default_factory=_stdout)
    err: Console = field(default_factory=_stderr)
    connect: Connect | None = None
    db: Database | None = None
    _gateway: Gateway | None = field(default=None, init=False, repr=False)
    _owned_db: Database | None = field(default=None, init=False, repr=False)

    async def gateway(self) -> Gateway:
        if self._gateway is None:
            try:
                self._gateway = await (self.connect or connect_gateway)(self.settings)
            except Exception as exc:
                message = (
                    f"cannot connect to Temporal: {exc}"  # settings: names the variable only
                    if isinstance(exc, ValueError)
                    else f"Temporal is unreachable at {self.settings.temporal_address} "
                    f"({type(exc).__name__})"
                )
                raise CommandError(EXIT_USAGE, message) from None
            self._gateway = self._gateway.acting(Actor(self.actor(), via="cli"))
        return self._gateway

    def actor(self) -> str:
        if self.settings.cli_actor:
            return self.settings.cli_actor
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no login name in this environment
            return "unknown"

    def database(self) -> Database:
        if self.db is not None:
            return self.db
        if self._owned_db is None:
            from readmodel.engine import open_database

            self._owned_db = open_database(self.settings)
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


async def connect_gateway(settings: Settings) -> Gateway:
    """With the payload codec, as the workers and the API: case payloads carry personal data.
    Every call waits the configured answer time (ANSWER_TIMEOUT_SECONDS)."""
    from operations.gateway import Gateway
    from temporal.client import connect
    from temporal.codec import codec_from_settings

    client = await connect(settings, codec_from_settings(settings))
    return Gateway(client, answer_within=settings.answer_timeout_seconds)


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


# --- the application layer's answers --------------------------------------------------------

_CODES = {
    Outcome.ACCEPTED: EXIT_OK,
    Outcome.REFUSED: EXIT_REFUSED,
    Outcome.FORBIDDEN: EXIT_REFUSED,
    Outcome.AWAITING_APPROVAL: EXIT_OK,
    Outcome.NOT_FOUND: EXIT_NOT_FOUND,
    Outcome.CLOSED: EXIT_CONFLICT,
    Outcome.ALREADY_RUNNING: EXIT_CONFLICT,
    Outcome.UNREACHABLE: EXIT_USAGE,
    Outcome.NO_ANSWER: EXIT_USAGE,
    Outcome.FAILED: EXIT_USAGE,
}


def answered(
    answer: Answer[Any], label: str, *, within: float, action: bool = False
) -> tuple[int, str]:
    """The exit code and the operator's message for an answer of the gateway. `label` names
    the workflow ("case for account 6222…", "risk review risk-6222…"); `within` is how long
    it was given; an `action` that got no answer may still take effect."""
    code = _CODES[answer.outcome]
    match answer.outcome:
        case Outcome.ACCEPTED:
            return code, ""
        case Outcome.REFUSED | Outcome.FORBIDDEN:
            return code, f"refused: {answer.message}"
        case Outcome.CLOSED if answer.ended:
            return code, f"the {label} has finished ({answer.ended})"
        case Outcome.CLOSED:
            return code, f"refused: {answer.message}"
        case Outcome.NOT_FOUND:
            return code, f"no {label}"
        case Outcome.NO_ANSWER:
            tail = "; the action may still take effect" if action else ""
            return (
                code,
                f"no answer from the {label} within {within:g} s (is a worker running?){tail}",
            )
        case _:
            return code, answer.message


async def settled(env: CommandEnv, answer: Answer[T], label: str, *, action: bool = False) -> T:
    """The value of an accepted answer; any other ends the command as `answered` says."""
    if answer.ok:
        return answer.unwrap()
    within = (await env.gateway()).answer_within
    raise CommandError(*answered(answer, label, within=within, action=action))


# --- words ----------------------------------------------------------------------------------


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\b\d+ [A-Z]{3}\b")
_KEPT = re.compile(f"{_ISO_DATE.pattern}|{_AMOUNT.pattern}")


def masked(text: str) -> str:
    """Free text (reasons, notes, timeline details) with phone numbers masked; dates and
    `<minor> <CUR>` amounts, which `mask_numbers` would take for numbers, are left readable."""
    from models.privacy import mask_numbers

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
