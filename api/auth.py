"""Who is calling: a person signed in to the console (the session cookie), or a person or
service account with an API token (`X-API-Key` or `Authorization: Bearer`). A route guarded
by `require_roles(Role.SUPERVISOR, ...)` admits only callers holding one of the roles; no
credentials, a dead one, or too few roles is 403 with a message saying which. The caller is
kept on the request, so that the gateway acts as them (`api.deps.get_acting_gateway`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import DatabaseDep
from operations import signin
from operations.roles import Role
from operations.staff import Person
from readmodel.engine import Database

SESSION_COOKIE = "collections_session"

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)
_bearer = HTTPBearer(auto_error=False)

NO_CREDENTIALS = (
    "sign in (/console/signin) or send an API token (X-API-Key or Authorization: Bearer); "
    "an expired, revoked or unknown one counts as none"
)


async def caller(
    request: Request,
    db: DatabaseDep,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Person:
    """The person behind the request; 403 without live credentials."""
    token = api_key or (bearer.credentials if bearer else None)
    if token:
        person, via = await signin.token_person(db, token), "api"
    else:
        person, via = await signin.session_person(db, cookie or ""), "console"
    if person is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NO_CREDENTIALS)
    if person.must_change_password:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "change your one-time password first (/console/password)"
        )
    request.state.person, request.state.via = person, via
    return person


Caller = Annotated[Person, Depends(caller)]


def require_roles(*allowed: Role) -> Callable[..., Awaitable[Role]]:
    """A dependency admitting callers with any of `allowed`; it returns the first of them the
    caller holds (so list the role that sees the most first)."""
    if not allowed:
        raise ValueError("require_roles needs at least one role")
    who = ", ".join(allowed)

    async def caller_role(person: Caller) -> Role:
        for role in allowed:
            if role in person.roles:
                return role
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only these roles may call this: {who}")

    return caller_role


def person_of(request: Request) -> tuple[Person, str]:
    """The caller admitted by `caller` for this request, and how they came (api | console)."""
    return cast(Person, request.state.person), cast(str, request.state.via)


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    """The session's id, for this site only and out of scripts' reach; the server ends it (idle
    30 min, 12 h at most), so the cookie itself lives only as long as the browser does."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def end_session(response: Response, request: Request, db: Database) -> None:
    """Signs the browser out: the session ends on the server, the cookie goes."""
    if session_id := request.cookies.get(SESSION_COOKIE):
        await signin.close_session(db, session_id)
    response.delete_cookie(SESSION_COOKIE)
