"""`collections complaints`: the complaint register, for supervisors.

- `list [--show all|open|answered|overdue] [--case ACCOUNT]`: from the database
  (`complaints`), soonest deadline first, with what the customer asks (phone numbers masked).
- `counts [--days 30]`: received, answered and upheld in the window; open and overdue now.
Receiving and answering a complaint are case actions: `collections case raise-complaint` and
`collections case resolve-complaint`.

Exit codes: 0 done; 2 usage error or the database unreachable. See `cli.actions`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.actions import EXIT_OK, CommandEnv, JsonOption, at_minute, jsonable, launch, masked
from cli.case_actions import workflow_id_for
from models.contracts import case_account

if TYPE_CHECKING:
    from readmodel.complaints import ComplaintRegisterRow

complaints_app = typer.Typer(
    name="complaints", help="The complaint register: list and count.", no_args_is_help=True
)


class Show(StrEnum):
    ALL = "all"
    OPEN = "open"
    ANSWERED = "answered"
    OVERDUE = "overdue"  # open past the regulatory deadline


@complaints_app.command("list")
def list_command(
    show: Annotated[Show, typer.Option(help="Which complaints.")] = Show.ALL,
    case: Annotated[str | None, typer.Option(help="Only this account's case.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Complaints, soonest deadline first."""
    launch(lambda env: list_complaints(env, show, case, limit), json_output=json_output)


async def list_complaints(env: CommandEnv, show: Show, case: str | None, limit: int) -> int:
    from operations import access
    from operations.staff import Person

    now = datetime.now(UTC)
    reader = Person(id=env.actor(), name=env.actor(), roles=frozenset())  # the host's user
    rows = await access.read_complaint_register(
        env.database(),
        reader,
        "cli",
        show=show.value,
        now=now,
        case_id=workflow_id_for(case) if case else None,
        limit=limit,
    )
    if env.json_output:
        return env.print_json({"complaints": [_view(row, now) for row in rows]})
    if not rows:
        env.say("no complaints match")
        return EXIT_OK
    columns = ("complaint", "account", "about", "by", "answer by", "outcome", "asks")
    env.table(
        columns,
        [
            (
                row.key,
                case_account(row.case_id),
                row.category,
                row.channel,
                at_minute(row.deadline) + (" OVERDUE" if row.overdue(now) else ""),
                row.outcome or "open",
                masked(row.asks),
            )
            for row in rows
        ],
        title="Complaints",
    )
    return EXIT_OK


def _view(row: ComplaintRegisterRow, now: datetime) -> Any:
    return jsonable(
        {
            "key": row.key,
            "account_no": case_account(row.case_id),
            "category": row.category,
            "channel": row.channel,
            "asks": masked(row.asks),
            "received_at": row.received_at,
            "deadline": row.deadline,
            "overdue": row.overdue(now),
            "outcome": row.outcome,
            "response": masked(row.response or ""),
            "resolved_at": row.resolved_at,
            "resolved_by": row.resolved_by,
        }
    )


@complaints_app.command("counts")
def counts_command(
    days: Annotated[int, typer.Option(min=1, max=3660, help="The window, in days.")] = 30,
    json_output: JsonOption = False,
) -> None:
    """Received, answered and upheld in the last DAYS days; open and overdue now."""
    launch(lambda env: count_complaints(env, days), json_output=json_output)


async def count_complaints(env: CommandEnv, days: int) -> int:
    from readmodel.complaints import complaint_counts

    now = datetime.now(UTC)
    counts = await complaint_counts(env.database(), since=now - timedelta(days=days), until=now)
    figures = dataclasses.asdict(counts)
    if env.json_output:
        return env.print_json({"days": days, **figures})
    env.table(tuple(figures), [tuple(str(n) for n in figures.values())], title="Complaints")
    return EXIT_OK
