"""Senders: Twilio (the real client, pointed at Twilio or at a local fake) and the local outbox.

A sender makes exactly one provider call per `send` and never retries on its own: retries belong
to Temporal, and only the activity knows whether a retry may send again. Errors say whether the
provider may have accepted the message (`maybe_sent`), because that decides what a retry must do.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from pydantic import SecretStr
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from models.contracts import AttemptStatus
from models.messaging import CALLBACK_KEY_PARAM, twilio_status
from models.privacy import mask_numbers, mask_phone
from models.strategy import Channel

log = logging.getLogger(__name__)

# Errors that no retry will fix; the workflow branches on the code.
PERMANENT_REASONS = {
    20003: "authentication failed",
    21211: "invalid number",
    21408: "region not enabled",
    21610: "unsubscribed",
    21612: "no route to number",
    21614: "not a mobile number",
}


@dataclass(frozen=True)
class ProviderReceipt:
    provider_id: str
    status: AttemptStatus
    created_at: datetime | None = None


class SendError(Exception):
    """Base class; messages never contain a phone number in clear."""


class PermanentSendError(SendError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"provider refused for good: {code} {reason}")
        self.code = code
        self.reason = reason


class TransientSendError(SendError):
    """Worth retrying. `maybe_sent`: the provider may have accepted it despite the error.
    `code` is the error's class for metrics: `429`, `408`, `5xx`, `connect`, `lost`, `list` ("":
    none of the provider's: the activity's own wait)."""

    def __init__(self, reason: str, *, maybe_sent: bool, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_sent = maybe_sent
        self.code = code


class Sender(Protocol):
    async def send(
        self, *, channel: Channel, to: str, body: str, idempotency_key: str
    ) -> ProviderReceipt:
        """One provider call. Raises `PermanentSendError` or `TransientSendError`."""
        ...

    async def find_sent(
        self, *, channel: Channel, to: str, body: str, since: datetime
    ) -> Sequence[ProviderReceipt]:
        """What the provider holds for `to` created since `since` (with this body, for SMS;
        every call, queued or started, for voice), oldest first; used to settle an attempt
        whose outcome was lost. Raises `TransientSendError` when the provider cannot say."""
        ...


class OutboxSender:
    """The embedded default without Twilio: the attempts table is the outbox; this logs it."""

    async def send(
        self, *, channel: Channel, to: str, body: str, idempotency_key: str
    ) -> ProviderReceipt:
        log.info(
            "outbox %s to %s [%s]: %s", channel, mask_phone(to), idempotency_key, mask_numbers(body)
        )
        return ProviderReceipt(provider_id=f"outbox-{idempotency_key}", status=AttemptStatus.SENT)

    async def find_sent(
        self, *, channel: Channel, to: str, body: str, since: datetime
    ) -> Sequence[ProviderReceipt]:
        return ()  # nothing leaves the machine, so a resend cannot reach a customer twice


class RoutedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client, with three changes.

    - `base_url` replaces scheme and host of every request (Twilio's region/edge settings only
      move between twilio.com hosts; a sandbox or a local fake needs this).
    - A real total timeout: the parent passes `None` to aiohttp, which then waits forever.
    - No retries (the parent's `max_retries` would resend a POST) and no request logging at
      INFO (the parent logs query strings, which carry phone numbers).
    """

    def __init__(self, base_url: str | None = None, timeout: float = 10.0) -> None:
        super().__init__(pool_connections=True, timeout=timeout, max_retries=None)
        self._base = urlsplit(base_url) if base_url else None

    def route(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the parent's signature
        allow_redirects: bool = False,
    ) -> Response:
        total = timeout if timeout is not None else self.timeout
        headers = dict(headers or {})
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        target = self.route(url)
        log.debug("twilio %s %s", method.upper(), urlsplit(target).path)
        async with self.session.request(
            method=method.upper(),
            url=target,
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=total, connect=total),
            allow_redirects=allow_redirects,
        ) as response:
            text = await response.text()
        log.debug("twilio %s answered %s", urlsplit(target).path, response.status)
        return Response(response.status, text, response.headers)


