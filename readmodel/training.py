"""What one person recorded on the cases of a training read model (`collections training`):
per account, the first task they completed on it and the first promise they obtained.

The same question answers both sides of a comparison: asked of a senior's training read model
it gives the reference answers, asked of a trainee's it gives what the trainee did. A task's
person is its assignee once done (completing a task names the collector); a promise's is
`made_by`. Nothing personal is read: account numbers, kinds, outcomes and amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from readmodel.engine import Database
from readmodel.tables import CaseRow, HumanTaskRow, PromiseRecordRow

DONE = "done"


@dataclass(frozen=True)
class CaseAnswer:
    """One person's outcome on one synthetic case; None where they recorded nothing."""

    account_no: str
    task_kind: str | None = None
    outcome: str | None = None
    right_party: bool | None = None
    promised_amount_minor: int | None = None
    currency: str | None = None
    promised_date: date | None = None
    promise_in_days: int | None = None  # from the day it was made: comparable across runs


async def recorded_answers(db: Database, *, by: str) -> list[CaseAnswer]:
    """`by`'s answer for every case they completed a task on or obtained a promise on, by
    account number."""
    async with db.session() as session:
        tasks = (
            await session.exec(
                select(CaseRow.account_no, HumanTaskRow)
                .join(CaseRow, col(CaseRow.case_id) == col(HumanTaskRow.case_id))
                .where(col(HumanTaskRow.assignee) == by, col(HumanTaskRow.status) == DONE)
                .order_by(col(HumanTaskRow.closed_at), col(HumanTaskRow.id))
            )
        ).all()
        promises = (
            await session.exec(
                select(CaseRow.account_no, PromiseRecordRow)
                .join(CaseRow, col(CaseRow.case_id) == col(PromiseRecordRow.case_id))
                .where(col(PromiseRecordRow.made_by) == by)
                .order_by(col(PromiseRecordRow.made_at), col(PromiseRecordRow.id))
            )
        ).all()
    first_task: dict[str, HumanTaskRow] = {}
    for account_no, task in tasks:
        first_task.setdefault(account_no, task)
    first_promise: dict[str, PromiseRecordRow] = {}
    for account_no, promise in promises:
        first_promise.setdefault(account_no, promise)
    return [
        _answer(account_no, first_task.get(account_no), first_promise.get(account_no))
        for account_no in sorted(first_task.keys() | first_promise.keys())
    ]


def _answer(
    account_no: str, task: HumanTaskRow | None, promise: PromiseRecordRow | None
) -> CaseAnswer:
    return CaseAnswer(
        account_no=account_no,
        task_kind=task.kind if task else None,
        outcome=task.outcome if task else None,
        right_party=task.right_party if task else None,
        promised_amount_minor=promise.amount_minor if promise else None,
        currency=promise.currency if promise else None,
        promised_date=promise.promised_date if promise else None,
        promise_in_days=(promise.promised_date - promise.made_at.date()).days if promise else None,
    )
