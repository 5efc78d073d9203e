"""Performance as the front ends show it (`readmodel.performance` defines each figure,
`readmodel.performance_center` the center's trends): the window a person asks for, what they
may see of it, and the one JSON document and CSV tables the API and the CLI both give.

A supervisor (or the CLI, run on the host) sees every collector and team; a collector sees
their own row and the center's figures, no one else's.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from models.people import Role
from operations.staff import Person
from readmodel.engine import Database
from readmodel.kpis import Rate
from readmodel.performance import COUNTED, Figures, Performance, performance
from readmodel.performance_center import MONTHS, CenterTrends, center_trends

DAYS = 30  # the window when none is asked for: the last 30 days, today included
LONGEST = timedelta(days=3660)
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)

Part = Literal["figures", "daily", "recovery", "roll_rates", "cure_trend"]
PARTS: tuple[Part, ...] = ("figures", "daily", "recovery", "roll_rates", "cure_trend")


class WindowError(ValueError):
    """A window that cannot be counted; the message says why."""


def instant(text: str, name: str) -> datetime:
    """A date (its UTC midnight) or an ISO 8601 time (UTC when it names no offset)."""
    try:
        if len(text.strip()) == 10:
            at = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        else:
            at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WindowError(f"{name}: neither a date (YYYY-MM-DD) nor a time (ISO 8601)") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if not EARLIEST <= at <= LATEST:
        raise WindowError(f"{name}: a date from {EARLIEST:%Y} to {LATEST:%Y}")
    return at


def window(
    since: str | None, until: str | None, *, now: datetime, days: int = DAYS
) -> tuple[datetime, datetime]:
    """[since, until): `until` defaults to the end of today (UTC), `since` to `days` before it."""
    tomorrow = datetime.combine(
        now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
    )
    end = instant(until, "until") if until else tomorrow
    start = instant(since, "since") if since else end - timedelta(days=days)
    if start >= end:
        raise WindowError("since must be before until (the window is [since, until))")
    if end - start > LONGEST:
        raise WindowError(f"the window is at most {LONGEST.days} days")
    return start, end


@dataclass(frozen=True)
class Report:
    figures: Performance
    trends: CenterTrends
    team: str | None  # the team asked for; None: every team


def visible_to(figures: Performance, person: Person | None) -> Performance:
    """What `person` may see: a supervisor everything, a collector their own row and the
    center's; None is the host's CLI, which sees everything."""
    if person is None or Role.SUPERVISOR in person.roles:
        return figures
    own = [row for row in figures.collectors if row.person_id == person.id]
    return dataclasses.replace(figures, collectors=own, teams=[])


async def report(
    db: Database,
    *,
    since: datetime,
    until: datetime,
    person: Person | None,
    team: str | None = None,
    months: int = MONTHS,
) -> Report:
    if person is not None and Role.SUPERVISOR not in person.roles:
        team = None  # a collector's own row, whichever team was asked for
    figures = await performance(db, since=since, until=until, team=team or None)
    trends = await center_trends(db, since=since, until=until, months=months)
    return Report(visible_to(figures, person), trends, team or None)


# --- the JSON document ----------------------------------------------------------------------


def _rate(rate: Rate) -> dict[str, Any]:
    return {"numerator": rate.numerator, "denominator": rate.denominator, "value": rate.value}


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON types: money in minor units per currency, times in ISO 8601 UTC."""
    figures, trends = report.figures, report.trends
    return {
        "since": figures.since.isoformat(),
        "until": figures.until.isoformat(),
        "time_zone": "UTC",
        "team": report.team,
        "collectors": [
            {"person_id": r.person_id, "team": r.team, **dataclasses.asdict(r.figures)}
            for r in figures.collectors
        ],
        "teams": [
            {"team": t.team, "people": t.people, **dataclasses.asdict(t.figures)}
            for t in figures.teams
        ],
        "center": {
            **dataclasses.asdict(figures.center),
            "collected_per_day": [
                {"day": d.day.isoformat(), "collected": d.collected}
                for d in trends.collected_per_day
            ],
            "recovery_rate": {cur: _rate(rate) for cur, rate in trends.recovery.items()},
            "roll_rates_by_month": [
                {
                    "month": m.month.isoformat()[:7],
                    "start": m.start.isoformat(),
                    "end": m.end.isoformat(),
                    "from": {
                        before: {
                            "cases": sum(row.values()),
                            "to": {
                                after: {"cases": n, "share": m.share(before, after).value}
                                for after, n in row.items()
                            },
                        }
                        for before, row in m.cases.items()
                    },
                }
                for m in trends.roll_matrices
            ],
            "cure_rate_by_month": [
                {"month": m.month.isoformat()[:7], "end": m.end.isoformat(), **_rate(m.cure)}
                for m in trends.cure_trend
            ],
        },
    }


# --- CSV ------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a team's name starting `=` is no formula."""
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@") else value
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def figure_rows(report: Report) -> list[tuple[str, str, str, Figures]]:
    """(level, id, team, figures): each collector, each team, then the center."""
    figures = report.figures
    return [
        *(("collector", r.person_id, r.team, r.figures) for r in figures.collectors),
        *(("team", t.team, t.team, t.figures) for t in figures.teams),
        ("center", "center", "", figures.center),
    ]


def as_csv(report: Report, part: Part = "figures") -> str:
    """One table of the report: `figures` (a row per collector, team and the center, a
    `collected_<CUR>` column per currency, minor units), `daily` (collected per day),
    `recovery`, `roll_rates` (a row per month and pair of buckets) or `cure_trend`."""
    trends = report.trends
    header: list[str]
    lines: list[list[object]]
    if part == "figures":
        rows = figure_rows(report)
        currencies = sorted({cur for *_, f in rows for cur in f.collected})
        header = ["level", "id", "team", *COUNTED, *(f"collected_{cur}" for cur in currencies)]
        lines = [
            [level, key, team]
            + [getattr(f, figure.value) for figure in COUNTED]
            + [f.collected.get(cur, 0) for cur in currencies]
            for level, key, team, f in rows
        ]
    elif part == "daily":
        currencies = sorted({cur for d in trends.collected_per_day for cur in d.collected})
        header = ["day", *(f"collected_{cur}" for cur in currencies)]
        lines = [
            [d.day.isoformat(), *(d.collected.get(cur, 0) for cur in currencies)]
            for d in trends.collected_per_day
        ]
    elif part == "recovery":
        header = ["currency", "collected", "owed_at_start", "rate"]
        lines = [[cur, r.numerator, r.denominator, r.value] for cur, r in trends.recovery.items()]
    elif part == "roll_rates":
        header = ["month", "from_bucket", "to_bucket", "cases", "share"]
        lines = [
            [m.month.isoformat()[:7], before, after, n, m.share(before, after).value]
            for m in trends.roll_matrices
            for before, row in m.cases.items()
            for after, n in row.items()
        ]
    else:
        header = ["month", "cured", "open_cases", "rate"]
        lines = [
            [m.month.isoformat()[:7], m.cure.numerator, m.cure.denominator, m.cure.value]
            for m in trends.cure_trend
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in line] for line in lines])
    return out.getvalue()
