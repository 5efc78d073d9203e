"""The case store's activities are thin wrappers: each writes through `readmodel.writes`
under the name recorded histories know it by (the writes are tested in tests/readmodel)."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStoreActivities
from models.case_writes import (
    CaseWrite,
    WriteReceipt,
)
from models.departments import HandoffWrite
from readmodel.engine import Database
from readmodel.queries import get_case, get_handoff, list_attempts
from tests.readmodel.test_writes import (
    ACCOUNT,
    CASE_ID,
    OPENED,
    OPENED_AT,
    audit,
    refusal,
    snapshot,
)


def test_the_activity_names_stay_as_recorded() -> None:
    store = CaseStoreActivities.__dict__
    names = {
        name: getattr(store[name], "__temporal_activity_definition").name
        for name in ("write_case", "write_handoff", "record_refused_attempt")
    }
    assert names == {
        "write_case": "write_case",
        "write_handoff": "write_handoff",
        "record_refused_attempt": "record_refused_attempt",
    }


async def test_each_activity_writes_its_rows(database: Database) -> None:
    store = CaseStoreActivities(database)
    env = ActivityEnvironment()
    write = CaseWrite(snapshot=snapshot(), audit=(audit(1),), opened=OPENED, receipt=True)

    receipt = await env.run(store.write_case, write)
    await env.run(store.record_refused_attempt, refusal())
    await env.run(
        store.write_handoff,
        HandoffWrite(
            key="risk-1",
            case_id=CASE_ID,
            department="risk",
            status="pending",
            reason="hardship",
            at=OPENED_AT,
        ),
    )

    assert receipt == WriteReceipt(audit=write.audit)
    assert await get_case(database, account_no=ACCOUNT.account_no) is not None
    assert [a.idempotency_key for a in await list_attempts(database, case_id=CASE_ID)] == [
        f"{CASE_ID}/r1"
    ]
    handoff = await get_handoff(database, key="risk-1")
    assert handoff is not None and handoff.status == "pending"
