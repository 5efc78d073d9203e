"""Personal data sealed at rest in the read model, on SQLite and PostgreSQL: what is stored is
ciphertext, what is read is the value; a phone number is found by its blind index; keys
rotate (old keys still open, `reseal` moves everything to the newest, then the old can go);
rows written in clear before sealing are read as they are and sealed by `reseal`; and without
keys nothing personal is written at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Text, text, type_coerce
from sqlmodel import select

from models.case_events import Paused, fields_of
from models.case_writes import (
    AuditEntry,
    CaseWrite,
)
from readmodel import sealing, writes
from readmodel.engine import Database
from readmodel.queries import open_cases_for_mobile
from readmodel.reseal import reseal
from readmodel.tables import AuditLogRow, CustomerRow
from tests.readmodel.test_writes import CASE_ID, OPENED, snapshot

KEY_A = ("a", bytes(range(32)))
KEY_B = ("b", bytes(range(1, 33)))
NAME, MOBILE = "欧阳明珠", "+8613912345671"


@pytest.fixture(autouse=True)
def keys() -> Iterator[None]:
    """Each test chooses its keys; the suite's own come back after it."""
    before = sealing.current()
    sealing.configure(sealing.DataKeys([KEY_A]))
    yield
    sealing.configure(before)


def use(*keys: tuple[str, bytes]) -> None:
    sealing.configure(sealing.DataKeys(list(keys)))


async def open_case(db: Database) -> None:
    opened = replace(OPENED, customer_name=NAME, contact=replace(OPENED.contact, mobile=MOBILE))
    paused = Paused(f"{NAME} asked")
    entry = AuditEntry(
        case_id=CASE_ID,
        seq=1,
        at=snapshot().updated_at,
        kind=paused.KIND,
        detail=paused.detail(),
        data=fields_of(paused),
    )
    await writes.write_case(db, write=CaseWrite(snapshot=snapshot(), audit=(entry,), opened=opened))


async def raw(db: Database) -> tuple[str, str, str, str]:
    """The customer's name and mobile and the audit entry's detail and fields as stored."""
    async with db.session() as session:
        name, mobile = (
            await session.exec(
                select(type_coerce(CustomerRow.name, Text), type_coerce(CustomerRow.mobile, Text))
            )
        ).one()
        [(detail, data)] = (
            await session.exec(
                select(type_coerce(AuditLogRow.detail, Text), type_coerce(AuditLogRow.data, Text))
            )
        ).all()
    return name, mobile, detail, data


async def customer(db: Database) -> CustomerRow:
    async with db.session() as session:
        return (await session.exec(select(CustomerRow))).one()


async def test_stored_sealed_read_in_clear_and_found_by_number(database: Database) -> None:
    await open_case(database)
    stored = await raw(database)
    assert all(value.startswith("sealed1:a:") for value in stored)
    assert not any(NAME in value or MOBILE[1:] in value for value in stored)
    row = await customer(database)
    assert (row.name, row.mobile) == (NAME, MOBILE)
    assert await open_cases_for_mobile(database, mobile=MOBILE) == [CASE_ID]
    assert await open_cases_for_mobile(database, mobile="+8613912345670") == []


def test_a_value_moved_to_another_column_does_not_open() -> None:
    keys = sealing.current()
    sealed = keys.seal(MOBILE, "customers.mobile")
    assert keys.open(sealed, "customers.mobile") == MOBILE
    with pytest.raises(sealing.SealError, match=r"customers\.name"):
        keys.open(sealed, "customers.name")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(sealing.SealError, match="does not open"):
        keys.open(tampered, "customers.mobile")


async def test_rotation_reseals_under_the_newest_key_and_the_old_can_go(
    database: Database,
) -> None:
    await open_case(database)
    use(KEY_A, KEY_B)  # b added: it seals from now on; a still opens
    assert (await customer(database)).mobile == MOBILE
    assert await open_cases_for_mobile(database, mobile=MOBILE) == [CASE_ID]

    done = await reseal(database)
    assert done.values["customers.name"] == done.values["customers.mobile"] == 1
    assert done.values["audit_log.detail"] == done.values["audit_log.data"] == 1
    assert done.indexes == 1
    assert all(value.startswith("sealed1:b:") for value in await raw(database))
    assert (await reseal(database)).total == 0  # nothing left to do

    use(KEY_B)  # a retired
    assert (await customer(database)).name == NAME
    assert await open_cases_for_mobile(database, mobile=MOBILE) == [CASE_ID]
    use(KEY_A)  # b lost: the data does not open, and the error names the key
    with pytest.raises(sealing.SealError, match="key id 'b'"):
        await customer(database)


async def test_rows_written_in_clear_before_sealing_are_read_and_then_sealed(
    database: Database,
) -> None:
    async with database.session() as session:
        await session.exec(  # type: ignore[call-overload]
            text(
                "INSERT INTO customers (customer_ref, name, language, time_zone, mobile, "
                "updated_at) VALUES ('C-OLD', :name, 'zh-CN', 'Asia/Shanghai', :mobile, "
                "CURRENT_TIMESTAMP)"
            ),
            params={"name": NAME, "mobile": MOBILE},
        )
    row = await customer(database)
    assert (row.name, row.mobile, row.mobile_index) == (NAME, MOBILE, None)
    done = await reseal(database)
    assert done.values["customers.mobile"] == 1 and done.indexes == 1
    name, mobile, *_ = [*(await raw_customer(database))]
    assert name.startswith("sealed1:") and mobile.startswith("sealed1:")
    assert (await customer(database)).mobile_index == sealing.current().index(MOBILE)


async def raw_customer(db: Database) -> tuple[str, str]:
    async with db.session() as session:
        found = await session.exec(
            select(type_coerce(CustomerRow.name, Text), type_coerce(CustomerRow.mobile, Text))
        )
        name, mobile = found.one()
        return name, mobile


async def test_without_keys_nothing_personal_is_written(database: Database) -> None:
    sealing.configure(None)
    with pytest.raises(sealing.MissingDataKeys, match="never written in clear"):
        await open_case(database)
    use(KEY_A)
    async with database.session() as session:
        assert (await session.exec(select(CustomerRow))).all() == []
