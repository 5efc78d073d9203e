"""What a case records: its search attributes and its read-model write (`_flush`), after each
change, in the workflow task that made it.

The patches that changed what a case records live here; `tests/histories/before-*` keep
histories from before each, and they replay.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_writes import CaseSnapshot, CaseWrite
    from models.contracts import CaseInput
    from models.visibility import (
        BALANCE_BAND,
        CASE_STAGE,
        DAYS_PAST_DUE,
        OLDEST_DUE_DATE,
        SEGMENT,
        balance_band,
    )
    from workflows import case_rules as rules
    from workflows.case_base import CaseBase, store
    from workflows.changes import CHEAPER_CASE, LOCAL_WRITES


class CaseRecords(CaseBase):
    def __init__(self, input: CaseInput) -> None:
        super().__init__(input)
        self._quiet = False  # this run is past QUIET_CASE: set by `run`, read by queries too
        # The search attributes the last quiet flush wrote: (stage, origin, segment, band).
        self._indexed: tuple[str, datetime, str, str] | None = None

    async def _flush(self) -> None:
        """Writes what changed to the read model: the case row, the audit log, new rows."""
        state = self._live()
        now = workflow.now()
        dpd = rules.days_past_due(state, now)  # the row's figure as of `now`; readers count on
        origin = rules.due_origin(state)
        pending = bool(
            self._audit
            or self._payments
            or self._promises
            or self._tasks_out
            or self._complaints_out
            or self._contact_change
        )
        if self._quiet:
            if not self._index_quiet(origin) and not pending:
                return
        elif not self._index_daily(dpd, bool(pending)):
            return
        opening, self._opened = self._opened, False
        answering, self._answering = self._answering, False
        # No server dispatch and no second workflow task for a local write: the first reminder
        # is scheduled in the task that assessed the case, and a wake is one task.
        # A write that would hold back an update's answer stays an activity.
        local = (opening and self._changes.taken(CHEAPER_CASE)) or (
            not answering and self._changes.taken(LOCAL_WRITES)
        )
        write = CaseWrite(
            snapshot=CaseSnapshot(
                case_id=self._id,
                account_no=self._input.account.account_no,
                customer_ref=self._input.customer_ref,
                stage=state.stage,
                segment=state.assessment.segment,
                score=state.assessment.score,
                strategy_version=self._strategy_label(),
                days_past_due=dpd,
                currency=self._input.account.currency,
                outstanding_minor=state.outstanding_minor,
                overdue_minor=state.overdue_minor,
                closed_reason=state.closed_reason,
                updated_at=now,
                due_origin=origin,
                day_seconds=state.assessment.strategy.day_seconds,
            ),
            audit=tuple(self._audit),
            payments=tuple(self._payments),
            promises=tuple(self._promises),
            opened=self._input if opening else None,
            tasks=tuple(self._tasks_out),
            complaints=tuple(self._complaints_out),
            contact=self._contact_change,
            receipt=local,
        )
        self._audit, self._payments, self._promises, self._tasks_out = [], [], [], []
        self._complaints_out, self._contact_change = [], None
        await store("write_case", write, local=local)

    def _index_quiet(self, origin: datetime) -> bool:
        """Upserts the search attributes when one of them changed (the origin is set once);
        whether they did."""
        state = self._live()
        stage, segment = str(state.stage), str(state.assessment.segment)
        band = balance_band(state.outstanding_minor)
        indexed = (stage, origin, segment, band)
        if indexed == self._indexed:
            return False
        self._indexed = indexed
        workflow.upsert_search_attributes(
            [
                CASE_STAGE.value_set(stage),
                OLDEST_DUE_DATE.value_set(origin),
                SEGMENT.value_set(segment),
                BALANCE_BAND.value_set(band),
            ]
        )
        return True

    def _index_daily(self, dpd: int, pending: bool) -> bool:
        """Before QUIET_CASE: days past due are a search attribute rewritten when the day
        changes, and the read model's row with them; whether the flush writes."""
        state = self._live()
        # Every flush leaves the attributes it wrote in `_upserted`, days past due among them.
        if not pending and self._upserted is not None and dpd == self._upserted[1]:
            return False
        stage, segment = str(state.stage), str(state.assessment.segment)
        band = balance_band(state.outstanding_minor)
        attributes = (stage, dpd, segment, band)
        # An unchanged upsert is an event and a visibility write for nothing: an operator's
        # payment usually changes no search attribute, and its answer waited for one.
        if attributes != self._upserted or not self._changes.taken(CHEAPER_CASE):
            self._upserted = attributes
            workflow.upsert_search_attributes(
                [
                    CASE_STAGE.value_set(stage),
                    DAYS_PAST_DUE.value_set(dpd),
                    SEGMENT.value_set(segment),
                    BALANCE_BAND.value_set(band),
                ]
            )
        return True
