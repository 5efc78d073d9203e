"""The API's docs: `/openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc`.

Outside the local stack they are for signed-in people and token holders only (any role): the
routes and their models map what an attacker would look for. `API_PUBLIC_DOCS=1` opens them;
`collections up` does, for the developer at their own machine.

Both pages load their code from the CDN FastAPI uses, so each carries a policy of its own
(`api.security` leaves it be): scripts from that CDN, plus Swagger UI's inline start-up script
by its hash; calls to this site only; no frames.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import caller

OPENAPI_URL = "/openapi.json"
CDN = "https://cdn.jsdelivr.net"
FAVICON = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def router(*, public: bool) -> APIRouter:
    """The docs' routes; unless `public`, each asks for a live session or token."""
    docs = APIRouter(include_in_schema=False, dependencies=[] if public else [Depends(caller)])

    @docs.get(OPENAPI_URL)
    async def openapi(request: Request) -> JSONResponse:
        schema: dict[str, Any] = request.app.openapi()
        return JSONResponse(schema)

    @docs.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{request.app.title} - Swagger UI",
            # The default validator would send the spec's address to swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _with_policy(page, worker="")

    @docs.get("/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=OPENAPI_URL, title=f"{request.app.title} - ReDoc", with_google_fonts=False
        )
        return _with_policy(page, worker="worker-src blob:; ")  # ReDoc searches in a worker

    return docs


def _with_policy(page: HTMLResponse, *, worker: str) -> HTMLResponse:
    html = bytes(page.body).decode()
    hashes = "".join(f" '{_sha256(script)}'" for script in _INLINE_SCRIPT.findall(html))
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {CDN}{hashes}; style-src {CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {FAVICON}; connect-src 'self'; {worker}"
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return page


def _sha256(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
