"""What every response carries, and what every request leaves in the log.

Headers, on every answer (errors, preflights and an unhandled error's 500 included):
- `Content-Security-Policy`, by what the answer is. A console page (HTML) may show its own
  inline styles and SVG charts and post forms to this site only (and, with single sign-on, to
  the identity provider the sign-in button leads to: a browser checks a form's redirects too);
  it runs no script at all. Anything else (JSON, the dossier's text) may load nothing. An
  answer with a policy of its own keeps it (the API docs, `api.docs`).
- `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`.
- `Referrer-Policy: same-origin`: a console URL names the account, so no other site learns it;
  `no-referrer` would also make a browser send `Origin: null` with the console's own forms,
  which the same-site check (`api.console.pages.same_site_forms`) refuses.
- `Cache-Control: no-store` unless set: answers name customers, so no disk cache keeps them.
- `Strict-Transport-Security: max-age=31536000` on an answer over HTTPS (as uvicorn sees the
  request: behind a balancer that ends TLS, with its `X-Forwarded-Proto` trusted), so a
  browser that has used the console over HTTPS never falls back to plain HTTP for a year.

Access log: one line per request on `api.access` with the method, the route's template
(`/cases/{account_no}/timeline`; a path no route matched has its digit runs masked), status and
duration. Never the query string, the client's address, or a body. (uvicorn's own access log,
which prints the raw path and query, is off: `config.logs.log_config`.)
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.logs import mask_digits
from config.settings import Settings

access_log = logging.getLogger("api.access")

API_CSP = "default-src 'none'; frame-ancestors 'none'"
MAX_PATH = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` as a browser sends it in `Origin`, or None if `url` has none."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def console_csp(settings: Settings) -> str:
    """The console's policy; with single sign-on, forms may also lead to the issuer's origin
    (where providers serve their authorization endpoint)."""
    identity_provider = origin_of(settings.oidc_issuer) if settings.oidc_issuer else None
    form_action = " ".join(filter(None, ("'self'", identity_provider)))
    return (
        "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def install(app: FastAPI, settings: Settings) -> None:
    """Adds both middlewares, outside every other: call it after the app's other middleware."""
    app.add_middleware(SecurityHeaders, console_policy=console_csp(settings))
    app.add_middleware(AccessLog)


HSTS = "max-age=31536000"  # a year; no includeSubDomains: the bank's other hosts are its own


class SecurityHeaders:
    def __init__(self, app: ASGIApp, console_policy: str) -> None:
        self.app = app
        self.console_policy = console_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._add(MutableHeaders(scope=message), https=scope.get("scheme") == "https")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 is sent outside every middleware, without these headers:
            # answer it here, then let the server log the error.
            if not started:
                error = PlainTextResponse("Internal Server Error", status_code=500)
                await error(scope, receive, send_with_headers)
            raise

    def _add(self, headers: MutableHeaders, *, https: bool) -> None:
        html = headers.get("content-type", "").startswith("text/html")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        headers.setdefault("Content-Security-Policy", self.console_policy if html else API_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cache-Control", "no-store")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # unless an answer starts

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            took = round((time.perf_counter() - began) * 1000, 1)
            method, path = scope["method"], logged_path(scope)
            access_log.info(
                "%s %s %s %.1f ms",
                method,
                path,
                status,
                took,
                extra={"method": method, "path": path, "status": status, "duration_ms": took},
            )


def logged_path(scope: Scope) -> str:
    """The matched route's template with the prefixes it was included under
    (`/console/cases/{account_no}`), else the path with its digit runs masked. Never the query
    string, which is not in `path`."""
    path = str(scope.get("path", ""))
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if route is not None and isinstance(template, str):
        # The route knows its template relative to its router; what the path has before the
        # route's own part is the routers' prefixes.
        try:
            own = str(route.url_path_for(route.name, **scope.get("path_params", {})))
        except Exception:
            own = None
        if own is not None and path.endswith(own):
            return mask_digits(path[: len(path) - len(own)]) + template
    return mask_digits(path)[:MAX_PATH]
