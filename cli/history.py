"""`collections history`: engineers' tools for workflow histories.

- `show CASE`: a case's timeline in domain words, over every run of its continue-as-new chain.
  Payloads are decoded with this machine's payload keys; phone numbers are always masked.
- `export CASE [-o FILE]`: the latest run's history as Temporal's JSON, payloads as stored
  (still encrypted), for `replay`, the Temporal UI or `temporal workflow show`.
- `replay FILE|DIR...`: replays histories against the workflow code in this tree.

CASE is an account number (the case `case-<account_no>`) or any workflow id (it has a `-`).
Exit codes: 0 done (replay: every history replays); 1 no such workflow (replay: some history
does not replay); 2 cannot start: bad settings, Temporal unreachable, a file unreadable.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from config.settings import Settings, load_settings
from models.contracts import case_id

if TYPE_CHECKING:
    from cli.history_rows import TimelineRow
    from operations.history import Histories
    from workers.replay import ReplayReport

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
Connect = Callable[[Settings], Awaitable["Histories"]]

history_app = typer.Typer(
    name="history",
    help="Show, export and replay workflow histories.",
    no_args_is_help=True,
)

CaseArg = Annotated[
    str, typer.Argument(metavar="CASE", help="Account number, or a workflow id such as case-…")
]


def workflow_id_for(target: str) -> str:
    target = target.strip()
    return target if "-" in target else case_id(target)


@history_app.command("show")
def show(
    target: CaseArg,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {at, kind, detail}.")
    ] = False,
    runs: Annotated[
        int, typer.Option(min=0, help="Show at most this many runs, latest last; 0: all.")
    ] = 0,
) -> None:
    """A case's timeline: what it did and why, in the words an operator uses."""
    from cli.runtime import run_and_leave

    settings = load_settings()
    run_and_leave(show_history(target, settings=settings, json_output=json_output, max_runs=runs))


@history_app.command("export")
def export(
    target: CaseArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write. Default: stdout.")
    ] = None,
    run_id: Annotated[str | None, typer.Option(help="A run other than the latest.")] = None,
) -> None:
    """Write a run's history as JSON that `history replay` and Temporal's tools read."""
    from cli.runtime import run_and_leave

    settings = load_settings()
    run_and_leave(export_history(target, settings=settings, output=output, run_id=run_id))


@history_app.command("replay")
def replay(
    files: Annotated[
        list[Path], typer.Argument(help="History files, or folders of *.json histories.")
    ],
    workflow: Annotated[
        list[str] | None,
        typer.Option(help="module:Class to replay with; repeat. Default: every registered one."),
    ] = None,
) -> None:
    """Replay exported histories against this code; non-determinism fails (exit 1)."""
    from cli.runtime import run_and_leave

    settings = load_settings()
    workflows = [import_workflow(name) for name in workflow or ()]
    run_and_leave(replay_files(files, settings=settings, workflows=workflows or None))


def import_workflow(name: str) -> type:
    module, _, attribute = name.partition(":")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError):
        raise typer.BadParameter(f"no workflow class {name!r}", param_hint="--workflow") from None
    if not isinstance(found, type):
        raise typer.BadParameter(f"{name!r} is not a class", param_hint="--workflow")
    return found


# --- show ----------------------------------------------------------------------------------


async def show_history(
    target: str,
    *,
    settings: Settings,
    json_output: bool = False,
    max_runs: int = 0,
    out: Console | None = None,
    err: Console | None = None,
    connect: Connect | None = None,
) -> int:
    from cli.history_rows import pending_rows
    from cli.history_timeline import history_timeline
    from operations.history import NoSuchWorkflow

    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    workflow_id = workflow_id_for(target)
    histories = await _connected(settings, connect or _connect_decoding, err)
    if histories is None:
        return EXIT_UNUSABLE
    try:
        found = await histories.case_history(workflow_id, max_runs=max_runs)
    except NoSuchWorkflow as missing:
        err.print(str(missing), markup=False)
        return EXIT_FAILED
    timeline = await history_timeline(found.runs, found.converter)
    rows = timeline.rows + pending_rows(found.pending)
    if json_output:
        _print_json(out, [row.as_json() for row in rows])
    else:
        render_timeline(out, workflow_id, len(found.runs), rows)
    if timeline.undecoded:
        err.print(
            f"some payloads could not be decoded, so their details are left out "
            f"({timeline.undecoded}); PAYLOAD_KEYS must hold the keys that wrote them",
            markup=False,
        )
    return EXIT_OK


_STYLES = {
    "update": "cyan",
    "signal": "cyan",
    "timer": "dim",
    "activity_retry": "yellow",
    "activity_failed": "red",
    "workflow_task_failed": "bold red",
    "failed": "bold red",
    "completed": "green",
}


