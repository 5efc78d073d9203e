"""The center's KPIs over a window of days, drawn as bar charts (no script on the page); for
collectors and supervisors, performance over the same days (`operations.performance`): a
supervisor's team per collector (their own team unless they ask for another, or for all with
an empty one), a collector's own row; the center's money per day, cure rate by month and
last month's roll-rate matrix."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.console import charts
from api.console.i18n import translator
from api.console.pages import COLLECTORS, PAGES, Operator, forbidden, render, signed_in
from api.deps import DatabaseDep, SettingsDep
from models.contracts import Stage
from models.money import money
from models.people import Role
from operations import performance, staff
from readmodel import queries
from readmodel.complaints import complaint_counts
from readmodel.engine import Database
from readmodel.kpis import DELINQUENT
from readmodel.performance_center import DayCollected

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    settings: SettingsDep,
    db: DatabaseDep,
    window: int = 30,
    team: str | None = None,
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    operator = await signed_in(request)
    if not operator.may(PAGES["dashboard"]):
        return forbidden(request, operator)
    days = min(max(window, 1), 3660)
    now = datetime.now(UTC)
    kpis = await queries.center_kpis(db, now=now, window=timedelta(days=days))
    complaints = await complaint_counts(db, since=now - timedelta(days=days), until=now)
    t = translator(operator.language)
    rates = [
        ("cure_rate", kpis.cure),
        ("promise_kept_rate", kpis.promise_kept),
        ("rpc_rate", kpis.right_party_contact),
    ]
    drawn = {
        "stage": charts.bar_chart(
            "stage", [(t(stage), float(n)) for stage, n in kpis.by_stage.items()]
        ),
        "bucket": charts.bar_chart(
            "bucket", [(bucket, float(n)) for bucket, n in kpis.by_bucket.items()]
        ),
        "roll": charts.bar_chart(
            "roll",
            [(f"{r.bucket} →", r.rolled.value or 0.0) for r in kpis.roll_rates],
            shown=[_rate_text(r.rolled.numerator, r.rolled.denominator) for r in kpis.roll_rates],
            maximum=1.0,
        ),
        "rates": charts.bar_chart(
            "rates",
            [(t(name), rate.value or 0.0) for name, rate in rates],
            shown=[_rate_text(rate.numerator, rate.denominator) for _, rate in rates],
            maximum=1.0,
        ),
        "refusals": charts.bar_chart(
            "refusals", [(t(reason, "refusal"), float(n)) for reason, n in kpis.refusals.items()]
        ),
    }
    return render(
        request,
        "dashboard.html",
        operator,
        kpis=kpis,
        charts=drawn,
        window=days,
        delinquent=[b.value for b in DELINQUENT],
        stage_names=[s.value for s in Stage],
        complaints=complaints,
        performance=await _performance(db, operator, (since, until), days, team, now)
        if operator.may(COLLECTORS)
        else None,
    )


def _rate_text(numerator: int, denominator: int) -> str:
    if not denominator:
        return "–"
    return f"{numerator / denominator:.0%} ({numerator}/{denominator})"


async def _performance(
    db: Database,
    operator: Operator,
    asked: tuple[str, str],
    days: int,
    team: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The performance section: over [since, until) when asked (dates), else the window's
    days to the end of today."""
    supervisor = Role.SUPERVISOR in operator.roles
    if supervisor and team is None and (row := await staff.find(db, operator.staff)):
        team = row.team
    shown: dict[str, Any] = {"supervisor": supervisor, "team": team or "", "asked": asked}
    try:
        since, until = performance.window(*(a.strip() or None for a in asked), now=now, days=days)
    except performance.WindowError as error:
        return {**shown, "error": str(error)}
    report = await performance.report(
        db, since=since, until=until, person=operator.person, team=team
    )
    trends = report.trends
    per_day = _collected(trends.collected_per_day)
    cure = charts.column_chart(
        "cure_trend",
        [(f"{m.month:%Y-%m}", m.cure.value or 0.0) for m in trends.cure_trend],
        shown=[_rate_text(m.cure.numerator, m.cure.denominator) for m in trends.cure_trend],
        maximum=1.0,
    )
    cure = charts.column_chart(
        "cure_trend",
        [(f"{m.month:%Y-%m}", m.cure.value or 0.0) for m in trends.cure_trend],
        shown=[_rate_text(m.cure.numerator, m.cure.denominator) for m in trends.cure_trend],
        maximum=1.0,
    )
    last = trends.roll_matrices[-1]
    ends = list(next(iter(last.cases.values())))
    matrix = [
        (before, [(n, last.share(before, after).value or 0.0) for after, n in row.items()])
        for before, row in last.cases.items()
    ]
    return {
        **shown,
        "report": report,
        "rows": performance.figure_rows(report),
        "per_day": per_day,
        "cure": cure,
        "roll": {"month": last, "ends": ends, "rows": matrix},
        "recovery": {
            cur: (
                money(r.numerator, cur),
                money(r.denominator, cur),
                "–" if r.value is None else f"{r.value:.1%}",
            )
            for cur, r in trends.recovery.items()
        },
    }


FOLD_AFTER = 92  # days: a longer window is drawn by month


def _collected(per_day: list[DayCollected]) -> dict[str, Markup]:
    """A column chart per currency (never summed across): by day, or by month when long."""
    series: dict[str, Counter[str]] = {}
    for d in per_day:
        key = f"{d.day:%Y-%m}" if len(per_day) > FOLD_AFTER else f"{d.day:%m-%d}"
        series.setdefault(key, Counter()).update(d.collected)
    currencies = sorted({cur for paid in series.values() for cur in paid})
    return {
        cur: charts.column_chart(
            f"collected_{cur}",
            [(key, float(paid[cur])) for key, paid in series.items()],
            shown=[money(paid[cur], cur) for paid in series.values()],
        )
        for cur in currencies
    }
