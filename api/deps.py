"""What a route may ask for: settings, the gateway to the workflows, the database.

The lifespan in `api.app` puts them on `app.state`; routes receive them through these
dependencies, so a test builds the app with fakes instead of patching modules.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from api.errors import answered
from config.settings import Settings
from operations.answers import Answer, Outcome
from operations.gateway import RETRY_AFTER_SECONDS, Gateway
from operations.staff import Person
from readmodel.engine import Database

UNREACHABLE: Answer[Gateway] = Answer(
    Outcome.UNREACHABLE, message="Temporal is unreachable", retry_after=RETRY_AFTER_SECONDS
)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_gateway_or_none(request: Request) -> Gateway | None:
    """None until Temporal has answered once since the API started."""
    return cast("Gateway | None", request.app.state.gateway)


def get_gateway(gateway: Annotated[Gateway | None, Depends(get_gateway_or_none)]) -> Gateway:
    """The gateway; 503 (with `Retry-After`) while Temporal has not answered yet."""
    return gateway if gateway is not None else answered(UNREACHABLE)


def get_acting_gateway(
    request: Request, gateway: Annotated[Gateway, Depends(get_gateway)]
) -> Gateway:
    """The gateway acting for the caller that `api.auth` admitted (a route that takes this
    is guarded by `require_roles`): their id and roles travel with every update."""
    person = getattr(request.state, "person", None)
    if person is None:
        raise RuntimeError("a route acting on a workflow must be guarded by require_roles")
    return gateway.acting(cast(Person, person).actor(cast(str, request.state.via)))


def get_database(request: Request) -> Database:
    return cast(Database, request.app.state.db)


SettingsDep = Annotated[Settings, Depends(get_settings)]
GatewayDep = Annotated[Gateway, Depends(get_acting_gateway)]
DatabaseDep = Annotated[Database, Depends(get_database)]
