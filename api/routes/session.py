"""Browser sign-in for the API's own users (the Temporal Web UI's codec calls): the console's
sign-in, whose session cookie the codec endpoint accepts too."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import RedirectResponse, Response

router = APIRouter(tags=["session"])


@router.get("/signin", include_in_schema=False)
async def signin() -> Response:
    """To the console's sign-in; once signed in, the Web UI's codec calls carry the session
    (with "Include cross-origin credentials" on in its data encoder settings)."""
    return RedirectResponse("/console/signin?next=/console/cases", status.HTTP_303_SEE_OTHER)
