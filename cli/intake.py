"""`collections intake FILE`: load the daily overdue file and start a case per good row.

Exit codes for scripts: 0 every row is fine (started or already running); 1 some rows were
rejected or failed to start, the others went ahead; 2 nothing could be done: the file could not
be read, its header is unusable, or Temporal is unreachable. 130: interrupted.
Output names rows, fields and case ids only, never a customer's name, number or balance.

`collections intake-files`: the files the daily intake (`workflows.daily_intake`, on its
schedule) loaded from the drop folder, newest first, with their counts and errors files, and
"LATE" when the day's file is late (`models.daily_intake.lateness`). Exit code 0, late or not
(`--json` says `late`); 2 when the database cannot be read.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from config.settings import POLICY_DIR, Settings, load_settings
from models.daily_intake import lateness
from models.intake import ParsedIntake, RowError, parse_intake

if TYPE_CHECKING:
    from cli.actions import CommandEnv
    from operations.gateway import Gateway
    from operations.intake import IntakeSummary, RowOutcome
    from readmodel.engine import Database

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_ROWS_LISTED = 10


class IntakeFileError(Exception):
    """The file cannot be read at all; the message says why without quoting its content."""


@dataclass(frozen=True)
class IntakeOptions:
    task_queue: str
    refresh: bool = True
    concurrency: int = 50
    json_output: bool = False


def policy_names() -> frozenset[str]:
    return frozenset(path.stem for path in POLICY_DIR.glob("*.toml"))


def read_intake_file(file: Path) -> str:
    """UTF-8 text, with or without a BOM; `-` reads standard input."""
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise IntakeFileError(exc.strerror or type(exc).__name__) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeFileError(
            f"not UTF-8 text (first bad byte at offset {exc.start}); save it as CSV UTF-8"
        ) from None


def intake(
    file: Annotated[Path, typer.Argument(help="The overdue file (CSV, UTF-8); - for stdin.")],
    strategy: Annotated[
        str | None,
        typer.Option(help="Policy for rows whose strategy cell is blank. Default: configured."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document for scripts.")
    ] = False,
    task_queue: Annotated[
        str | None, typer.Option(help="Task queue of the cases. Default: the collections queue.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option(help="Send the file's balances to cases that are already running.")
    ] = True,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Intake date for the due-date check. Default: today."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=500, help="Starts in flight at once.")
    ] = 50,
) -> None:
    """Check the daily overdue file and start a case per good row; report every bad row."""
    settings = load_settings()
    known = policy_names()
    if strategy is not None and strategy not in known:
        raise typer.BadParameter(
            f"no policy named {strategy!r}; there are {', '.join(sorted(known))}",
            param_hint="--strategy",
        )
    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    try:
        text = read_intake_file(file)
    except IntakeFileError as exc:
        message = f"cannot read {file}: {exc}"
        if json_output:
            _print_json(out, json_document(str(file), ParsedIntake([], []), None, error=message))
        err.print(message, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    parsed = parse_intake(
        text,
        as_of=as_of.date() if as_of else date.today(),
        default_strategy=strategy or "",
        strategies=known,
    )
    options = IntakeOptions(
        task_queue=task_queue or settings.task_queues.collections,
        refresh=refresh,
        concurrency=concurrency,
        json_output=json_output,
    )
    if not parsed.valid:  # nothing to start: no Temporal client, so a normal exit is safe
        raise typer.Exit(report(out, str(file), parsed, None, options))
    from cli.runtime import run_and_leave

    run_and_leave(_start_with_read_model(parsed, settings, str(file), options))


async def _start_with_read_model(
    parsed: ParsedIntake, settings: Settings, file_label: str, options: IntakeOptions
) -> int:
    """The read model tells which rows' cases run, so each of those is refreshed in one call."""
    from readmodel.engine import open_database

    db = open_database(settings)
    try:
        return await start_cases(
            parsed, settings=settings, file_label=file_label, options=options, db=db
        )
    finally:
        await db.dispose()


