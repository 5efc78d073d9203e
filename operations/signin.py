"""Signing in: passwords with a lockout and a rate limit, server-side sessions, API tokens.

- A sign-in that fails says only `SIGN_IN_FAILED`, whether the id is unknown, the password
  wrong, the person disabled or the account locked, and costs the same argon2 work each time.
- Failures are counted per account (`LOCKOUT_AFTER` in `LOCKOUT_MINUTES` locks it, known or
  not) and per address (`ADDRESS_LIMIT` in the same window answers "too many attempts").
- A session is a random id in the browser's cookie and its SHA-256 here; it ends after
  `IDLE_MINUTES` without a request, `ABSOLUTE_HOURS` after sign-in, at sign-out, and when the
  person is disabled, their roles change or their password is reset.
- An API token is `col_<id>_<secret>`, shown once; stored is the secret's SHA-256. It expires,
  can be revoked, and stops with its owner's account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import col, delete, func, select, update

from operations.staff import Person, find, password_matches, person_of
from readmodel.engine import Database
from readmodel.tables import ApiTokenRow, SignInFailureRow, StaffRow, StaffSessionRow

IDLE_MINUTES = 30
ABSOLUTE_HOURS = 12
LOCKOUT_AFTER = 5  # failures of one account ...
LOCKOUT_MINUTES = 15  # ... within this window lock it for the rest of the window
ADDRESS_LIMIT = 20  # failures from one address within the window
TOKEN_DAYS = 90
TOKEN_PREFIX = "col_"
SIGN_IN_FAILED = "sign-in failed: the staff ID or the password is wrong, or the account is locked"
_TOUCH_EVERY = timedelta(seconds=60)  # a session's last-seen time is written at most this often


class TooManyAttempts(Exception):
    """Too many failed sign-ins from one address: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins from this address; try again in {retry_after} s"
        )
        self.retry_after = retry_after


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- passwords, the lockout and the rate limit -----------------------------------------------


async def _failures(db: Database, subject: str, since: datetime) -> int:
    async with db.session() as session:
        found = await session.exec(
            select(func.count())
            .select_from(SignInFailureRow)
            .where(SignInFailureRow.subject == subject)
            .where(col(SignInFailureRow.at) >= since)
        )
        return int(found.one())


async def _fail(db: Database, *subjects: str, at: datetime) -> None:
    async with db.session() as session:
        for subject in subjects:
            session.add(SignInFailureRow(subject=subject, at=at))
        # Old failures count for nothing: keep the table to the window.
        await session.exec(
            delete(SignInFailureRow).where(
                col(SignInFailureRow.at) < at - timedelta(minutes=LOCKOUT_MINUTES)
            )
        )


async def check_password_sign_in(
    db: Database, person_id: str, password: str, *, address: str, now: datetime | None = None
) -> Person | None:
    """The person, when the id and password are right and the account neither disabled nor
    locked; None otherwise (say `SIGN_IN_FAILED`, nothing more). `TooManyAttempts` when the
    address has failed too often."""
    now = now or _now()
    since = now - timedelta(minutes=LOCKOUT_MINUTES)
    from_address, of_account = f"address:{address}", f"person:{person_id.lower()}"
    if await _failures(db, from_address, since) >= ADDRESS_LIMIT:
        raise TooManyAttempts(LOCKOUT_MINUTES * 60)
    row = await find(db, person_id)
    matches = await password_matches(row.password_hash if row else None, password)
    locked = await _failures(db, of_account, since) >= LOCKOUT_AFTER
    if row is None or not matches or locked or not row.active or row.kind != "person":
        await _fail(db, from_address, of_account, at=now)
        return None
    async with db.session() as session:
        await session.exec(
            delete(SignInFailureRow).where(col(SignInFailureRow.subject) == of_account)
        )
    return person_of(row)


# --- sessions --------------------------------------------------------------------------------


async def open_session(
    db: Database, person: Person, *, method: str = "password", now: datetime | None = None
) -> str:
    """A new session for the person; the id to put in the cookie (never stored as such)."""
    now = now or _now()
    session_id = secrets.token_urlsafe(32)
    row = StaffSessionRow(
        session_hash=_digest(session_id),
        person_id=person.id,
        method=method,
        created_at=now,
        last_seen_at=now,
    )
    async with db.session() as session:
        session.add(row)
    return session_id


