"""Assessment of a case started without one (before intake assessed the cases it starts).

The result is recorded in the case's history, so a case keeps the strategy it started with even
when the policy file changes later.
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from config.settings import TaskQueues
from config.strategy import Assessor, PolicyError
from models.contracts import AssessInput, Assessment


class AssessmentActivities:
    def __init__(self, default_policy: Path, queues: TaskQueues | None = None) -> None:
        self.assessor = Assessor(default_policy, queues or TaskQueues())

    @activity.defn(name="assess_case")
    async def assess_case(self, req: AssessInput) -> Assessment:
        try:
            return await self.assessor.assess(req.account, req.strategy_version, req.as_of)
        except PolicyError as exc:
            raise ApplicationError(str(exc), type="PolicyError", non_retryable=True) from None
