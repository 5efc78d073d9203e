"""Contracts of the allocation run: a Temporal Schedule starts it every few minutes so that new
tasks get a collector without anyone acting (`workflows.allocation`,
`operations.activities.allocation`, `operations.allocation` for the rule), and a task as the
allocator sees it (`OpenTask`, read by `readmodel.workload`). Counts only cross Temporal:
never a task's case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.people import Role

ALLOCATION_WORKFLOW = "Allocation"  # the workflow type a schedule starts by name
ALLOCATION_SCHEDULE = "collections-allocation"  # the Temporal Schedule that starts it
ALLOCATE_OPEN_TASKS = "allocate_open_tasks"
QUEUE = Role.OPERATIONS.value  # the collectors' queue; a supervisor's task is named by hand


@dataclass(frozen=True)
class AllocationRun:
    """What one run did: tasks put in a collector's queue, tasks nobody could take (no one
    speaks the language, works the product, or has room), placements a case refused."""

    placed: int = 0
    unplaced: int = 0
    refused: int = 0


@dataclass(frozen=True)
class OpenTask:
    """A task to place, with what decides who may take it and how urgent it is."""

    task_key: str
    language: str  # the customer's (`zh-CN`, `en`)
    product: str  # the account's (`card`, `personal_loan`)
    deadline: datetime
    outstanding_minor: int = 0
    days_past_due: int = 0
    queue: str = QUEUE
