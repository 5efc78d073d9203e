"""Twilio's webhooks: delivery status callbacks, and inbound SMS (STOP, 退订, START ...).

Every request must carry a valid `X-Twilio-Signature` (HMAC-SHA1 over the URL Twilio called
and the form fields, keyed with TWILIO_AUTH_TOKEN); anything else is a 403 and changes
nothing. Without TWILIO_AUTH_TOKEN (the local outbox mode) both answer 503: an unsigned
request is never taken.

The signed URL is the public one. Behind a proxy or load balancer the request's own URL names
the internal host (and often plain http), which Twilio never signed, so the public scheme, host
and path prefix are taken from TWILIO_STATUS_CALLBACK_URL, the address Twilio is given for this
API: `https://<public host>[/<prefix>]/webhooks/twilio/status`. The inbound SMS URL configured
on the number must use the same base (`.../webhooks/twilio/inbound`). Without that setting the
request's own URL is used, which is right only when the API is reached directly.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from sqlmodel import col, select
from starlette.datastructures import ImmutableMultiDict
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from activities.messaging.delivery import DeliveryStatusInput, apply_delivery_status
from activities.messaging.privacy import mask_phone
from activities.messaging.senders import CALLBACK_KEY_PARAM
from api.deps import DatabaseDep, SettingsDep, get_temporal_or_none
from api.errors import unavailable
from config.settings import Settings
from models.contracts import ActionResult, ChannelInput, ContactOutcome, Stage
from models.strategy import Channel
from readmodel.engine import Database
from readmodel.tables import CaseRow, CustomerRow

log = logging.getLogger(__name__)

PREFIX = "/webhooks/twilio"
STATUS_PATH = PREFIX + "/status"
INBOUND_PATH = PREFIX + "/inbound"

# Twilio gives up on a webhook after 15 s; answer before it does.
UPDATE_TIMEOUT = 10.0

# Whole messages only (trimmed, any case): "YES" opts in, "YES PLEASE" is just a reply.
# Twilio's standard keywords, and the ones Chinese carriers use.
_TWILIO_OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
_CHINA_OPT_OUT = {"TD", "T", "退订", "取消", "退订短信"}
OPT_OUT = frozenset(_TWILIO_OPT_OUT | _CHINA_OPT_OUT)
OPT_IN = frozenset({"START", "UNSTOP", "YES", "订阅"})

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

Form = ImmutableMultiDict[str, str]
TemporalOrNone = Annotated[Client | None, Depends(get_temporal_or_none)]


def public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as it signed it (see the module docstring)."""
    if not settings.status_callback_url:
        return str(request.url)
    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]  # a prefix the proxy strips is in the configured URL already
    query = f"?{request.url.query}" if request.url.query else ""
    base = urlsplit(settings.status_callback_url)
    prefix = base.path.removesuffix(STATUS_PATH) if base.path.endswith(STATUS_PATH) else ""
    return f"{base.scheme}://{base.netloc}{prefix}{path}{query}"


