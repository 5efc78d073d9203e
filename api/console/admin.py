"""Accounts: the staff directory for admins, and everyone's own API tokens.

A password an admin sets (a new person's, a reset) and a new token are secrets shown once: on
the page that answers the form, and nowhere else (never in a redirect, a cookie or the flash),
with `Cache-Control: no-store`. A one-time password must be changed at the first sign-in.
Disabling a person ends their sessions and revokes their tokens at once, and new roles end
their sessions, so either applies from their next page (`operations.staff`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console.forms import posted
from api.console.i18n import translator
from api.console.pages import PAGES, Operator, answered, forbidden, render, signed_in
from api.deps import DatabaseDep
from operations import signin, staff
from operations.roles import Role
from readmodel.engine import Database

router = APIRouter()

KINDS = ("person", "service")
CHANGES = ("active", "roles", "password", "token", "work")
MAX_TOKEN_NAME = 80


@dataclass(frozen=True)
class Shown:
    """A secret to show on this one page: whose it is, what it is, and the secret."""

    person_id: str
    what: str  # one_time_password | token | service_added
    secret: str = ""


def _secret_page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the directory -----------------------------------------------------------------------------


async def _directory(
    request: Request,
    operator: Operator,
    db: Database,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    shown: Shown | None = None,
) -> HTMLResponse:
    page = render(
        request,
        "staff.html",
        operator,
        status_code=status_code,
        rows=await staff.directory(db),
        roles=list(Role),
        kinds=KINDS,
        errors=errors or {},
        typed=typed or {},
        shown=shown,
    )
    return _secret_page(page) if shown else page


async def _admin(request: Request) -> Operator | Response:
    operator = await signed_in(request)
    return operator if operator.may(PAGES["staff"]) else forbidden(request, operator)


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(request: Request, db: DatabaseDep) -> Response:
    operator = await _admin(request)
    if not isinstance(operator, Operator):
        return operator
    return await _directory(request, operator, db)


@router.post("/staff", response_class=HTMLResponse)
async def add_staff(request: Request, db: DatabaseDep) -> Response:
    operator = await _admin(request)
    if not isinstance(operator, Operator):
        return operator
    form = await request.form()
    typed: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "roles"}
    roles = typed["roles"] = [str(r) for r in form.getlist("roles")]
    person_id = typed.get("person_id", "").strip().lower()
    kind = typed.get("kind", "person")
    try:
        if kind not in KINDS:
            raise staff.StaffError(f"a kind is one of {', '.join(KINDS)}")
        password = await staff.add(
            db,
            person_id,
            name=typed.get("name", ""),
            roles=roles,
            team=typed.get("team", ""),
            languages=typed.get("languages", "").split(","),
            kind=kind,
        )
    except staff.StaffError as error:
        return await _directory(
            request, operator, db, status_code=400, errors={"add": str(error)}, typed=typed
        )
    shown = Shown(person_id, "one_time_password", password) if password else None
    return await _directory(request, operator, db, shown=shown or Shown(person_id, "service_added"))


@router.post("/staff/{person_id}/{change}", response_class=HTMLResponse)
async def change_staff(request: Request, person_id: str, change: str, db: DatabaseDep) -> Response:
    """`active` (enable or disable), `roles`, `password` (a reset), `token` (a service
    account's) or `work` (team, languages, products, capacity: what the allocator reads)."""
    operator = await _admin(request)
    if not isinstance(operator, Operator):
        return operator
    if change not in CHANGES:
        return forbidden(request, operator)
    form = await request.form()
    t = translator(operator.language)
    try:
        if change == "active":
            active = str(form.get("active", "")) == "on"
            if not active and person_id == operator.staff:
                raise staff.StaffError("you cannot disable yourself: ask another admin")
            await staff.set_active(db, person_id, active)
            done = t("now_enabled") if active else t("now_disabled")
            return answered("/console/staff", f"{person_id}: {done}")
        if change == "roles":
            names = [str(r) for r in form.getlist("roles")]
            if person_id == operator.staff and Role.ADMIN not in names:
                raise staff.StaffError("you cannot take the admin role from yourself")
            await staff.set_roles(db, person_id, names)
            return answered("/console/staff", f"{person_id}: {t('roles_set')}")
        if change == "work":
            await staff.set_work(
                db,
                person_id,
                team=str(form.get("team", "")),
                languages=str(form.get("languages", "")).split(","),
                products=str(form.get("products", "")).split(","),
                capacity=_capacity(str(form.get("capacity", ""))),
            )
            return answered("/console/staff", f"{person_id}: {t('work_set')}")
        if change == "password":
            password = await staff.reset_password(db, person_id)
            shown = Shown(person_id, "one_time_password", password)
            return await _directory(request, operator, db, shown=shown)
        return await _service_token(request, operator, db, person_id, form)
    except staff.StaffError as error:
        return await _directory(
            request, operator, db, status_code=400, errors={f"{change}:{person_id}": str(error)}
        )


async def _service_token(
    request: Request, operator: Operator, db: Database, person_id: str, form: Any
) -> HTMLResponse:
    """A service account has no password to sign in with: its token is made here."""
    row = await staff.find(db, person_id)
    if row is None or row.kind != "service":
        raise staff.StaffError(f"{person_id} is not a service account: people make their own")
    try:
        name = str(form.get("name", ""))[:MAX_TOKEN_NAME]
        issued = await signin.issue_token(
            db, person_id, name, days=_days(str(form.get("days", "")))
        )
    except ValueError as error:
        raise staff.StaffError(str(error)) from None
    return await _directory(request, operator, db, shown=Shown(person_id, "token", issued.token))


def _capacity(raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise staff.StaffError(f"a capacity is 0 to {staff.MAX_CAPACITY} open tasks")
    return int(text)


def _days(raw: str) -> int:
    text = raw.strip() or str(signin.TOKEN_DAYS)
    if not (text.isascii() and text.isdigit()):
        raise ValueError("a token lives 1 to 366 days")
    return int(text)


# --- one's own tokens ----------------------------------------------------------------------------


async def _tokens(
    request: Request,
    operator: Operator,
    db: Database,
    *,
    status_code: int = 200,
    error: str = "",
    typed: dict[str, str] | None = None,
    issued: signin.IssuedToken | None = None,
) -> HTMLResponse:
    page = render(
        request,
        "tokens.html",
        operator,
        status_code=status_code,
        rows=await signin.tokens_of(db, operator.staff),
        error=error,
        typed=typed or {},
        issued=issued,
        default_days=signin.TOKEN_DAYS,
    )
    return _secret_page(page) if issued else page


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, db: DatabaseDep) -> Response:
    operator = await signed_in(request)
    if not operator.may(PAGES["tokens"]):
        return forbidden(request, operator)
    return await _tokens(request, operator, db)


@router.post("/tokens", response_class=HTMLResponse)
async def new_token(request: Request, db: DatabaseDep) -> Response:
    operator = await signed_in(request)
    if not operator.may(PAGES["tokens"]):
        return forbidden(request, operator)
    typed = await posted(request)
    try:
        days, name = _days(typed.get("days", "")), typed.get("name", "")
        if len(name) > MAX_TOKEN_NAME:
            raise ValueError(f"a token's name is at most {MAX_TOKEN_NAME} characters")
        issued = await signin.issue_token(db, operator.staff, name, days=days)
    except ValueError as error:
        return await _tokens(request, operator, db, status_code=400, error=str(error), typed=typed)
    return await _tokens(request, operator, db, issued=issued)


@router.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(request: Request, token_id: str, db: DatabaseDep) -> Response:
    """Only one's own: another person's token id is answered as no such live token."""
    operator = await signed_in(request)
    if not operator.may(PAGES["tokens"]):
        return forbidden(request, operator)
    t = translator(operator.language)
    if await signin.revoke_token(db, token_id, owner=operator.staff):
        return answered("/console/tokens", f"{token_id}: {t('token_revoked')}")
    return answered("/console/tokens", f"{t('error')}: no live token {token_id[:40]} of yours")
