"""The center's KPIs as JSON (the console's dashboard draws the same numbers)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.auth import require_roles
from api.deps import DatabaseDep
from operations.roles import Role
from readmodel.queries import center_kpis

router = APIRouter(tags=["kpis"], dependencies=[Depends(require_roles(*Role))])


@router.get("/kpis")
async def read_kpis(
    db: DatabaseDep, window_days: Annotated[int, Query(ge=1, le=3660)] = 30
) -> dict[str, Any]:
    """Cases by stage and bucket, roll rates, cure, promise-kept and right-party-contact rates
    (each with its numerator and denominator), and contacts refused by the contact policy by
    reason, over the last `window_days`. Counts only: no personal data."""
    kpis = await center_kpis(db, now=datetime.now(UTC), window=timedelta(days=window_days))
    return dataclasses.asdict(kpis)
