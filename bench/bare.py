"""The bare engine: the nearest equivalent of a case's work with nothing of the project's own.

`BareEmpty` returns at once (what intake is measured against). `BareCase` does a case's business
steps and nothing else: one no-op activity per reminder at the ladder's offsets, then sleeps on
a timer; its `record_payment` update adds to a total and answers. No database, no codec, no
pydantic, the SDK's default sandbox and worker options.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

EMPTY = "BareEmpty"
CASE = "BareCase"
REMIND = "bare_remind"
UPDATE = "record_payment"
YEAR_S = 365 * 86_400


@dataclass(frozen=True)
class BareInput:
    reminder_offsets_s: tuple[int, ...] = (0,)  # seconds after the start, one activity each
    sleep_s: int = YEAR_S  # then sleeps this long on one timer


@dataclass(frozen=True)
class BarePayment:
    amount_minor: int
    payment_ref: str


@workflow.defn(name=EMPTY)
class BareEmpty:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name=CASE)
class BareCase:
    def __init__(self) -> None:
        self._paid = 0

    @workflow.run
    async def run(self, input: BareInput) -> int:
        start = workflow.now()
        for offset in input.reminder_offsets_s:
            wait = start + timedelta(seconds=offset) - workflow.now()
            if wait > timedelta(0):
                await workflow.sleep(wait)
            await workflow.execute_activity(REMIND, start_to_close_timeout=timedelta(seconds=60))
        await workflow.sleep(timedelta(seconds=input.sleep_s))
        return self._paid

    @workflow.update(name=UPDATE)
    async def record_payment(self, payment: BarePayment) -> int:
        self._paid += payment.amount_minor
        return self._paid


class Reminders:
    """The no-op reminder; `done` counts them, so a bench can see when they have run."""

    def __init__(self) -> None:
        self.done = 0

    @activity.defn(name=REMIND)
    async def remind(self) -> None:
        self.done += 1
