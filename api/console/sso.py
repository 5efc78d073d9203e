"""Signing in by the bank's single sign-on (OpenID Connect), where `oidc_issuer` is set.

The sign-in page's button leads here; the browser goes on to the identity provider and comes
back to the callback, which opens a session like a password sign-in does (method `oidc`) and
sends the person to the console page they set out for. A refusal shows the sign-in page with
one message whatever failed; the log says what (`operations.sso.SsoError`), without personal
data. The session cookie is `SameSite=Strict`: set on this cross-site return it is still
stored, and the redirect that follows is a same-site navigation that sends it.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.pages import render
from api.console.signin import local, signed_in_answer
from api.deps import DatabaseDep, SettingsDep
from config.settings import Settings
from operations import sso

router = APIRouter()
log = logging.getLogger(__name__)


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("sso_callback"))


def _refused(request: Request, settings: Settings, status_code: int) -> HTMLResponse:
    return render(
        request,
        "signin.html",
        None,
        status_code=status_code,
        next="/console/cases",
        sso=settings.oidc_name,
        error="sso_failed",
    )


@router.get("/signin/sso")
async def sso_start(
    request: Request, db: DatabaseDep, settings: SettingsDep, next: str = "/console/cases"
) -> Response:
    """Sends the browser to the identity provider."""
    if not settings.oidc_issuer:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "single sign-on is not configured")
    try:
        url = await sso.begin(db, settings, _redirect_uri(request), local(next))
    except sso.SsoError as error:
        log.warning("single sign-on could not start: %s", error)
        return _refused(request, settings, status.HTTP_502_BAD_GATEWAY)
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER)


@router.get("/signin/sso/callback", name="sso_callback")
async def sso_callback(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """The identity provider's answer: a session and the page set out for, or a refusal."""
    if not settings.oidc_issuer:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "single sign-on is not configured")
    try:
        if error:
            raise sso.SsoError(f"the identity provider answered {error[:64]!r}")
        done = await sso.finish(db, settings, _redirect_uri(request), state, code)
    except sso.SsoError as refused:
        log.info("single sign-on refused: %s", refused)
        return _refused(request, settings, status.HTTP_403_FORBIDDEN)
    return await signed_in_answer(request, db, done.person, local(done.next_path), method="oidc")