def render_timeline(out: Console, workflow_id: str, runs: int, rows: Sequence[TimelineRow]) -> None:
    """A table on a terminal; `YYYY-MM-DD HH:MM what` lines (UTC) when piped."""
    from cli.history_words import at_minute

    if not out.is_terminal:
        out.file.writelines(f"{at_minute(row.at)} {row.detail}\n" for row in rows)
        return
    table = Table(
        title=f"{workflow_id} ({runs} run{'s' if runs != 1 else ''})", title_justify="left"
    )
    table.add_column("at (UTC)", no_wrap=True, style="bold")
    table.add_column("what")
    for row in rows:
        table.add_row(at_minute(row.at), Text(row.detail), style=_STYLES.get(row.kind))
    out.print(table)


# --- export --------------------------------------------------------------------------------


async def export_history(
    target: str,
    *,
    settings: Settings,
    output: Path | None = None,
    run_id: str | None = None,
    out: Console | None = None,
    err: Console | None = None,
    connect: Connect | None = None,
) -> int:
    from operations.history import NoSuchWorkflow
    from temporal.history_files import history_document, write_history

    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    workflow_id = workflow_id_for(target)
    histories = await _connected(settings, connect or _connect_raw, err)
    if histories is None:
        return EXIT_UNUSABLE
    try:
        history = await histories.run(workflow_id, run_id)
    except NoSuchWorkflow as missing:
        err.print(str(missing), markup=False)
        return EXIT_FAILED
    summary = f"{workflow_id} run {history.run_id}, {len(history.events)} events"
    if output is None:
        out.file.write(json.dumps(history_document(history), indent=2, ensure_ascii=False) + "\n")
        err.print(summary, markup=False)
        return EXIT_OK
    try:
        write_history(history, output)
    except OSError as exc:
        err.print(f"cannot write {output}: {exc.strerror or type(exc).__name__}", markup=False)
        return EXIT_UNUSABLE
    err.print(f"wrote {output}: {summary}", markup=False)
    return EXIT_OK


# --- replay --------------------------------------------------------------------------------


def history_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a folder stands for the *.json files in it and in its subfolders."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found


async def replay_files(
    paths: Sequence[Path],
    *,
    settings: Settings,
    workflows: Sequence[type] | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> int:
    from temporal.codec import codec_from_settings
    from workers.replay import ReplayOutcome, replay_histories

    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    files = history_files(paths)
    if not files:
        err.print("no history files to replay", markup=False)
        return EXIT_UNUSABLE
    try:
        codec = codec_from_settings(settings)  # histories keep their payloads encrypted
    except ValueError as exc:
        err.print(f"cannot read the payload keys: {exc}", markup=False)
        return EXIT_UNUSABLE
    reports = await replay_histories(files, workflows=workflows, codec=codec, settings=settings)
    render_reports(out, reports)
    if any(r.outcome is ReplayOutcome.UNREADABLE for r in reports):
        return EXIT_UNUSABLE
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


def render_reports(out: Console, reports: Sequence[ReplayReport]) -> None:
    """One line per file: outcome, file, what it holds or why it failed."""
    from cli.history_words import safe

    lines = []
    for r in reports:
        about = f"{r.workflow_id} ({r.workflow_type}, {r.events} events)" if r.workflow_id else ""
        lines.append((str(r.outcome), str(r.path), safe(r.error) if r.error else about))
    if not out.is_terminal:
        out.file.writelines(f"{outcome}\t{path}\t{why}\n" for outcome, path, why in lines)
        return
    table = Table(title="Replay against this code", title_justify="left")
    table.add_column("outcome", no_wrap=True)
    table.add_column("file", style="cyan")
    table.add_column("history / error")
    for outcome, path, why in lines:
        table.add_row(outcome, Text(path), Text(why), style=None if outcome == "ok" else "red")
    out.print(table)


# --- shared --------------------------------------------------------------------------------


async def _connected(settings: Settings, connect: Connect, err: Console) -> Histories | None:
    try:
        return await connect(settings)
    except Exception as exc:
        message = (
            f"cannot connect to Temporal: {exc}"  # settings: names the variable, not a secret
            if isinstance(exc, ValueError)
            else f"Temporal is unreachable at {settings.temporal_address} ({type(exc).__name__})"
        )
        err.print(message, markup=False)
        return None


async def _connect_decoding(settings: Settings) -> Histories:
    """With this machine's payload keys, to read what the payloads say."""
    from operations.history import connect_histories

    return await connect_histories(settings, decode=True)


async def _connect_raw(settings: Settings) -> Histories:
    """Without the codec: an export keeps the payloads as they are stored."""
    from operations.history import connect_histories

    return await connect_histories(settings, decode=False)


def _print_json(out: Console, document: Any) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2)
    out.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)