async def start_cases(
    parsed: ParsedIntake,
    *,
    settings: Settings,
    file_label: str,
    options: IntakeOptions,
    out: Console | None = None,
    err: Console | None = None,
    connect: Callable[[Settings], Awaitable[Gateway]] | None = None,
    db: Database | None = None,
) -> int:
    """Connects, starts the valid rows with a progress bar, reports; returns the exit code.
    With the read model `db`, a row whose case it holds open is refreshed in one call."""
    from cli.actions import connect_gateway
    from operations.intake import IntakeSummary, run_intake

    out = out or Console(highlight=False)
    err = err or Console(stderr=True, highlight=False)
    if not options.json_output:
        render_errors(out, parsed.errors)
    try:
        gateway = await (connect or connect_gateway)(settings)
    except Exception as exc:
        message = (
            f"cannot connect to Temporal: {exc}"  # settings: names the variable, not a secret
            if isinstance(exc, ValueError)
            else f"Temporal is unreachable at {settings.temporal_address} ({type(exc).__name__})"
        )
        if options.json_output:
            _print_json(out, json_document(file_label, parsed, None, error=message))
        err.print(message, markup=False, soft_wrap=True)
        return EXIT_UNUSABLE

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    seen: list[RowOutcome] = []
    show = err.is_terminal and not options.json_output
    progress = Progress(
        "starting cases", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=not show,
    )  # fmt: skip
    bar = progress.add_task("start", total=len(parsed.valid))

    def advance(outcome: RowOutcome) -> None:
        seen.append(outcome)
        progress.advance(bar)

    try:
        with progress:
            summary = await run_intake(
                gateway,
                parsed.valid,
                task_queue=options.task_queue,
                concurrency=options.concurrency,
                on_progress=advance,
                refresh=options.refresh,
                db=db,
                # None: an operator's shell need not hold the workers' policy (`make up` gives
                # only its own processes the demo strategy), so the case assesses itself.
            )
    except asyncio.CancelledError:
        partial = IntakeSummary(tuple(sorted(seen, key=lambda o: o.row)))
        report(out, file_label, parsed, partial, options, errors_shown=True, interrupted=True)
        err.print(
            f"interrupted: {len(parsed.valid) - len(seen)} row(s) left undone", soft_wrap=True
        )
        return EXIT_INTERRUPTED
    return report(out, file_label, parsed, summary, options, errors_shown=True)


def exit_code(parsed: ParsedIntake, summary: IntakeSummary | None) -> int:
    if parsed.file_error:
        return EXIT_UNUSABLE
    if summary is not None and summary.outcomes and len(summary.failed) == len(summary.outcomes):
        return EXIT_UNUSABLE  # not one start went through: Temporal is not taking work
    if parsed.errors or (summary is not None and summary.failed):
        return EXIT_REJECTED
    return EXIT_OK


def report(
    out: Console,
    file_label: str,
    parsed: ParsedIntake,
    summary: IntakeSummary | None,
    options: IntakeOptions,
    *,
    errors_shown: bool = False,
    interrupted: bool = False,
) -> int:
    """Prints the outcome (a JSON document, or the errors and a summary) and returns the exit
    code. `errors_shown`: the row errors were printed already, before the starts began."""
    if options.json_output:
        document = json_document(file_label, parsed, summary)
        if interrupted:
            document.update(exit_code=EXIT_INTERRUPTED, error="interrupted")
        _print_json(out, document)
    else:
        if not errors_shown:
            render_errors(out, parsed.errors)
        render_summary(out, parsed, summary)
    return EXIT_INTERRUPTED if interrupted else exit_code(parsed, summary)


def render_errors(out: Console, errors: Sequence[RowError]) -> None:
    """A table on a terminal; tab-separated lines (row, field, reason) when piped."""
    if not errors:
        return
    if not out.is_terminal:  # rich would expand the tabs
        lines = [f"{e.row}\t{e.field}\t{e.reason}\n" for e in errors]
        out.file.writelines(["row\tfield\treason\n", *lines])
        return
    table = Table(title="Rejected rows", title_justify="left")
    table.add_column("row", justify="right", style="bold")
    table.add_column("field", style="cyan")
    table.add_column("reason")
    for e in errors:
        table.add_row(str(e.row), e.field, e.reason)
    out.print(table)


