"""What a route may ask for: settings, the Temporal client, the database, a session.

The lifespan in `api.app` puts them on `app.state`; routes receive them through these
dependencies, so a test builds the app with fakes instead of patching modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.errors import unavailable
from config.settings import Settings
from readmodel.engine import Database


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_temporal_or_none(request: Request) -> Client | None:
    """None until Temporal has answered once since the API started."""
    return cast("Client | None", request.app.state.temporal)


def get_temporal(client: Annotated[Client | None, Depends(get_temporal_or_none)]) -> Client:
    if client is None:
        raise unavailable("Temporal is unreachable")
    return client


def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.db)


SettingsDep = Annotated[Settings, Depends(get_settings)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_session(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
