"""Signing in and out, and the language. Sign-in takes a role's key, as the API does, and a
staff ID: keys are shared per role, so the staff ID is what the console records as who claimed,
completed, decided or accepted."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, roles_of
from api.console.i18n import LANGUAGES
from api.console.pages import COOKIE_LIFETIME, LANGUAGE_COOKIE, STAFF_COOKIE, render
from api.deps import SettingsDep

router = APIRouter()


@router.get("", response_class=HTMLResponse)
async def home() -> Response:
    return RedirectResponse("/console/cases", status.HTTP_303_SEE_OTHER)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, next: str = "/console/cases") -> HTMLResponse:
    return render(request, "signin.html", None, next=_local(next))


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    key, staff = str(form.get("key", "")), str(form.get("staff", "")).strip()
    target = _local(str(form.get("next", "/console/cases")))
    if not roles_of(settings, key) or not staff or len(staff) > 64:
        return render(
            request, "signin.html", None, status_code=403, next=target, error="unknown_key"
        )
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    for name, value in ((SESSION_COOKIE, key), (STAFF_COOKIE, staff)):
        response.set_cookie(
            name,
            value,
            max_age=COOKIE_LIFETIME,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.post("/signout")
async def signout() -> Response:
    response = RedirectResponse("/console/signin", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(STAFF_COOKIE)
    return response


@router.get("/language/{language}")
async def choose_language(language: str, next: str = "/console/cases") -> Response:
    response = RedirectResponse(_local(next), status.HTTP_303_SEE_OTHER)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def _local(path: str) -> str:
    """Only a path of this console: a sign-in link cannot send anyone elsewhere."""
    return path if path.startswith("/console") and "//" not in path else "/console/cases"
