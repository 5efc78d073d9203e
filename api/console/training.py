"""`/console/training`, in a trainee's stack only (`COLLECTIONS_TRAINING`; elsewhere the page
does not exist): on each synthetic case, the trainee's outcome beside the senior's, whether
they match, and the score (`operations.training.compare`). Accounts show their last four
digits; nothing else of a case is on the page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from api.console.pages import PAGES, forbidden, render, signed_in
from api.deps import DatabaseDep, SettingsDep
from operations import training
from readmodel.training import recorded_answers

router = APIRouter()


@router.get("/training", response_class=HTMLResponse)
async def training_page(request: Request, settings: SettingsDep, db: DatabaseDep) -> HTMLResponse:
    if not settings.training:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this is not a training stack")
    operator = await signed_in(request)
    if not operator.may(PAGES["tasks"]):
        return forbidden(request, operator)
    path = training.answers_path(settings)
    try:
        sheet = training.read_answers(await asyncio.to_thread(path.read_bytes))
    except (OSError, training.TrainingError) as error:
        message = f"{path}: {getattr(error, 'strerror', None) or error}"
        return render(request, "error.html", operator, status_code=500, message=message)
    result = training.compare(sheet.cases, await recorded_answers(db, by=settings.training))
    return render(
        request,
        "training.html",
        operator,
        result=result,
        checks=training.CHECKS * len(result.cases),
        senior=sheet.by,
        trainee=settings.training,
    )
