"""`GET /metrics`: the API's Prometheus metrics, in the text format (`operations.metrics`).

No sign-in: a Prometheus server scrapes with no session. What it serves is aggregate counts
and latencies with bounded labels (stages, queues, update names, outcomes), never a case, an
account number or a person; keep it off the public internet like any metrics endpoint.
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import DatabaseDep
from operations import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def read_metrics(request: Request, db: DatabaseDep) -> Response:
    """Open cases by stage, open and overdue tasks by queue, pending approvals (from the read
    model, at most a few seconds old), the gateway's update and query latencies, intake rows."""
    gauges = cast(metrics.BacklogGauges, request.app.state.backlog)
    return Response(await metrics.exposition(gauges, db), media_type=CONTENT_TYPE_LATEST)
