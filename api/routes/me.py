"""The caller themselves: who they are signed in as, and their personal API tokens.

A token is shown once, when made; it carries its owner's roles, expires (90 days unless
asked otherwise, at most 366), and stops at once when revoked or when its owner is disabled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from api.auth import Caller
from api.deps import DatabaseDep
from operations import signin

router = APIRouter(prefix="/me", tags=["me"])


class Me(BaseModel):
    person_id: str
    name: str
    roles: list[str]
    kind: str


class TokenRequest(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=80)]  # what it is for
    days: Annotated[int, Field(ge=1, le=366)] = signin.TOKEN_DAYS


class NewToken(BaseModel):
    token_id: str
    token: str  # shown this once
    expires_at: datetime


class TokenView(BaseModel):
    token_id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@router.get("")
async def who_am_i(person: Caller) -> Me:
    return Me(person_id=person.id, name=person.name, roles=sorted(person.roles), kind=person.kind)


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def new_token(body: TokenRequest, person: Caller, db: DatabaseDep) -> NewToken:
    issued = await signin.issue_token(db, person.id, body.name, days=body.days)
    return NewToken(token_id=issued.token_id, token=issued.token, expires_at=issued.expires_at)


@router.get("/tokens")
async def my_tokens(person: Caller, db: DatabaseDep) -> list[TokenView]:
    return [
        TokenView(
            token_id=row.token_id,
            name=row.name,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )
        for row in await signin.tokens_of(db, person.id)
    ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(token_id: str, person: Caller, db: DatabaseDep) -> None:
    if not await signin.revoke_token(db, token_id, owner=person.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live token {token_id} of yours")
