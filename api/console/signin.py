"""Signing in and out, changing one's password, and the language.

Each person signs in as themselves: their staff ID and password (argon2-checked, with a
lockout and a per-address limit, see `operations.signin`), or the bank's single sign-on where
it is configured (`api.console.sso`). A failure says the same whatever went wrong. A
one-time password (a new person's, a reset one) must be changed before any other page opens.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, end_session, set_session_cookie
from api.console.i18n import LANGUAGES
from api.console.pages import LANGUAGE_COOKIE, PAGES, render, signed_in
from api.deps import DatabaseDep, SettingsDep
from operations import signin, staff
from operations.staff import Person
from readmodel.engine import Database

router = APIRouter()


@router.get("", response_class=HTMLResponse)
async def home() -> Response:
    return RedirectResponse("/console/cases", status.HTTP_303_SEE_OTHER)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(
    request: Request, settings: SettingsDep, next: str = "/console/cases"
) -> HTMLResponse:
    return render(
        request,
        "signin.html",
        None,
        next=local(next),
        sso=settings.oidc_name if settings.oidc_issuer else "",
    )


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(request: Request, db: DatabaseDep, settings: SettingsDep) -> Response:
    form = await request.form()
    person_id = str(form.get("staff", "")).strip().lower()[:64]
    password = str(form.get("password", ""))[:1024]
    target = local(str(form.get("next", "/console/cases")))
    sso = settings.oidc_name if settings.oidc_issuer else ""
    address = request.client.host if request.client else "unknown"
    try:
        person = await signin.check_password_sign_in(db, person_id, password, address=address)
    except signin.TooManyAttempts as error:
        limited = render(
            request, "signin.html", None, status_code=429, next=target, sso=sso, error="too_many"
        )
        limited.headers["Retry-After"] = str(error.retry_after)
        return limited
    if person is None:
        return render(
            request,
            "signin.html",
            None,
            status_code=403,
            next=target,
            sso=sso,
            error="signin_failed",
        )
    return await signed_in_answer(request, db, person, target)


async def signed_in_answer(
    request: Request, db: Database, person: Person, target: str, *, method: str = "password"
) -> Response:
    """A sign-in that succeeded (by password or single sign-on): a new session, and the page
    set out for; the password page first while the person's password is a one-time one, and
    the staff page for an admin, who opens no case."""
    if earlier := request.cookies.get(SESSION_COOKIE):
        await signin.close_session(db, earlier)  # a session from before is not carried over
    session_id = await signin.open_session(db, person, method=method)
    if target == "/console/cases" and not person.may(PAGES["cases"]):
        target = "/console/staff"
    page = "/console/password?next=" + target if person.must_change_password else target
    response = RedirectResponse(page, status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, session_id)
    return response


@router.post("/signout")
async def sign_out(request: Request, db: DatabaseDep) -> Response:
    response = RedirectResponse("/console/signin", status.HTTP_303_SEE_OTHER)
    await end_session(response, request, db)
    return response


@router.get("/password", response_class=HTMLResponse)
async def password_form(request: Request, next: str = "/console/cases") -> HTMLResponse:
    operator = await signed_in(request, changing_password=True)
    return render(request, "password.html", operator, next=local(next))


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request, db: DatabaseDep) -> Response:
    """The person's own change; every session of theirs ends, and this browser gets a new one."""
    operator = await signed_in(request, changing_password=True)
    form = await request.form()
    current, new = str(form.get("current", "")), str(form.get("new", ""))
    target = local(str(form.get("next", "/console/cases")))
    error = ""
    if new != str(form.get("confirm", "")):
        error = "the two new passwords differ"
    else:
        try:
            await staff.change_password(db, operator.staff, current, new)
        except staff.StaffError as refused:
            error = str(refused)
    if error:
        return render(request, "password.html", operator, status_code=400, next=target, error=error)
    person = await staff.active_person(db, operator.staff)
    assert person is not None, "a signed-in person is active"
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, await signin.open_session(db, person))
    return response


@router.get("/language/{language}")
async def choose_language(language: str, next: str = "/console/cases") -> Response:
    response = RedirectResponse(local(next), status.HTTP_303_SEE_OTHER)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def local(path: str) -> str:
    """Only a path of this console: a sign-in link cannot send anyone elsewhere."""
    return path if path.startswith("/console") and "//" not in path else "/console/cases"
