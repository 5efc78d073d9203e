"""The allocation run's activity: `operations.allocation.allocate_open_tasks` through the
worker's own Temporal client, acting as the service `svc-allocator`."""

from __future__ import annotations

import logging

from temporalio import activity

from models.allocation import ALLOCATE_OPEN_TASKS, AllocationRun
from operations import allocation
from operations.gateway import Gateway
from readmodel.engine import Database

log = logging.getLogger(__name__)


class AllocationActivities:
    def __init__(self, gateway: Gateway, db: Database) -> None:
        self._gateway = gateway
        self._db = db

    @activity.defn(name=ALLOCATE_OPEN_TASKS)
    async def allocate_open_tasks(self) -> AllocationRun:
        report = await allocation.allocate_open_tasks(self._gateway, self._db)
        if report.placed or report.refused:
            log.info("%s", report.message)  # counts only: no case, no person
        return AllocationRun(
            placed=len(report.placed), unplaced=len(report.unplaced), refused=len(report.refused)
        )
