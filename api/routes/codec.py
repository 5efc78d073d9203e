"""The codec endpoint: Temporal's codec-server protocol, for engineers only.

`temporal ... --codec-endpoint {api}/codec` and the Web UI post `{"payloads": [...]}` (protobuf
JSON: metadata values and data in base64) to `/codec/decode` or `/codec/encode`, and read the
same shape back. Bad JSON or a payload that will not decrypt is a 400, as the protocol says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Annotated, cast

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from api.auth import person_of, require_roles
from api.deps import DatabaseDep, get_settings
from api.security import origin_of
from config.settings import Settings
from operations import access
from operations.roles import Role
from temporal.codec import CodecError, codec_from_settings

PREFIX = "/codec"

router = APIRouter(
    prefix=PREFIX, tags=["codec"], dependencies=[Depends(require_roles(Role.ENGINEER))]
)


def get_codec(request: Request) -> PayloadCodec:
    """The app's codec: the one the lifespan set, else one built from settings once."""
    codec = cast("PayloadCodec | None", getattr(request.app.state, "codec", None))
    if codec is None:
        codec = codec_from_settings(get_settings(request))
        if codec is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "payload encryption is not configured (PAYLOAD_KEYS is empty)",
            )
        request.app.state.codec = codec
    return codec


CodecDep = Annotated[PayloadCodec, Depends(get_codec)]
Convert = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


@router.post("/encode")
async def encode(request: Request, codec: CodecDep) -> Response:
    """Encrypts payloads, e.g. a signal's input typed into the Web UI."""
    return await _convert(request, codec.encode)


@router.post("/decode")
async def decode(request: Request, codec: CodecDep, db: DatabaseDep) -> Response:
    """Decrypts payloads; payloads that are not encrypted come back unchanged. Each call is
    recorded in the access log (who, when, `X-Access-Reason` or "payloads decoded"); the
    protocol names no workflow, so the entry names no account."""
    decoded = await _convert(request, codec.decode)
    person, via = person_of(request)
    why = request.headers.get("x-access-reason", "")[: access.MAX_REASON] or "payloads decoded"
    await access.record(db, person, via, access.Looked.PAYLOADS, why)
    return decoded


async def _convert(request: Request, convert: Convert) -> Response:
    try:
        # Unknown fields are ignored: the UI may annotate payloads it has already seen.
        payloads = json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except json_format.ParseError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, 'expected {"payloads": [...]} as protobuf JSON'
        ) from None
    try:
        converted = await convert(payloads.payloads)
    except CodecError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    return JSONResponse({"payloads": [json_format.MessageToDict(p) for p in converted]})


def ui_origins(settings: Settings) -> list[str]:
    """Where the Web UI is served from: the dev server's, under both names for the loopback,
    and the origin of `TEMPORAL_UI_URL` (a cluster's UI)."""
    port = settings.temporal_ui_port
    local = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    return list(dict.fromkeys(filter(None, [*local, origin_of(settings.web_ui_url)])))


def codec_cors(app: FastAPI, origins: Collection[str]) -> None:
    """Lets the Web UI at `origins` call the codec endpoint from the browser (and nothing else).

    The UI posts JSON with `X-Namespace`, so the browser sends a preflight first. Credentials
    are allowed for the UI's "include cross-origin credentials" option.
    """
    app.add_middleware(_CodecCORS, origins=tuple(origins))


class _CodecCORS:
    """CORS for paths under `/codec/` only, so the rest of the API stays same-origin."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("POST",),
            allow_headers=(
                "Content-Type",
                "X-Namespace",
                "Authorization",
                "X-API-Key",
                "X-Access-Reason",
            ),
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        codec_path = scope["type"] == "http" and scope["path"].startswith(PREFIX + "/")
        await (self.cors if codec_path else self.app)(scope, receive, send)
