"""The web console: server-rendered pages over the application layer, one module per concern
(`signin`, `sso`, `cases`, `tasks`, `inboxes`, `dashboard`, `approvals`, `complaints`,
`admin`, sharing
`pages`), composed here.

Every action a page takes is a row of the same catalogue its API route is made from
(`operations.catalogue.CASE_ACTIONS`, `operations.departments.HANDOFF_ANSWERS`) and goes
through the same use cases (`operations.cases`, `operations.departments`), so the console
follows the same rules and the workflows' validators refuse bad input for both; a refusal
is shown beside the form that caused it, with what was typed kept. After an action the page
redirects (post/redirect/get) and shows the workflow's answer once, so a reload never sends
an action twice.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.console import (
    admin,
    approvals,
    cases,
    complaints,
    dashboard,
    inboxes,
    signin,
    sso,
    tasks,
    work,
)
from api.console.pages import SignInFirst, same_site_forms, sign_in_first
from api.console.training import router as training_router

__all__ = ["SignInFirst", "router", "sign_in_first"]


def _console() -> APIRouter:
    """One router under `/console`; a form posted from another site is refused on every page."""
    console = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_forms)])
    for page in (signin, sso, cases, tasks, work, inboxes, dashboard, approvals, complaints, admin):
        console.include_router(page.router, prefix="/console")
    console.include_router(training_router, prefix="/console")  # 404 unless training
    return console


router = _console()
