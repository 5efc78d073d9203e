"""Performance per collector, per team and for the center over a window, as JSON and as CSV
(`operations.performance`; each figure is defined in `readmodel.performance` and
`readmodel.performance_center`). A supervisor sees everyone; a collector their own row and the
center's figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.auth import Caller, require_roles
from api.deps import DatabaseDep
from operations import performance
from operations.performance import Part, Report, WindowError
from operations.roles import Role
from readmodel.performance_center import MONTHS

router = APIRouter(
    tags=["performance"],
    dependencies=[Depends(require_roles(Role.SUPERVISOR, Role.OPERATIONS))],
)

Since = Annotated[
    str | None, Query(description="A date (YYYY-MM-DD, UTC) or time; default 30 days before")
]
Until = Annotated[
    str | None, Query(description="Exclusive: a date or time; default the end of today (UTC)")
]
Team = Annotated[str | None, Query(max_length=100, description="Only this team's people")]
Months = Annotated[int, Query(ge=1, le=36, description="Months of the center's trends")]


async def _counted(
    person: Caller,
    db: DatabaseDep,
    since: Since = None,
    until: Until = None,
    team: Team = None,
    months: Months = MONTHS,
) -> Report:
    try:
        start, end = performance.window(since, until, now=datetime.now(UTC))
    except WindowError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    return await performance.report(
        db, since=start, until=end, person=person, team=team, months=months
    )


Counted = Annotated[Report, Depends(_counted)]


@router.get("/performance")
async def read_performance(report: Counted) -> dict[str, Any]:
    """Contacts, right-party contacts, promises obtained and kept, money collected per
    currency (minor units), cases cured, complaints and tasks past deadline in [since, until),
    per collector, per team and for the center; the center's money per day, recovery rate,
    roll-rate matrix and cure rate by month. 400 for a window that cannot be counted."""
    return performance.as_json(report)


@router.get("/performance.csv", response_class=Response)
async def performance_csv(report: Counted, part: Part = "figures") -> Response:
    """One table of the same figures as CSV: `figures` (a row per collector, team and the
    center), `daily`, `recovery`, `roll_rates` or `cure_trend`."""
    return Response(
        performance.as_csv(report, part),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="performance-{part}.csv"'},
    )
