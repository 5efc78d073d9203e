"""What a case records: its search attributes and its read-model write (`flush`), after each
change, in the workflow task that made it. `CaseRecords` is held by the case's shell, which
adds to what the next flush writes as it records events, payments, promises, tasks,
complaints and the customer's contact details.

The patches that changed what a case records live here; `tests/histories/before-*` keep
histories from before each, and they replay.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case_writes import AuditEntry, CaseSnapshot, CaseWrite, PaymentRow, PromiseRow
    from models.complaints import ComplaintRow
    from models.contact_details import ContactChange
    from models.contracts import CaseInput, CaseState
    from models.tasks import TaskRecord
    from models.visibility import (
        BALANCE_BAND,
        CASE_STAGE,
        DAYS_PAST_DUE,
        OLDEST_DUE_DATE,
        SEGMENT,
        balance_band,
    )
    from workflows import case_rules as rules
    from workflows.case_base import store
    from workflows.changes import CHEAPER_CASE, LOCAL_WRITES, Changes


def strategy_label(state: CaseState) -> str:
    strategy = state.assessment.strategy
    return f"{strategy.name}@{strategy.version}"


class CaseRecords:
    """What the next flush writes to the read model, and what the last one indexed."""

    def __init__(self, input: CaseInput, case_id: str, changes: Changes) -> None:
        self._input = input
        self._id = case_id
        self._changes = changes
        self.audit: list[AuditEntry] = []
        self.payments: list[PaymentRow] = []
        self.promises: list[PromiseRow] = []
        self.tasks: list[TaskRecord] = []
        self.complaints: list[ComplaintRow] = []
        self.contact: ContactChange | None = None  # the customer row's, at the next flush
        self._opened = input.carried is None
        # An update's answer leaves with the workflow task its handler ran in; a local activity
        # in that task would hold the answer back until the database had answered too.
        self.answering = False
        # The search attributes the last flush wrote: (stage, days past due, segment, band).
        self._upserted: tuple[str, int, str, str] | None = None
        # The search attributes the last quiet flush wrote: (stage, origin, segment, band).
        self._indexed: tuple[str, datetime, str, str] | None = None

    def _pending(self) -> bool:
        return bool(
            self.audit
            or self.payments
            or self.promises
            or self.tasks
            or self.complaints
            or self.contact
        )

    async def flush(self, state: CaseState, *, quiet: bool) -> None:
        """Writes what changed to the read model: the case row, the audit log, new rows.
        `quiet`: this run is past QUIET_CASE."""
        now = workflow.now()
        dpd = rules.days_past_due(state, now)  # the row's figure as of `now`; readers count on
        origin = rules.due_origin(state)
        pending = self._pending()
        if quiet:
            if not self._index_quiet(state, origin) and not pending:
                return
        elif not self._index_daily(state, dpd, pending):
            return
        opening, self._opened = self._opened, False
        answering, self.answering = self.answering, False
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
                strategy_version=strategy_label(state),
                days_past_due=dpd,
                currency=self._input.account.currency,
                outstanding_minor=state.outstanding_minor,
                overdue_minor=state.overdue_minor,
                closed_reason=state.closed_reason,
                updated_at=now,
                due_origin=origin,
                day_seconds=state.assessment.strategy.day_seconds,
            ),
            audit=tuple(self.audit),
            payments=tuple(self.payments),
            promises=tuple(self.promises),
            opened=self._input if opening else None,
            tasks=tuple(self.tasks),
            complaints=tuple(self.complaints),
            contact=self.contact,
            receipt=local,
        )
        self.audit, self.payments, self.promises, self.tasks = [], [], [], []
        self.complaints, self.contact = [], None
        await store("write_case", write, local=local)

    def _index_quiet(self, state: CaseState, origin: datetime) -> bool:
        """Upserts the search attributes when one of them changed (the origin is set once);
        whether they did."""
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

    def _index_daily(self, state: CaseState, dpd: int, pending: bool) -> bool:
        """Before QUIET_CASE: days past due are a search attribute rewritten when the day
        changes, and the read model's row with them; whether the flush writes."""
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