async def signed_form(request: Request, settings: SettingsDep) -> Form:
    """The form fields of a request Twilio signed; 503 unconfigured, 403 otherwise."""
    token = settings.twilio_auth_token
    if token is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Twilio is not configured")
    try:
        form: Form = ImmutableMultiDict(
            parse_qsl((await request.body()).decode(), keep_blank_values=True)
        )
    except UnicodeDecodeError:
        form = ImmutableMultiDict()
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_url(settings, request)
    if not signature or not RequestValidator(token.get_secret_value()).validate(
        url, form, signature
    ):
        log.warning("twilio webhook %s: missing or wrong signature; refused", request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid Twilio signature")
    return form


SignedForm = Annotated[Form, Depends(signed_form)]

router = APIRouter(prefix=PREFIX, tags=["twilio"])


@router.post("/status", status_code=status.HTTP_204_NO_CONTENT)
async def delivery_status(
    request: Request, form: SignedForm, db: DatabaseDep, client: TemporalOrNone
) -> Response:
    """A message's or call's status: recorded on its attempt, then signalled to its case."""
    report = DeliveryStatusInput(
        status=form.get("MessageStatus") or form.get("CallStatus") or "",
        provider_id=form.get("MessageSid") or form.get("CallSid") or "",
        idempotency_key=request.query_params.get(CALLBACK_KEY_PARAM, ""),
        error_code=_int_or_none(form.get("ErrorCode", "")),
    )
    applied = await apply_delivery_status(db, report)
    if applied is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if client is None:
        # The row is recorded; only the case misses this report. Twilio's debugger shows it.
        log.warning("status of %s recorded, Temporal unreachable", applied.outcome.idempotency_key)
        raise unavailable("Temporal is unreachable")
    await _signal(client, applied.case_id, applied.outcome)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/inbound")
async def inbound_sms(form: SignedForm, db: DatabaseDep, client: TemporalOrNone) -> Response:
    """A customer's reply: an opt-out or opt-in keyword reaches each of their open cases.

    Twilio blocks a STOPped number itself; recording it here keeps the case from even trying.
    The answer is always empty TwiML: no reply text, which could carry personal data.
    """
    sender = mask_phone(form.get("From", ""))
    keyword = normalize(form.get("Body", ""))
    update = "opt_out" if keyword in OPT_OUT else "opt_in" if keyword in OPT_IN else None
    if update is None:
        log.info("inbound SMS from %s: no keyword", sender)
        return _twiml()
    cases = await open_cases_for_mobile(db, mobile=form.get("From", ""))
    if not cases:
        log.info("inbound %s from %s: no open case has this number", update, sender)
        return _twiml()
    if client is None:
        raise unavailable("Temporal is unreachable")
    req = ChannelInput(channel=Channel.SMS, reason=f"customer replied {keyword}")
    try:
        async with asyncio.timeout(UPDATE_TIMEOUT):
            reached = await asyncio.gather(*(_update(client, c, update, req) for c in cases))
    except TimeoutError:
        reached = [False]
    if not all(reached):
        # The updates that did arrive are idempotent: a repeated keyword changes nothing twice.
        log.warning("inbound %s from %s: not every open case was reached", update, sender)
        raise unavailable("could not reach the case")
    return _twiml()


def normalize(body: str) -> str:
    """A message as a keyword: full-width forms folded, trimmed, upper case."""
    text = unicodedata.normalize("NFKC", body).strip()
    return text.strip(".!?,;:。！？，；： ").upper()


async def open_cases_for_mobile(db: Database, *, mobile: str) -> list[str]:
    """Ids of the cases not closed whose customer has `mobile`."""
    if not mobile:
        return []
    query = (
        select(CaseRow.case_id)
        .join(CustomerRow, col(CustomerRow.customer_ref) == col(CaseRow.customer_ref))
        .where(
            CustomerRow.mobile == mobile,
            col(CaseRow.stage) != Stage.CLOSED.value,
            col(CaseRow.closed_reason).is_(None),
        )
        .order_by(col(CaseRow.case_id))
    )
    async with db.session() as s:
        return list((await s.exec(query)).all())


async def _signal(client: Client, case_id: str, outcome: ContactOutcome) -> None:
    try:
        await client.get_workflow_handle(case_id).signal("contact_outcome", outcome)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            log.warning("status of %s not signalled: %s", outcome.idempotency_key, error.status)
            raise unavailable("could not reach the case") from None
        log.info("status of %s: case %s is closed or gone", outcome.idempotency_key, case_id)


async def _update(client: Client, case_id: str, update: str, req: ChannelInput) -> bool:
    """False when the case could not be reached; a refusal or a closed case is an answer."""
    handle = client.get_workflow_handle(case_id)
    try:
        result = await handle.execute_update(update, req, result_type=ActionResult)
    except WorkflowUpdateFailedError as error:
        log.info("%s on %s refused: %s", update, case_id, error.cause)
        return True
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            log.warning("%s on %s failed: %s", update, case_id, error.status)
            return False
        log.info("%s on %s: the case is closed or gone", update, case_id)
        return True
    log.info("%s on %s: %s", update, case_id, result.message)
    return True


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")
