"""The center's KPIs over a window of days, drawn as bar charts (no script on the page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console import charts
from api.console.i18n import translator
from api.console.pages import PAGES, forbidden, render, signed_in
from api.deps import DatabaseDep, SettingsDep
from models.contracts import Stage
from readmodel import queries
from readmodel.complaints import complaint_counts
from readmodel.kpis import DELINQUENT

router = APIRouter()


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, settings: SettingsDep, db: DatabaseDep, window: int = 30
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
    )


def _rate_text(numerator: int, denominator: int) -> str:
    if not denominator:
        return "–"
    return f"{numerator / denominator:.0%} ({numerator}/{denominator})"
