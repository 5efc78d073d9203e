"""The staff directory: people and service accounts, their roles, and their local passwords.

Each person has an id (`ann.li`), a display name, one or more roles, a team, the languages
they work in, the products they work (none: every product) and their capacity, the most open
tasks the allocator gives them (`set_work`); a service account (`svc-intake`) is a named
machine caller that signs in only by API token. Passwords are hashed with argon2id
(`argon2-cffi`); a password set by an admin (or the first admin's, made by `up`) is one-time:
it must be changed at the next sign-in.
Disabling a person ends their sessions and revokes their tokens in the same transaction.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.people import Actor, Role, role_named
from readmodel.engine import Database
from readmodel.tables import ApiTokenRow, StaffRow, StaffSessionRow

PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# What the allocator reads of a collector (`operations.allocation`): the products they work
# (`card`, `personal_loan`: the bank's codes; none, every product), the languages they speak
# (`zh-CN`, `en`) and the most open tasks it gives them.
PRODUCT_CODE = re.compile(r"^\w+$")
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
DEFAULT_CAPACITY, MAX_CAPACITY = 40, 500
MAX_TEAM = 64
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# A hash to verify against when no such person exists, so that an unknown id costs the same
# time as a wrong password (no hint whether the account exists).
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A request about the directory that cannot be done; the message says what, never a
    password."""


@dataclass(frozen=True)
class Person:
    """Someone signed in, or a service account calling with its token."""

    id: str
    name: str
    roles: frozenset[Role]
    kind: str = "person"
    must_change_password: bool = False

    def actor(self, via: str, *, approved_by: str = "") -> Actor:
        return Actor(self.id, via=via, roles=tuple(sorted(self.roles)), approved_by=approved_by)

    def may(self, allowed: Iterable[Role]) -> bool:
        return bool(self.roles & set(allowed))


def person_of(row: StaffRow) -> Person:
    return Person(
        id=row.person_id,
        name=row.display_name,
        roles=roles_from(row.roles),
        kind=row.kind,
        must_change_password=row.must_change_password,
    )


