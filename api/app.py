"""The HTTP API: `create_app(settings)` builds it; `collections api` serves it with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.trace import TracerProvider
from pydantic import BaseModel
from sqlalchemy import text

from api import docs, security, tracing
from api.console import routes as console
from api.deps import DatabaseDep, SettingsDep, get_gateway_or_none
from api.limits import BodyLimit
from api.routes import (
    approvals,
    cases,
    codec,
    complaints,
    handoffs,
    kpis,
    me,
    metrics,
    performance,
    session,
    tasks,
    twilio_webhooks,
)
from config.settings import Settings
from config.tracing import flush as flush_spans
from operations.gateway import Gateway
from operations.health import pollers as queue_pollers
from operations.health import temporal_serving
from operations.metrics import BacklogGauges
from readmodel.engine import Database, open_database
from temporal.client import connect, require_codec
from temporal.codec import codec_from_settings

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
RECONNECT_EVERY = 2.0

Reachability = Literal["ok", "unreachable"]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    temporal: Reachability
    database: Reachability


health_router = APIRouter(tags=["health"])


@health_router.get("/health", responses={503: {"model": Health}})
async def health(
    db: DatabaseDep,
    gateway: Annotated[Gateway | None, Depends(get_gateway_or_none)],
    response: Response,
) -> Health:
    """200 when Temporal and the database both answer, 503 (with which one) otherwise."""
    temporal, database = await asyncio.gather(_temporal_check(gateway), _database_check(db))
    healthy = temporal == database == "ok"
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "degraded", temporal=temporal, database=database)


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    temporal: Reachability
    database: Reachability
    queues: dict[str, int | None]  # workers polling each task queue; None: Temporal did not say
    missing: list[str]  # what keeps it from ready, in words


@health_router.get("/ready", responses={503: {"model": Readiness}})
async def ready(
    db: DatabaseDep,
    gateway: Annotated[Gateway | None, Depends(get_gateway_or_none)],
    settings: SettingsDep,
    response: Response,
) -> Readiness:
    """200 when Temporal and the database answer and a worker polls each task queue
    (collections, risk, legal: an update to a case, or a department's workflow, waits for
    one); 503 otherwise, naming what is missing. `/health` stays the liveness check."""
    names = settings.task_queues.all()
    temporal, database, *polling = await asyncio.gather(
        _temporal_check(gateway), _database_check(db), *(_pollers(gateway, q) for q in names)
    )
    queues = dict(zip(names, polling, strict=True))
    missing = [
        what for what, answer in (("temporal", temporal), ("database", database)) if answer != "ok"
    ]
    missing += [f"a worker polling {queue}" for queue, count in queues.items() if not count]
    if missing:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(
        status="not_ready" if missing else "ready",
        temporal=temporal,
        database=database,
        queues=queues,
        missing=missing,
    )


def routers() -> list[APIRouter]:
    """Every router the API serves: a new module under `api/routes/` adds its router here."""
    return [
        health_router,
        session.router,
        codec.router,
        cases.router,
        tasks.router,
        complaints.router,
        handoffs.router,
        kpis.router,
        performance.router,
        metrics.router,
        approvals.router,
        me.router,
        twilio_webhooks.router,
        console.router,
    ]


def create_app(
    settings: Settings,
    *,
    gateway: Gateway | None = None,
    db: Database | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The app. A `gateway` or `db` passed in is used as given and left open at shutdown;
    request spans come from `tracer_provider`, default the process's (`config.tracing`)."""
    # The docs are `api.docs`'s routes, behind sign-in unless `public_docs`.
    app = FastAPI(
        title="Collections", lifespan=_lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.gateway = gateway
    app.state.db = db
    app.state.codec = codec_from_settings(settings)
    app.state.backlog = BacklogGauges()  # `/metrics`' counts of the read model, kept seconds
    for router in routers():
        app.include_router(router)
    app.include_router(docs.router(public=settings.public_docs))
    app.add_middleware(BodyLimit)  # inside CORS: a 413 to the Web UI still carries its headers
    codec.codec_cors(app, codec.ui_origins(settings))
    security.install(app, settings)  # outside those: a preflight's answer carries the headers too
    tracing.install(app, tracer_provider)  # around all: the access line is in the request's span
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(console.SignInFirst, console.sign_in_first)
    return app


def app_from_settings() -> FastAPI:
    """The app from the environment's settings: uvicorn's factory (`api.app:app_from_settings`)."""
    from config.settings import load_settings

    return create_app(load_settings())


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 echoes the input back: that leaks customer data into answers and fails
    (500) on input it cannot render. Say what is wrong and where, without the input."""
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if app.state.gateway is None:
        # Fails closed before anything else: without payload keys the API would send
        # customers' data to Temporal in clear.
        require_codec(settings, app.state.codec)
    own_db = app.state.db is None
    if own_db:
        app.state.db = open_database(settings)
    connecting = None
    if app.state.gateway is None:
        # The API starts even while Temporal is down: /health says so, and this keeps trying.
        connecting = asyncio.create_task(_connect_until_reachable(app, settings))
        await asyncio.wait({connecting}, timeout=CHECK_TIMEOUT)
    try:
        yield
    finally:
        if connecting is not None:
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
        if own_db:
            await app.state.db.dispose()
        await flush_spans()


async def _connect_until_reachable(app: FastAPI, settings: Settings) -> None:
    for attempt in itertools.count():
        try:
            client = await connect(settings, app.state.codec)
            app.state.gateway = Gateway(client, answer_within=settings.answer_timeout_seconds)
            return
        except RuntimeError as error:
            if attempt == 0:
                log.warning(
                    "Temporal at %s is unreachable, retrying every %.0f s: %s",
                    settings.temporal_address,
                    RECONNECT_EVERY,
                    error,
                )
        await asyncio.sleep(RECONNECT_EVERY)


async def _temporal_check(gateway: Gateway | None) -> Reachability:
    if gateway is None:
        return "unreachable"
    return "ok" if await temporal_serving(gateway, within=CHECK_TIMEOUT) else "unreachable"


async def _pollers(gateway: Gateway | None, queue: str) -> int | None:
    if gateway is None:
        return None
    return await queue_pollers(gateway, queue, within=CHECK_TIMEOUT)


async def _database_check(db: Database) -> Reachability:
    async def select_one() -> None:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(select_one(), CHECK_TIMEOUT)
    except Exception:
        return "unreachable"
    return "ok"