def render_summary(out: Console, parsed: ParsedIntake, summary: IntakeSummary | None) -> None:
    started = len(summary.started) if summary else 0
    running = len(summary.already_running) if summary else 0
    failed = len(summary.failed) if summary else 0
    line = f"started {started}, already running {running}, rejected {len(parsed.rejected_rows)}" + (
        f", failed {failed}" if failed else ""
    )
    if summary is not None:
        for note, rows in _grouped(summary.warnings):
            out.print(f"warning: {note} ({_rows(rows)})", markup=False, soft_wrap=True)
        for note, rows in _grouped(summary.failed):
            out.print(f"failed: {note} ({_rows(rows)})", markup=False, soft_wrap=True)
    if parsed.file_error:
        line = "nothing started: the file's header must be fixed first"
    style = "green" if exit_code(parsed, summary) == EXIT_OK else "yellow"
    out.print(line, style=style if out.is_terminal else None, markup=False, soft_wrap=True)


def _grouped(outcomes: Sequence[RowOutcome]) -> list[tuple[str, list[int]]]:
    groups: dict[str, list[int]] = {}
    for o in outcomes:
        groups.setdefault(o.note, []).append(o.row)
    return list(groups.items())


def _rows(rows: list[int]) -> str:
    listed = ", ".join(str(r) for r in rows[:MAX_ROWS_LISTED])
    more = f" and {len(rows) - MAX_ROWS_LISTED} more" if len(rows) > MAX_ROWS_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}"


def json_document(
    file_label: str, parsed: ParsedIntake, summary: IntakeSummary | None, *, error: str = ""
) -> dict[str, Any]:
    outcomes = summary.outcomes if summary else ()

    def case(o: RowOutcome) -> dict[str, Any]:
        return {"row": o.row, "account_no": o.account_no, "workflow_id": o.workflow_id}

    document: dict[str, Any] = {
        "file": file_label,
        "started": [case(o) for o in outcomes if o.outcome == "started"],
        "already_running": [
            {**case(o), "refreshed": o.refreshed, "warning": o.note}
            for o in outcomes
            if o.outcome == "already_running"
        ],
        "rejected": [{"row": e.row, "field": e.field, "reason": e.reason} for e in parsed.errors],
        "failed": [{**case(o), "reason": o.note} for o in outcomes if o.outcome == "failed"],
        "exit_code": EXIT_UNUSABLE if error else exit_code(parsed, summary),
    }
    if error:
        document["error"] = error
    return document


def _print_json(out: Console, document: dict[str, Any]) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2)
    out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


def intake_files(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document for scripts.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many files to list.")] = 30,
) -> None:
    """The files the daily intake loaded, newest first, and whether today's file is late."""
    from cli.actions import launch

    launch(lambda env: list_intake_files(env, limit=limit), json_output=json_output)


async def list_intake_files(
    env: CommandEnv, *, limit: int = 30, now: datetime | None = None
) -> int:
    from readmodel.intake_files import last_loaded_at
    from readmodel.intake_files import list_intake_files as loaded_files

    db = env.database()
    files = await loaded_files(db, limit=limit)
    last = await last_loaded_at(db)
    settings = env.settings
    late = lateness(
        now=now or datetime.now(UTC),
        last_file_at=last,
        due_hour_utc=settings.intake_due_hour_utc,
        late_after_hours=settings.intake_late_after_hours,
    )
    if env.json_output:
        return env.print_json(
            {
                "late": late,
                "last_file_at": last,
                "due_hour_utc": settings.intake_due_hour_utc,
                "drop_dir": str(settings.intake_drop_dir),
                "files": files,
            }
        )
    from cli.actions import at_minute

    if late:
        env.say(f"LATE: {late}; last file loaded {at_minute(last)}", style="bold red")
    else:
        env.say(f"on time: last file loaded {at_minute(last)}", style="green")
    if not files:
        env.say(f"no file loaded yet: the daily intake looks into {settings.intake_drop_dir}")
        return EXIT_OK
    columns = ("loaded", "file", "rows", "started", "refreshed", "rejected", "failed", "errors")
    rows = [
        (
            at_minute(f.processed_at),
            f.name,
            *(str(n) for n in (f.rows, f.started, f.refreshed, f.rejected, f.failed)),
            f.errors_file or "-",
        )
        for f in files
    ]
    env.table(columns, rows)
    return EXIT_OK
