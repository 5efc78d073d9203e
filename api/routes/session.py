"""Browser sign-in: an API key typed once becomes an HttpOnly cookie.

The Temporal Web UI sends that cookie to the codec endpoint when "Include cross-origin
credentials" is on in its data encoder settings; the web console uses it too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, roles_of
from api.deps import SettingsDep

router = APIRouter(tags=["session"])
COOKIE_LIFETIME = 8 * 3600  # a working day

_FORM = """<!doctype html><meta charset="utf-8"><title>Collections: sign in</title>
<form method="post" action="/signin" style="font-family:sans-serif;max-width:24em;margin:4em auto">
<h1>Sign in / 登录</h1><label>API key / 密钥<br><input name="key" type="password"
autocomplete="current-password" required style="width:100%"></label>
<p><button type="submit">Sign in / 登录</button></p></form>"""


@router.get("/signin", response_class=HTMLResponse)
async def signin_form() -> str:
    return _FORM


@router.post("/signin")
async def signin(request: Request, settings: SettingsDep, key: Annotated[str, Form()]) -> Response:
    roles = roles_of(settings, key)
    if not roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "unknown API key")
    response = HTMLResponse(f"<p>Signed in as {', '.join(sorted(roles))}.</p>")
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=COOKIE_LIFETIME,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/signout")
async def signout() -> Response:
    response = RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE)
    return response