async def session_person(
    db: Database, session_id: str, *, now: datetime | None = None
) -> Person | None:
    """The person of a live session, touching it; None (and the row gone) when it has idled
    out, passed its absolute limit, or its person is disabled."""
    if not session_id:
        return None
    now = now or _now()
    digest = _digest(session_id)
    async with db.session() as session:
        found = await session.exec(
            select(StaffSessionRow, StaffRow)
            .join(StaffRow, col(StaffRow.person_id) == col(StaffSessionRow.person_id))
            .where(StaffSessionRow.session_hash == digest)
        )
        pair = found.first()
        if pair is None:
            return None
        row, person = pair
        expired = (
            now - row.last_seen_at > timedelta(minutes=IDLE_MINUTES)
            or now - row.created_at > timedelta(hours=ABSOLUTE_HOURS)
            or not person.active
        )
        if expired:
            await session.exec(delete(StaffSessionRow).where(col(StaffSessionRow.id) == row.id))
            return None
        if now - row.last_seen_at > _TOUCH_EVERY:
            await session.exec(
                update(StaffSessionRow)
                .where(col(StaffSessionRow.id) == row.id)
                .values(last_seen_at=now)
            )
        return person_of(person)


async def close_session(db: Database, session_id: str) -> None:
    async with db.session() as session:
        await session.exec(
            delete(StaffSessionRow).where(col(StaffSessionRow.session_hash) == _digest(session_id))
        )


# --- API tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str  # show once
    expires_at: datetime


async def issue_token(
    db: Database, person_id: str, name: str, *, days: int = TOKEN_DAYS, now: datetime | None = None
) -> IssuedToken:
    """A new token for an active person or service account, valid for `days` (1 to 366)."""
    if not 1 <= days <= 366:
        raise ValueError("a token lives 1 to 366 days")
    if not name.strip():
        raise ValueError("a token needs a name saying what it is for")
    row = await find(db, person_id)
    if row is None or not row.active:
        raise ValueError(f"no active {person_id} in the directory")
    now = now or _now()
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    async with db.session() as session:
        session.add(
            ApiTokenRow(
                token_id=token_id,
                secret_hash=_digest(secret),
                person_id=person_id,
                name=name.strip(),
                created_at=now,
                expires_at=expires,
            )
        )
    return IssuedToken(token_id, f"{TOKEN_PREFIX}{token_id}_{secret}", expires)


async def token_person(db: Database, token: str, *, now: datetime | None = None) -> Person | None:
    """The owner of a live token: not expired, not revoked, its owner active."""
    token_id, _, secret = token.removeprefix(TOKEN_PREFIX).partition("_")
    if not token.startswith(TOKEN_PREFIX) or not token_id or not secret:
        return None
    now = now or _now()
    async with db.session() as session:
        found = await session.exec(
            select(ApiTokenRow, StaffRow)
            .join(StaffRow, col(StaffRow.person_id) == col(ApiTokenRow.person_id))
            .where(ApiTokenRow.token_id == token_id)
        )
        pair = found.first()
        if pair is None:
            return None
        row, owner = pair
        if not hmac.compare_digest(row.secret_hash, _digest(secret)):
            return None
        if row.revoked_at is not None or row.expires_at <= now or not owner.active:
            return None
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            await session.exec(
                update(ApiTokenRow).where(col(ApiTokenRow.id) == row.id).values(last_used_at=now)
            )
        return person_of(owner)


async def tokens_of(db: Database, person_id: str | None = None) -> list[ApiTokenRow]:
    query = select(ApiTokenRow).order_by(col(ApiTokenRow.created_at))
    if person_id:
        query = query.where(ApiTokenRow.person_id == person_id)
    async with db.session() as session:
        return list(await session.exec(query))


async def revoke_token(db: Database, token_id: str, *, owner: str | None = None) -> bool:
    """Revokes a token (only `owner`'s, when given); False when there is no such live token."""
    query = (
        update(ApiTokenRow)
        .where(col(ApiTokenRow.token_id) == token_id)
        .where(col(ApiTokenRow.revoked_at).is_(None))
        .values(revoked_at=_now())
    )
    if owner is not None:
        query = query.where(col(ApiTokenRow.person_id) == owner)
    async with db.session() as session:
        result = await session.exec(query)
        return bool(result.rowcount)