class TwilioSender:
    """SMS through `messages.create_async`, voice through `calls.create_async(twiml=...)`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str | SecretStr,
        from_number: str,
        base_url: str | None = None,
        status_callback_url: str | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = (
            auth_token if isinstance(auth_token, SecretStr) else SecretStr(auth_token)
        )
        self._from = from_number
        self._base_url = base_url or None
        self._callback = status_callback_url or None
        self._timeout = timeout
        self._http: RoutedHttpClient | None = None
        self._client: Any = None

    def _twilio(self) -> Any:
        # Built on first use, inside the event loop that owns the aiohttp session.
        if self._client is None:
            self._http = RoutedHttpClient(self._base_url, self._timeout)
            self._client = Client(
                self._account_sid,
                self._auth_token.get_secret_value(),
                http_client=self._http,
                environment={},  # settings come from config.settings, never from os.environ here
            )
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    def status_callback_for(self, idempotency_key: str) -> str | None:
        if self._callback is None:
            return None
        sep = "&" if urlsplit(self._callback).query else "?"
        return f"{self._callback}{sep}{urlencode({CALLBACK_KEY_PARAM: idempotency_key})}"

    async def send(
        self, *, channel: Channel, to: str, body: str, idempotency_key: str
    ) -> ProviderReceipt:
        client = self._twilio()
        extra: dict[str, Any] = {}
        callback = self.status_callback_for(idempotency_key)
        if callback:
            extra["status_callback"] = callback
        try:
            if channel == Channel.VOICE:
                record = await client.calls.create_async(
                    to=to, from_=self._from, twiml=body, **extra
                )
            else:
                record = await client.messages.create_async(
                    to=to, from_=self._from, body=body, **extra
                )
        except TwilioRestException as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            # No connection was made, so no request reached Twilio.
            raise TransientSendError(
                "could not connect to twilio", maybe_sent=False, code="connect"
            ) from None
        except (aiohttp.ClientError, TimeoutError, ValueError, TwilioException) as exc:
            raise TransientSendError(
                f"twilio's answer was lost ({type(exc).__name__})", maybe_sent=True, code="lost"
            ) from None
        receipt = ProviderReceipt(
            provider_id=str(record.sid),
            status=twilio_status(channel, str(record.status)) or AttemptStatus.QUEUED,
            created_at=record.date_created,
        )
        log.info(
            "twilio accepted %s to %s as %s [%s]",
            channel,
            mask_phone(to),
            receipt.provider_id,
            idempotency_key,
        )
        return receipt

    async def find_sent(
        self, *, channel: Channel, to: str, body: str, since: datetime
    ) -> Sequence[ProviderReceipt]:
        client = self._twilio()
        try:
            if channel == Channel.VOICE:
                records = await self._calls_since(client, to, since)
            else:
                records = await client.messages.list_async(to=to, from_=self._from, limit=20)
        except (TwilioException, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransientSendError(
                f"could not list twilio's records ({type(exc).__name__})",
                maybe_sent=True,
                code="list",
            ) from None
        found = [
            ProviderReceipt(
                str(r.sid),
                twilio_status(channel, str(r.status)) or AttemptStatus.QUEUED,
                r.date_created,
            )
            for r in records
            if r.date_created is not None
            and r.date_created >= since
            and (channel == Channel.VOICE or r.body == body)
        ]
        return sorted(found, key=lambda r: r.created_at or since)

    async def _calls_since(self, client: Any, to: str, since: datetime) -> list[Any]:
        """The calls to `to` from our number that started since `since`, and those still
        queued: Twilio filters calls by their start, and a queued call has not started yet.
        The queued ones are asked for first, so a call that starts between the two requests
        is in one answer or the other (a call created after the first request is not one we
        are looking for: the activity waits out any request still in flight)."""
        queued = await client.calls.list_async(to=to, from_=self._from, status="queued", limit=50)
        started = await client.calls.list_async(
            to=to, from_=self._from, start_time_after=since.astimezone(UTC), limit=50
        )
        return list({r.sid: r for r in [*queued, *started]}.values())


def _classify(exc: TwilioRestException) -> SendError:
    status = int(exc.status)
    code = int(exc.code) if isinstance(exc.code, int) else status
    if status == 429:
        return TransientSendError("twilio rate limit (429)", maybe_sent=False, code="429")
    if status >= 500 or status == 408:
        return TransientSendError(
            f"twilio server error ({status})",
            maybe_sent=True,
            code="5xx" if status >= 500 else str(status),
        )
    return PermanentSendError(code, PERMANENT_REASONS.get(code, f"rejected ({status})"))
