"""`collections performance [--since D] [--until D] [--team T] [--months N] [--json | --csv
[--part P]]`: performance per collector, per team and for the center over [since, until)
(default the last 30 days, today included; days in UTC), from the database. Each figure is
defined where it is counted: `readmodel.performance`, `readmodel.performance_center`.

Run on the host, it shows every collector and team (the API shows a collector only their own
row). `--json` prints the API's document; `--csv` one of its tables (`--part`: figures, daily,
recovery, roll_rates, cure_trend).

Exit codes: 0 done; 2 a window that cannot be counted, or the database unreachable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from cli.actions import EXIT_OK, EXIT_USAGE, CommandEnv, CommandError, JsonOption, launch
from models.money import money

if TYPE_CHECKING:
    from operations.performance import Report
    from readmodel.kpis import Rate


class Part(StrEnum):
    FIGURES = "figures"
    DAILY = "daily"
    RECOVERY = "recovery"
    ROLL_RATES = "roll_rates"
    CURE_TREND = "cure_trend"


def performance_command(
    since: Annotated[
        str | None, typer.Option(help="From this date (YYYY-MM-DD, UTC) or time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this date or time, excluded; default: tomorrow.")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's people.")] = None,
    months: Annotated[int, typer.Option(min=1, max=36, help="Months of the trends.")] = 6,
    csv_output: Annotated[bool, typer.Option("--csv", help="Print a table as CSV.")] = False,
    part: Annotated[Part, typer.Option(help="Which table --csv prints.")] = Part.FIGURES,
    json_output: JsonOption = False,
) -> None:
    """Contacts, right-party contacts, promises, money collected, cures, complaints and tasks
    past deadline per collector, per team and for the center; the center's trends."""
    csv_part = part if csv_output else None
    launch(
        lambda env: show_performance(env, since, until, team, months, csv_part),
        json_output=json_output,
    )


async def show_performance(
    env: CommandEnv,
    since: str | None,
    until: str | None,
    team: str | None,
    months: int,
    csv_part: Part | None = None,
) -> int:
    from operations import performance

    try:
        start, end = performance.window(since, until, now=datetime.now(UTC))
    except performance.WindowError as error:
        raise CommandError(EXIT_USAGE, str(error)) from None
    report = await performance.report(
        env.database(), since=start, until=end, person=None, team=team, months=months
    )
    if env.json_output:
        return env.print_json(performance.as_json(report))
    if csv_part is not None:
        env.out.file.write(performance.as_csv(report, csv_part.value))
        return EXIT_OK
    _tables(env, report)
    return EXIT_OK


def _paid(collected: dict[str, int]) -> str:
    return ", ".join(money(minor, currency) for currency, minor in collected.items()) or "-"


def _share(rate: Rate) -> str:
    return "-" if rate.value is None else f"{rate.value:.1%} ({rate.numerator}/{rate.denominator})"


def _percent(rate: Rate) -> str:
    return "-" if rate.value is None else f"{rate.value:.1%}"


def _cell(rate: Rate) -> str:
    """A cell of the roll-rate matrix: cases, and their share of the row."""
    return f"{rate.numerator} ({_percent(rate)})" if rate.numerator else "0"


def _tables(env: CommandEnv, report: Report) -> None:
    from operations.performance import figure_rows

    figures, trends = report.figures, report.trends
    window = f"{figures.since:%Y-%m-%d %H:%M} to {figures.until:%Y-%m-%d %H:%M} UTC"
    columns = ("level", "id", "team", "contacts", "rpc", "promises", "kept", "collected")
    more = ("cured", "complaints", "past deadline")
    env.table(
        columns + more,
        [
            (
                level,
                key,
                team or "-",
                *(
                    str(n)
                    for n in (
                        f.contacts,
                        f.right_party_contacts,
                        f.promises_obtained,
                        f.promises_kept,
                    )
                ),
                _paid(f.collected),
                *(str(n) for n in (f.cases_cured, f.complaints, f.tasks_past_deadline)),
            )
            for level, key, team, f in figure_rows(report)
        ],
        title=f"Performance, {window}",
    )
    env.table(
        ("currency", "collected", "owed at the start", "recovery rate"),
        [
            (cur, money(r.numerator, cur), money(r.denominator, cur), _percent(r))
            for cur, r in trends.recovery.items()
        ],
        title="Recovery",
    )
    env.table(
        ("day", "collected"),
        [(d.day.isoformat(), _paid(d.collected)) for d in trends.collected_per_day if d.collected],
        title="Collected per day (days with none left out)",
    )
    env.table(
        ("month", "cure rate"),
        [(m.month.isoformat()[:7], _share(m.cure)) for m in trends.cure_trend],
        title="Cure rate by month",
    )
    last = trends.roll_matrices[-1]
    ends = tuple(next(iter(last.cases.values())))
    env.table(
        ("from \\ to", *ends),
        [(before, *(_cell(last.share(before, after)) for after in ends)) for before in last.cases],
        title=f"Roll rates, {last.start:%Y-%m-%d} to {last.end:%Y-%m-%d %H:%M}",
    )
