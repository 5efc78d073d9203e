"""Contracts of the allocation run: a Temporal Schedule starts it every few minutes so that new
tasks get a collector without anyone acting (`workflows.allocation`, `activities.allocation`,
`operations.allocation` for the rule). Counts only cross Temporal: never a task's case."""

from __future__ import annotations

from dataclasses import dataclass

ALLOCATION_WORKFLOW = "Allocation"  # the workflow type a schedule starts by name
ALLOCATION_SCHEDULE = "collections-allocation"  # the Temporal Schedule that starts it
ALLOCATE_OPEN_TASKS = "allocate_open_tasks"


@dataclass(frozen=True)
class AllocationRun:
    """What one run did: tasks put in a collector's queue, tasks nobody could take (no one
    speaks the language, works the product, or has room), placements a case refused."""

    placed: int = 0
    unplaced: int = 0
    refused: int = 0
