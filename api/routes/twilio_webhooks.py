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
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from api.deps import DatabaseDep, SettingsDep, get_gateway, get_gateway_or_none
from api.errors import http_error
from config.settings import Settings
from models.contracts import ContactOutcome
from models.messaging import CALLBACK_KEY_PARAM, DeliveryStatusInput
from models.people import Actor
from models.privacy import mask_phone
from operations import cases
from operations.answers import Answer, Outcome
from operations.gateway import RETRY_AFTER_SECONDS, Gateway
from readmodel import queries
from readmodel.delivery import apply_delivery_status

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
GatewayOrNone = Annotated[Gateway | None, Depends(get_gateway_or_none)]


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
    request: Request, form: SignedForm, db: DatabaseDep, gateway: GatewayOrNone
) -> Response:
    """A message's or call's status: recorded on its attempt, then signalled to its case."""
    report = DeliveryStatusInput(
        status=form.get("MessageStatus") or form.get("CallStatus") or "",
        provider_id=form.get("MessageSid") or form.get("CallSid") or "",
        idempotency_key=request.query_params.get(CALLBACK_KEY_PARAM, ""),
        error_code=_int_or_none(form.get("ErrorCode", "")),
        duration_seconds=_int_or_none(form.get("CallDuration", "")),
    )
    applied = await apply_delivery_status(db, report=report)
    if applied is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if gateway is None:
        # The row is recorded; only the case misses this report. Twilio's debugger shows it.
        log.warning("status of %s recorded, Temporal unreachable", applied.outcome.idempotency_key)
    twilio = get_gateway(gateway).acting(Actor("twilio", via="webhook"))
    await _signal(twilio, applied.case_id, applied.outcome)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/inbound")
async def inbound_sms(form: SignedForm, db: DatabaseDep, gateway: GatewayOrNone) -> Response:
    """A customer's reply: an opt-out or opt-in keyword reaches each of their open cases.

    Twilio blocks a STOPped number itself; recording it here keeps the case from even trying.
    The answer is always empty TwiML: no reply text, which could carry personal data.
    """
    sender = mask_phone(form.get("From", ""))
    keyword = normalize(form.get("Body", ""))
    if keyword not in OPT_OUT and keyword not in OPT_IN:
        log.info("inbound SMS from %s: no keyword", sender)
        return _twiml()
    opt_in = keyword in OPT_IN
    open_cases = await queries.open_cases_for_mobile(db, mobile=form.get("From", ""))
    if not open_cases:
        log.info("inbound %s from %s: no open case has this number", keyword, sender)
        return _twiml()
    reachable = get_gateway(gateway).acting(Actor("customer", via="sms reply"))
    try:
        async with asyncio.timeout(UPDATE_TIMEOUT):
            reached = await asyncio.gather(
                *(_reply(reachable, c, keyword, opt_in=opt_in) for c in open_cases)
            )
    except TimeoutError:
        reached = [False]
    if not all(reached):
        # The updates that did arrive are idempotent: a repeated keyword changes nothing twice.
        log.warning("inbound %s from %s: not every open case was reached", keyword, sender)
        raise _unreachable("could not reach the case")
    return _twiml()


def normalize(body: str) -> str:
    """A message as a keyword: full-width forms folded, trimmed, upper case."""
    text = unicodedata.normalize("NFKC", body).strip()
    return text.strip(".!?,;:。！？，；： ").upper()


# A refusal, a closed or a vanished case is an answer: Twilio need not send the report again.
_ANSWERED = frozenset({Outcome.ACCEPTED, Outcome.REFUSED, Outcome.CLOSED, Outcome.NOT_FOUND})


def _unreachable(message: str) -> HTTPException:
    return http_error(Answer(Outcome.UNREACHABLE, message=message, retry_after=RETRY_AFTER_SECONDS))


async def _signal(gateway: Gateway, case_id: str, outcome: ContactOutcome) -> None:
    signalled = await cases.report_contact_outcome(gateway, case_id, outcome)
    if signalled.outcome not in _ANSWERED:
        log.warning("status of %s not signalled: %s", outcome.idempotency_key, signalled.outcome)
        raise _unreachable("could not reach the case")
    if not signalled.ok:
        log.info("status of %s: case %s is closed or gone", outcome.idempotency_key, case_id)


async def _reply(gateway: Gateway, case_id: str, keyword: str, *, opt_in: bool) -> bool:
    """False when the case could not be reached; a refusal or a closed case is an answer."""
    reply = await cases.customer_replied(gateway, case_id, opt_in=opt_in, keyword=keyword)
    log.info("%s on %s: %s %s", keyword, case_id, reply.outcome, reply.message)
    return reply.outcome in _ANSWERED


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")
