"""Contact details after intake, on the time-skipping server: a number found wrong stops every
text and call to it and plans a visit; the customer's new number is where the next reminder
goes, and the read model finds the customer by it; a number its country cannot have is
refused without being repeated back."""

from __future__ import annotations

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    ContactSource,
    WrongNumberInput,
)
from models.tasks import TaskKind
from readmodel.queries import open_cases_for_mobile
from readmodel.tables import CustomerRow
from tests.workflows.harness import CaseHarness
from workflows.case import CollectionCaseWorkflow as Case

OLD, NEW = "+8613800000001", "+8613912345678"


async def test_a_wrong_number_is_replaced_and_the_next_reminder_goes_to_the_new_one(
    harness: CaseHarness,
) -> None:
    handle = await harness.start(dpd=5, mobile=OLD)
    await harness.sleep_days(0.5)
    assert harness.texts_to(OLD), "the first reminder went to the intake's number"
    texts_before = len(harness.texts_to(OLD))

    wrong = await handle.execute_update(
        Case.mark_number_wrong, WrongNumberInput("a stranger answered")
    )
    assert wrong.accepted
    status = await handle.query(Case.status)
    assert [t.kind for t in status.open_tasks] == [TaskKind.FIELD_VISIT]
    await harness.sleep_days(6)  # past the ladder's day-5 step: nothing to a wrong number
    assert len(harness.texts_to(OLD)) == texts_before and not harness.calls_to(OLD)

    new = ChangeMobileInput(NEW, ContactSource.CUSTOMER, verified=True)
    assert (await handle.execute_update(Case.change_mobile, new)).accepted
    await harness.sleep_days(5)  # the day-10 step (a call in the default ladder) and after
    assert harness.calls_to(NEW) or harness.texts_to(NEW), "reminders reach the new number"
    assert len(harness.texts_to(OLD)) == texts_before and not harness.calls_to(OLD)

    timeline = await harness.timeline(handle)
    changed = [e for e in timeline if e.kind == "mobile_changed"]
    assert changed and NEW not in changed[0].detail  # the number is never in the timeline
    assert [e.kind for e in timeline].count("number_wrong") == 1

    address = ChangeAddressInput("上海市浦东新区世纪大道 100 号", ContactSource.COLLECTOR)
    await handle.execute_update(Case.change_address, address)
    await harness.sleep_days(0.1)  # the case writes the read model
    async with harness.db.session() as session:
        customer = (await session.exec(select(CustomerRow))).all()
    [row] = [c for c in customer if c.mobile == NEW]
    assert row.address == address.address
    assert await open_cases_for_mobile(harness.db, mobile=NEW) == [handle.id]
    assert await open_cases_for_mobile(harness.db, mobile=OLD) == []


@pytest.mark.parametrize(
    ("mobile", "why"),
    [
        ("13912345678", "mobile is not E.164"),
        ("+8612345678901", "not a number its country code can assign"),
    ],
)
async def test_a_number_that_cannot_be_called_is_refused_without_repeating_it(
    harness: CaseHarness, mobile: str, why: str
) -> None:
    # The reminders below go at once: in the customer's contact window, whenever the test runs.
    await harness.sleep_until_local(10)
    handle = await harness.start(mobile=OLD)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            Case.change_mobile, ChangeMobileInput(mobile, ContactSource.CUSTOMER)
        )
    message = str(refused.value.cause)
    assert why in message and mobile not in message
    await harness.sleep_days(0.2)
    assert harness.texts_to(OLD) and not harness.texts_to(mobile)
