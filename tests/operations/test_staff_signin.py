"""The staff directory and signing in, on SQLite and PostgreSQL: passwords, the lockout and the
address limit, sessions' idle and absolute ends, tokens, and what disabling a person ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from operations import signin, staff
from operations.roles import Role
from readmodel.engine import Database
from readmodel.tables import StaffRow
from tests.staffing import PASSWORD, add_person

ADDRESS = "10.0.0.7"


async def sign_in(db: Database, person: str, password: str, **kwargs: object) -> object:
    return await signin.check_password_sign_in(
        db, person, password, address=str(kwargs.get("address", ADDRESS))
    )


async def test_a_new_person_has_a_one_time_password_that_must_be_changed(
    database: Database,
) -> None:
    one_time = await staff.add(database, "ann.li", name="Ann Li", roles=["collector"])
    person = await signin.check_password_sign_in(database, "ann.li", one_time, address=ADDRESS)
    assert person is not None and person.must_change_password
    assert person.roles == {Role.OPERATIONS}  # "collector" is the operations role
    await staff.change_password(database, "ann.li", one_time, PASSWORD)
    again = await signin.check_password_sign_in(database, "ann.li", PASSWORD, address=ADDRESS)
    assert again is not None and not again.must_change_password
    assert await sign_in(database, "ann.li", one_time) is None


async def test_passwords_are_stored_as_argon2_hashes_only(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    async with database.session() as session:
        row = (await session.exec(select(StaffRow))).one()
    assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


@pytest.mark.parametrize(
    ("person_id", "roles", "says"),
    [
        ("Ann Li", ["collector"], "lower-case letters"),
        ("ann.li", [], "at least one role"),
        ("ann.li", ["boss"], "unknown role 'boss'"),
    ],
)
async def test_a_bad_entry_is_refused_saying_what(
    database: Database, person_id: str, roles: list[str], says: str
) -> None:
    with pytest.raises(staff.StaffError, match=says):
        await staff.add(database, person_id, name="Ann", roles=roles)
    assert await staff.directory(database) == []


async def test_a_short_or_unchanged_password_is_refused(database: Database) -> None:
    one_time = await staff.add(database, "ann.li", name="Ann Li", roles=["collector"])
    with pytest.raises(staff.StaffError, match="at least 12"):
        await staff.change_password(database, "ann.li", one_time, "short")
    with pytest.raises(staff.StaffError, match="differ"):
        await staff.change_password(database, "ann.li", one_time, one_time)
    with pytest.raises(staff.StaffError, match="current password is wrong"):
        await staff.change_password(database, "ann.li", "not it at all", PASSWORD)


async def test_five_failures_lock_the_account_even_for_the_right_password(
    database: Database,
) -> None:
    await add_person(database, "ann.li", ["collector"])
    for _ in range(signin.LOCKOUT_AFTER):
        assert await sign_in(database, "ann.li", "wrong password!") is None
    assert await sign_in(database, "ann.li", PASSWORD) is None
    assert await sign_in(database, "ann.li", PASSWORD, address="10.0.0.8") is None
    # The window passes: the lock lifts.
    later = datetime.now(UTC) + timedelta(minutes=signin.LOCKOUT_MINUTES, seconds=1)
    person = await signin.check_password_sign_in(
        database, "ann.li", PASSWORD, address=ADDRESS, now=later
    )
    assert person is not None and person.id == "ann.li"


async def test_an_unknown_account_locks_alike_so_nothing_tells_it_apart(
    database: Database,
) -> None:
    for _ in range(signin.LOCKOUT_AFTER):
        assert await sign_in(database, "nobody", "wrong password!") is None
    assert (
        await signin._failures(  # the same count an existing account would have
            database, "person:nobody", datetime.now(UTC) - timedelta(minutes=1)
        )
        == signin.LOCKOUT_AFTER
    )


async def test_one_address_failing_too_often_is_told_to_wait(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    for n in range(signin.ADDRESS_LIMIT):
        assert await sign_in(database, f"guess{n}", "wrong password!") is None
    with pytest.raises(signin.TooManyAttempts):
        await sign_in(database, "ann.li", PASSWORD)
    assert await sign_in(database, "ann.li", PASSWORD, address="10.0.0.9") is not None


async def test_a_session_ends_idle_after_30_minutes_and_at_12_hours(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    person = await staff.active_person(database, "ann.li")
    assert person is not None
    start = datetime.now(UTC)
    idle = await signin.open_session(database, person, now=start)
    assert await signin.session_person(database, idle, now=start + timedelta(minutes=29))
    late = start + timedelta(minutes=29 + signin.IDLE_MINUTES + 1)
    assert await signin.session_person(database, idle, now=late) is None

    busy = await signin.open_session(database, person, now=start)
    at = start
    while at < start + timedelta(hours=signin.ABSOLUTE_HOURS - 1):  # kept busy all day
        at += timedelta(minutes=20)
        assert await signin.session_person(database, busy, now=at) is not None
    past = start + timedelta(hours=signin.ABSOLUTE_HOURS, minutes=1)
    assert await signin.session_person(database, busy, now=past) is None


async def test_sign_out_ends_the_session(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    person = await staff.active_person(database, "ann.li")
    assert person is not None
    session_id = await signin.open_session(database, person)
    await signin.close_session(database, session_id)
    assert await signin.session_person(database, session_id) is None
    assert await signin.session_person(database, "forged") is None


async def test_disabling_a_person_ends_their_sessions_and_tokens_at_once(
    database: Database,
) -> None:
    token = await add_person(database, "ann.li", ["collector"])
    person = await staff.active_person(database, "ann.li")
    assert person is not None
    session_id = await signin.open_session(database, person)
    assert await signin.token_person(database, token) is not None
    await staff.set_active(database, "ann.li", False)
    assert await signin.session_person(database, session_id) is None
    assert await signin.token_person(database, token) is None
    assert await sign_in(database, "ann.li", PASSWORD) is None
    await staff.set_active(database, "ann.li", True)  # back: a new sign-in, the token stays dead
    assert await sign_in(database, "ann.li", PASSWORD) is not None
    assert await signin.token_person(database, token) is None


async def test_a_token_expires_can_be_revoked_and_cannot_be_guessed(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    issued = await signin.issue_token(database, "ann.li", "my script", days=1)
    assert (await signin.token_person(database, issued.token)) is not None
    tomorrow = datetime.now(UTC) + timedelta(days=1, seconds=1)
    assert await signin.token_person(database, issued.token, now=tomorrow) is None
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    assert await signin.token_person(database, forged) is None
    assert await signin.revoke_token(database, issued.token_id, owner="someone.else") is False
    assert await signin.revoke_token(database, issued.token_id, owner="ann.li") is True
    assert await signin.token_person(database, issued.token) is None


async def test_changing_roles_ends_sessions_so_the_new_roles_apply(database: Database) -> None:
    await add_person(database, "ann.li", ["collector"])
    person = await staff.active_person(database, "ann.li")
    assert person is not None
    session_id = await signin.open_session(database, person)
    assert await staff.set_roles(database, "ann.li", ["supervisor", "collector"]) == {
        Role.SUPERVISOR,
        Role.OPERATIONS,
    }
    assert await signin.session_person(database, session_id) is None


async def test_a_service_account_signs_in_by_token_only(database: Database) -> None:
    assert (
        await staff.add(
            database, "svc-intake", name="Daily intake", roles=["collector"], kind="service"
        )
        == ""
    )
    issued = await signin.issue_token(database, "svc-intake", "daily file")
    person = await signin.token_person(database, issued.token)
    assert person is not None and person.kind == "service"
    assert await sign_in(database, "svc-intake", "") is None
    with pytest.raises(staff.StaffError, match="service account"):
        await staff.reset_password(database, "svc-intake")


async def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(
    database: Database,
) -> None:
    await add_person(database, "ada.admin", ["admin"])
    with pytest.raises(staff.StaffError, match="last active admin"):
        await staff.set_active(database, "ada.admin", False)
    with pytest.raises(staff.StaffError, match="last active admin"):
        await staff.set_roles(database, "ada.admin", ["supervisor"])
    assert await staff.has_admin(database)
    await add_person(database, "bo.admin", ["admin"])
    await staff.set_active(database, "ada.admin", False)  # another admin remains
    assert await staff.has_admin(database)
