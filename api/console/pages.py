"""What every page of the console shares: the templates, rendering, the signed-in operator,
who opens which page, and the forbidden, refusal and answered responses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import errors
from api.auth import SESSION_COOKIE
from api.console.clock import clock, day
from api.console.forms import FormError
from api.console.i18n import DEFAULT_LANGUAGE, LANGUAGES, STAGES, next_action, translator
from api.deps import get_database, get_gateway, get_gateway_or_none, get_settings
from models.case_events import entry_text
from models.contracts import ActionResult
from models.money import money
from operations import signin
from operations.answers import Answer, Outcome
from operations.departments import READERS
from operations.gateway import Gateway
from operations.roles import Role
from operations.staff import Person
from readmodel import queries
from readmodel.engine import Database

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["money"] = money
templates.env.globals["next_action"] = next_action
templates.env.filters["entry_text"] = lambda e: entry_text(e.kind, e.detail, e.data)
templates.env.filters["unquote"] = unquote
templates.env.filters["clock"] = clock
templates.env.filters["day"] = day

LANGUAGE_COOKIE = "collections_lang"
FLASH_COOKIE = "collections_flash"

COLLECTORS = frozenset({Role.OPERATIONS, Role.SUPERVISOR})
EVERYONE = frozenset(Role)
# Who opens which page; the inboxes follow the API's own readers.
PAGES: dict[str, frozenset[Role]] = {
    "cases": EVERYONE - {Role.ADMIN},
    "tasks": COLLECTORS,
    "risk": READERS["risk"],
    "legal": READERS["legal"],
    "dashboard": EVERYONE - {Role.ADMIN},
    "approvals": frozenset({Role.SUPERVISOR}),
    "complaints": frozenset({Role.SUPERVISOR}),
    "staff": frozenset({Role.ADMIN}),
    "tokens": EVERYONE,
}
# The role an API function is called as, when a person holds several: the one that sees the most.
ROLE_ORDER = (Role.SUPERVISOR, Role.OPERATIONS, Role.RISK, Role.LEGAL, Role.ENGINEER, Role.ADMIN)


def same_site_forms(request: Request) -> None:
    """Refuses a form posted from another site's page, behind the `SameSite=Strict` cookie (which
    older or misconfigured browsers may not honour). A browser names the page a form came from
    (`Origin`, else `Referer`); a page of this console has this host (or the host a balancer
    says it forwarded). A request that names no page is not a browser's form: its key decides."""
    if request.method != "POST":
        return
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")} - {None}
    if urlsplit(source).netloc not in hosts:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a form posted from another site")


@dataclass(frozen=True)
class Operator:
    """The person signed in to this browser (`person.id` is what every record names)."""

    person: Person
    language: str

    @property
    def roles(self) -> frozenset[Role]:
        return self.person.roles

    @property
    def staff(self) -> str:
        return self.person.id

    def may(self, allowed: frozenset[Role]) -> bool:
        return bool(self.roles & allowed)

    def acting_as(self, allowed: frozenset[Role] = EVERYONE) -> Role:
        return next(role for role in ROLE_ORDER if role in self.roles and role in allowed)


class SignInFirst(Exception):
    def __init__(self, path: str, *, change_password: bool = False) -> None:
        self.path = path
        self.change_password = change_password


def _language(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


async def signed_in(request: Request, *, changing_password: bool = False) -> Operator:
    """The person of this browser's live session; else to the sign-in page (and, while their
    password is a one-time one, to the page that changes it)."""
    person = await signin.session_person(
        get_database(request), request.cookies.get(SESSION_COOKIE, "")
    )
    if person is None:
        raise SignInFirst(request.url.path)
    if person.must_change_password and not changing_password:
        raise SignInFirst(request.url.path, change_password=True)
    request.state.person, request.state.via = person, "console"
    return Operator(person=person, language=_language(request))


async def sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInFirst)
    page = "/console/password" if exc.change_password else "/console/signin"
    return RedirectResponse(f"{page}?{urlencode({'next': exc.path})}", status.HTTP_303_SEE_OTHER)


def render(
    request: Request,
    template: str,
    operator: Operator | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = operator.language if operator else _language(request)
    nav = [page for page, who in PAGES.items() if operator and operator.may(who)]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "op": operator,
            "t": translator(language),
            "language": language,
            "nav": nav,
            "path": request.url.path,
            "flash": request.cookies.get(FLASH_COOKIE, ""),
            "stages": STAGES,
            "training": get_settings(request).training,  # a trainee's stack: the banner
            **context,
        },
        status_code=status_code,
    )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/console")
    return response


def forbidden(request: Request, operator: Operator) -> HTMLResponse:
    return render(request, "forbidden.html", operator, status_code=status.HTTP_403_FORBIDDEN)


def refusal(error: FormError | HTTPException, operator: Operator) -> tuple[int, str]:
    """The status and the message to show beside the form: the console's own reading of a
    field, or the API's (the workflow's) refusal as it stands."""
    if isinstance(error, FormError):
        t = translator(operator.language)
        return status.HTTP_400_BAD_REQUEST, f"{t(error.field)}: {t(error.reason)}"
    return error.status_code, str(error.detail)


def answered(to: str, message: str) -> RedirectResponse:
    """Back to the page, with the workflow's answer shown there once."""
    response = RedirectResponse(to, status.HTTP_303_SEE_OTHER)
    response.set_cookie(FLASH_COOKIE, quote(message), path="/console", httponly=True)
    return response


def said(answer: Answer[ActionResult]) -> str:
    """What the workflow answered an action, or that the action waits for a second person;
    any other answer is raised as the API's error (the form shows it)."""
    if answer.outcome is Outcome.AWAITING_APPROVAL:
        return answer.message
    return errors.answered(answer).message


def gateway_of(request: Request, operator: Operator) -> Gateway:
    """The API's gateway acting for the signed-in operator (503 while Temporal is unreachable),
    asked for only once the operator is known to be signed in and allowed: a signed-out browser
    is sent to sign in either way."""
    gateway = get_gateway(get_gateway_or_none(request))
    return gateway.acting(operator.person.actor("console"))


async def currency_of(
    db: Database, *, task_key: str | None = None, handoff_key: str | None = None
) -> str:
    """The currency of the account whose case holds the task or handoff: amounts on its
    forms are typed in it."""
    found = await queries.case_currency(db, task_key=task_key, handoff_key=handoff_key)
    return found or "CNY"