def roles_from(text: str) -> frozenset[Role]:
    return frozenset(Role(name) for name in text.split(",") if name in Role.__members__.values())


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles by name (`collector` is the operations role); a `StaffError` names an unknown one."""
    try:
        roles = frozenset(role_named(name) for name in names)
    except ValueError as error:
        raise StaffError(str(error)) from None
    if not roles:
        raise StaffError("a person needs at least one role")
    return roles


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"a password needs at least {MIN_PASSWORD} characters")


async def hash_password(password: str) -> str:
    """argon2id, off the event loop (it is meant to be slow)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def password_matches(stored: str | None, password: str) -> bool:
    """In constant work whether or not there is a stored hash."""

    def verify() -> bool:
        try:
            return _HASHER.verify(stored or _DECOY, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters


def _now() -> datetime:
    return datetime.now(UTC)


# --- reading ---------------------------------------------------------------------------------


async def find(db: Database, person_id: str) -> StaffRow | None:
    async with db.session() as session:
        found = await session.exec(select(StaffRow).where(StaffRow.person_id == person_id))
        return found.first()


async def active_person(db: Database, person_id: str) -> Person | None:
    row = await find(db, person_id)
    return person_of(row) if row is not None and row.active else None


async def directory(db: Database, *, include_inactive: bool = True) -> list[StaffRow]:
    query = select(StaffRow).order_by(col(StaffRow.person_id))
    if not include_inactive:
        query = query.where(col(StaffRow.active).is_(True))
    async with db.session() as session:
        return list(await session.exec(query))


async def has_admin(db: Database) -> bool:
    return any(
        Role.ADMIN in roles_from(row.roles) for row in await directory(db, include_inactive=False)
    )


async def end_sessions(session: AsyncSession, person_id: str) -> None:
    """Ends every session of the person, within the caller's transaction: when they are
    disabled, their roles change or their password does."""
    await session.exec(delete(StaffSessionRow).where(col(StaffSessionRow.person_id) == person_id))


# --- changing ----------------------------------------------------------------------------------


async def add(
    db: Database,
    person_id: str,
    *,
    name: str,
    roles: Iterable[str],
    team: str = "",
    languages: Iterable[str] = (),
    kind: str = "person",
    products: Iterable[str] = (),
    capacity: int = DEFAULT_CAPACITY,
) -> str:
    """Adds a person (with a one-time password, returned: show it once) or a service account
    (no password: it signs in by token; returns "")."""
    if not PERSON_ID.match(person_id):
        raise StaffError(
            "a person's id is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if not name.strip():
        raise StaffError("a display name is required")
    chosen = parse_roles(roles)
    work = work_fields(team=team, products=products, capacity=capacity)
    if await find(db, person_id) is not None:
        raise StaffError(f"{person_id} is already in the directory")
    password = one_time_password() if kind == "person" else ""
    now = _now()
    row = StaffRow(
        person_id=person_id,
        display_name=name.strip(),
        kind=kind,
        roles=",".join(sorted(chosen)),
        languages=",".join(lang.strip() for lang in languages if lang.strip()),
        password_hash=await hash_password(password) if password else None,
        must_change_password=bool(password),
        created_at=now,
        updated_at=now,
    )
    for column, value in work.items():
        setattr(row, column, value)
    async with db.session() as session:
        session.add(row)
    return password


async def _existing(db: Database, person_id: str) -> StaffRow:
    row = await find(db, person_id)
    if row is None:
        raise StaffError(f"no {person_id} in the directory")
    return row


async def _keep_an_admin(db: Database, row: StaffRow, why: str) -> None:
    """Refuses to leave the directory with no active admin: nobody could manage it then."""
    if not row.active or Role.ADMIN not in roles_from(row.roles):
        return
    others = [
        other
        for other in await directory(db, include_inactive=False)
        if other.person_id != row.person_id and Role.ADMIN in roles_from(other.roles)
    ]
    if not others:
        raise StaffError(f"{row.person_id} is the last active admin: {why}")


async def set_roles(db: Database, person_id: str, roles: Iterable[str]) -> frozenset[Role]:
    """Replaces the person's roles; their sessions end, so the new roles apply at once."""
    chosen = parse_roles(roles)
    row = await _existing(db, person_id)
    if Role.ADMIN not in chosen:
        await _keep_an_admin(db, row, "make another person admin first")
    async with db.session() as session:
        await session.exec(
            update(StaffRow)
            .where(col(StaffRow.person_id) == person_id)
            .values(roles=",".join(sorted(chosen)), updated_at=_now())
        )
        await end_sessions(session, person_id)
    return chosen


async def set_active(db: Database, person_id: str, active: bool) -> None:
    """Disabling ends every session and revokes every token of the person at once."""
    row = await _existing(db, person_id)
    if not active:
        await _keep_an_admin(db, row, "make another person admin before disabling them")
    now = _now()
    async with db.session() as session:
        await session.exec(
            update(StaffRow)
            .where(col(StaffRow.person_id) == person_id)
            .values(active=active, updated_at=now)
        )
        if not active:
            await end_sessions(session, person_id)
            await session.exec(
                update(ApiTokenRow)
                .where(col(ApiTokenRow.person_id) == person_id)
                .where(col(ApiTokenRow.revoked_at).is_(None))
                .values(revoked_at=now)
            )


async def reset_password(db: Database, person_id: str) -> str:
    """A new one-time password (returned: show it once); every session of the person ends."""
    row = await _existing(db, person_id)
    if row.kind != "person":
        raise StaffError(f"{person_id} is a service account: it signs in by token")
    password = one_time_password()
    await _store_password(db, person_id, await hash_password(password), must_change=True)
    return password


async def change_password(db: Database, person_id: str, current: str, new: str) -> None:
    """The person's own change: the current password, then a new one of at least 12
    characters, not the same. Other sessions of the person end."""
    row = await _existing(db, person_id)
    if not await password_matches(row.password_hash, current):
        raise StaffError("the current password is wrong")
    check_password(new)
    if new == current:
        raise StaffError("the new password must differ from the current one")
    await _store_password(db, person_id, await hash_password(new), must_change=False)


async def _store_password(db: Database, person_id: str, hashed: str, *, must_change: bool) -> None:
    async with db.session() as session:
        await session.exec(
            update(StaffRow)
            .where(col(StaffRow.person_id) == person_id)
            .values(password_hash=hashed, must_change_password=must_change, updated_at=_now())
        )
        await end_sessions(session, person_id)


# --- what they work: read by the allocator ------------------------------------------------------


def work_fields(
    *,
    team: str | None = None,
    languages: Iterable[str] | None = None,
    products: Iterable[str] | None = None,
    capacity: int | None = None,
) -> dict[str, str | int]:
    """The columns the given values set, checked: a team of at most 64 characters, language
    tags (`zh-CN`, `en`), product codes as single words (`card`, `personal_loan`; none: every
    product), a capacity of 0 to 500 open tasks. A `StaffError` names what is wrong."""
    fields: dict[str, str | int] = {}
    if team is not None:
        if len(team.strip()) > MAX_TEAM:
            raise StaffError(f"a team's name is at most {MAX_TEAM} characters")
        fields["team"] = team.strip()
    if languages is not None:
        fields["languages"] = _codes(languages, LANGUAGE_CODE, "a language tag (zh-CN, en ...)")
    if products is not None:
        fields["products"] = _codes(products, PRODUCT_CODE, "a product code (one word: card ...)")
    if capacity is not None:
        if not 0 <= capacity <= MAX_CAPACITY:
            raise StaffError(f"a capacity is 0 to {MAX_CAPACITY} open tasks, not {capacity}")
        fields["capacity"] = capacity
    return fields


def _codes(given: Iterable[str], shape: re.Pattern[str], what: str) -> str:
    """Comma-separated, each once, in the order given; blanks (`a,,b`) are dropped."""
    codes: list[str] = []
    for code in (c.strip() for c in given):
        if code and not shape.match(code):
            raise StaffError(f"{code!r} is not {what}")
        if code and code not in codes:
            codes.append(code)
    return ",".join(codes)


async def set_work(
    db: Database,
    person_id: str,
    *,
    team: str | None = None,
    languages: Iterable[str] | None = None,
    products: Iterable[str] | None = None,
    capacity: int | None = None,
) -> StaffRow:
    """Sets what the person works (only what is given changes); the allocator reads it at its
    next run. Their tasks stay theirs: `operations.allocation.reassign_queue` moves them."""
    fields = work_fields(team=team, languages=languages, products=products, capacity=capacity)
    await _existing(db, person_id)
    async with db.session() as session:
        await session.exec(
            update(StaffRow)
            .where(col(StaffRow.person_id) == person_id)
            .values(**fields, updated_at=_now())
        )
    return await _existing(db, person_id)
