"""A local fake of Twilio's REST API (Messages and Calls), served by uvicorn in a thread.

    with FakeTwilio() as fake:            # listens on 127.0.0.1:<free port>
        sender = TwilioSender(fake.account_sid, fake.auth_token, "+15005550006",
                              base_url=fake.base_url, status_callback_url=sink.url)
        fake.fail_next(1, status=429)     # then: fake.messages, fake.callbacks ...

Responses have Twilio's shapes (sids `SM...`/`CA...`, RFC 2822 dates, error JSON with code,
message, more_info, status); requests need HTTP basic auth with the account sid and token.
Every accepted message or call is recorded, so tests can assert exactly-once. Lists are
filtered by To and From (calls also by Status and by StartTime, StartTime> and StartTime<),
newest first, paged. A call is `queued` with no start time until its first status callback
moves it on (it stays queued when it has no StatusCallback); as on Twilio, a call that has
not started is left out of any StartTime filter. Faults (`fail_next`, `fail_fraction`,
`lose_next_responses`) and slowness (`delay_next`) apply to creates; `fail_fraction` and
`fail_next_lists` to lists as well; fetch always answers. Status callbacks are form posts to
the StatusCallback URL, signed with X-Twilio-Signature (HMAC-SHA1 of URL and params with the
auth token, as Twilio does). `CallbackSink` is a receiver for them.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from twilio.request_validator import RequestValidator

from tests.fakes.server import DROP_HEADER, BackgroundServer, DropConnection

API = "/2010-04-01"
LostMode = Literal["500", "drop", "hang"]
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_NUMBER_ERRORS = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
# Twilio answers these to messages only: an unsubscribed or landline number still takes calls.
_MESSAGING_ONLY = {21610, 21614}


@dataclass
class Record:
    """An accepted message or call: `resource` is the JSON Twilio would return for it."""

    kind: Literal["message", "call"]
    sid: str
    to: str
    from_: str
    body: str  # the SMS text, or the call's TwiML
    status_callback: str | None
    resource: dict[str, Any]
    created_at: datetime
    started_at: datetime | None = None  # a call's start: None while it is queued
    answered: int = 201  # the HTTP status its create was answered with (a lost answer: 500)


@dataclass(frozen=True)
class Callback:
    """A status callback the fake posted, and what the receiver answered (0: unreachable)."""

    url: str
    params: dict[str, str]
    signature: str
    answered: int


@dataclass
class _Knobs:
    fail_next: deque[int] = field(default_factory=deque)
    fail_lists: deque[int] = field(default_factory=deque)
    numbers: dict[str, int] = field(default_factory=dict)
    fraction: float = 0.0
    fraction_status: int = 500
    fraction_accepted: float = 0.0
    fraction_lists: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lost: deque[LostMode] = field(default_factory=deque)
    delays: deque[float] = field(default_factory=deque)
    delivery: dict[str, tuple[str, int | None]] = field(default_factory=dict)


class FakeTwilio:
    """The fake's state, knobs and app. Knobs and records are safe to use from any thread."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "fake-auth-token",
        *,
        callback_delay: float = 0.0,
        hang_seconds: float = 3.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callback_delay = callback_delay
        self.hang_seconds = hang_seconds
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clear()
        self._server = BackgroundServer(DropConnection(self._app()))

    def _clear(self) -> None:
        with self._lock:
            self.callback_order: Literal["normal", "reversed"] = "normal"
            self.callback_copies = 1
            self.messages: list[Record] = []
            self.calls: list[Record] = []
            self.callbacks: list[Callback] = []
            self.create_requests = 0
            self._knobs = _Knobs()

    # --- life -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeTwilio:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cancel_callbacks()
        self._server.stop()

    def reset(self, *, callback_delay: float = 0.0) -> None:
        """Back to a clean state between tests that share one server: no knobs, no records,
        no callback still pending."""
        self._cancel_callbacks()
        self.callback_delay = callback_delay
        self._clear()

    def _cancel_callbacks(self) -> None:
        loop = self._loop
        if loop is not None and self._tasks:
            asyncio.run_coroutine_threadsafe(self._cancel_tasks(), loop).result(timeout=5)

    # --- knobs ------------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 429) -> None:
        """The next `n` creates answer `status` (429 or 5xx) and record nothing."""
        with self._lock:
            self._knobs.fail_next.extend([status] * n)

    def reject_number(self, number: str, code: int) -> None:
        """Creates to `number` answer 400 with Twilio error `code` (21211, 21610, 21614 ...);
        as on Twilio, 21610 and 21614 refuse messages only, calls still go through."""
        with self._lock:
            self._knobs.numbers[number] = code

    def fail_next_lists(self, n: int, status: int = 500) -> None:
        """The next `n` list requests (messages or calls) answer `status` (429 or 5xx)."""
        with self._lock:
            self._knobs.fail_lists.extend([status] * n)

    def fail_fraction(
        self,
        fraction: float,
        *,
        seed: int = 0,
        status: int = 500,
        accepted: float = 0.0,
        lists: bool = True,
    ) -> None:
        """A seeded, hence repeatable, share of requests answers `status`: creates, and list
        requests too unless `lists` is False. A failed create records nothing, except for the
        share `accepted` of them, which are recorded first and only their answer is an error
        (as `lose_next_responses` does)."""
        with self._lock:
            knobs = self._knobs
            knobs.fraction, knobs.fraction_status = fraction, status
            knobs.fraction_accepted, knobs.fraction_lists = accepted, lists
            knobs.rng = random.Random(seed)

    def lose_next_responses(self, n: int, mode: LostMode = "500") -> None:
        """The next `n` creates are accepted and recorded, then the answer is lost: a 500
        ("500"), a connection cut after the headers ("drop"), or no answer for `hang_seconds`
        ("hang"). The nastiest case for exactly-once."""
        with self._lock:
            self._knobs.lost.extend([mode] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """The next `n` creates are slow: counted in `create_requests` on arrival, then
        handled (recorded, or failed by another knob) and answered `seconds` later."""
        with self._lock:
            self._knobs.delays.extend([seconds] * n)

    def set_delivery(self, number: str, status: str, error_code: int | None = None) -> None:
        """The final status callback for `number`: e.g. ("undelivered", 30003) or ("busy")."""
        with self._lock:
            self._knobs.delivery[number] = (status, error_code)

    # --- records ----------------------------------------------------------------------

    def sent_to(self, number: str) -> list[Record]:
        with self._lock:
            return [r for r in [*self.messages, *self.calls] if r.to == number]

    def wait_for_callbacks(self, count: int, timeout: float = 5.0) -> list[Callback]:
        """Blocks (call it in a thread from async tests) until `count` callbacks went out."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.callbacks) >= count:
                    return list(self.callbacks)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.callbacks)} of {count} callbacks after {timeout}s")
            time.sleep(0.02)

    # --- the app ----------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()
        base = API + "/Accounts/{sid}"

        @app.post(base + "/Messages.json")
        async def create_message(sid: str, request: Request) -> Response:
            return await self._create(sid, request, "message")

        @app.post(base + "/Calls.json")
        async def create_call(sid: str, request: Request) -> Response:
            return await self._create(sid, request, "call")

        @app.get(base + "/Messages.json")
        async def list_messages(sid: str, request: Request) -> Response:
            return self._list(sid, request, "messages", self.messages)

        @app.get(base + "/Calls.json")
        async def list_calls(sid: str, request: Request) -> Response:
            return self._list(sid, request, "calls", self.calls)

        @app.get(base + "/Messages/{item}.json")
        async def fetch_message(sid: str, item: str, request: Request) -> Response:
            return self._fetch(sid, request, item, self.messages)

        @app.get(base + "/Calls/{item}.json")
        async def fetch_call(sid: str, item: str, request: Request) -> Response:
            return self._fetch(sid, request, item, self.calls)

        return app

    def _authorized(self, sid: str, request: Request) -> bool:
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        header = request.headers.get("authorization", "")
        return sid == self.account_sid and secrets.compare_digest(
            header.encode(), b"Basic " + base64.b64encode(expected)
        )

    async def _create(
        self, sid: str, request: Request, kind: Literal["message", "call"]
    ) -> Response:
        if not self._authorized(sid, request):
            return _error(401, 20003, "Authenticate")
        form = await _form(request)
        to, from_ = form.get("To", ""), form.get("From", "")
        body = form.get("Body", "") if kind == "message" else form.get("Twiml", "")
        with self._lock:
            self.create_requests += 1
            delay = self._knobs.delays.popleft() if self._knobs.delays else 0.0
        if delay:
            await asyncio.sleep(delay)
        with self._lock:
            knobs = self._knobs
            if knobs.fail_next:
                return _server_error(knobs.fail_next.popleft())
            lost: int | LostMode | None = None
            if knobs.fraction and knobs.rng.random() < knobs.fraction:
                accepted = knobs.fraction_accepted
                if not accepted or knobs.rng.random() >= accepted:
                    return _server_error(knobs.fraction_status)
                lost = knobs.fraction_status
            problem = _invalid(kind, to, from_, body, form)
            if problem is not None:
                return problem
            code = knobs.numbers.get(to)
            if code is not None and not (kind == "call" and code in _MESSAGING_ONLY):
                return _error(400, code, _NUMBER_ERRORS.get(code, "Rejected").format(to=to))
            record = self._record(sid, kind, to, from_, body, form.get("StatusCallback"))
            if lost is None and knobs.lost:
                lost = knobs.lost.popleft()
            if isinstance(lost, int) or lost == "500":
                record.answered = int(lost)
        if record.status_callback:
            self._loop = asyncio.get_running_loop()
            task = asyncio.create_task(self._send_callbacks(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if lost == "500":
            return _server_error(500)
        if isinstance(lost, int):
            return _server_error(lost)
        if lost == "hang":
            await asyncio.sleep(self.hang_seconds)
        if lost == "drop":
            return JSONResponse(record.resource, status_code=201, headers={DROP_HEADER: "1"})
        return JSONResponse(record.resource, status_code=201)

    def _record(
        self, sid: str, kind: str, to: str, from_: str, body: str, callback: str | None
    ) -> Record:
        created = datetime.now(UTC)
        now = _rfc2822(created)
        if kind == "message":
            item = "SM" + secrets.token_hex(16)
            uri = f"{API}/Accounts/{sid}/Messages/{item}"
            resource: dict[str, Any] = {
                "account_sid": sid, "api_version": "2010-04-01", "body": body,
                "date_created": now, "date_sent": None, "date_updated": now,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": from_, "messaging_service_sid": None, "num_media": "0",
                "num_segments": "1", "price": None, "price_unit": "USD", "sid": item,
                "status": "queued", "to": to, "uri": uri + ".json",
                "subresource_uris": {"media": uri + "/Media.json"},
            }  # fmt: skip
            record = Record("message", item, to, from_, body, callback, resource, created)
            self.messages.append(record)
        else:
            item = "CA" + secrets.token_hex(16)
            uri = f"{API}/Accounts/{sid}/Calls/{item}"
            resource = {
                "account_sid": sid, "annotation": None, "answered_by": None,
                "api_version": "2010-04-01", "caller_name": None, "date_created": now,
                "date_updated": now, "direction": "outbound-api", "duration": None,
                "end_time": None, "forwarded_from": None, "from": from_,
                "from_formatted": from_, "group_sid": None, "parent_call_sid": None,
                "phone_number_sid": None, "price": None, "price_unit": "USD",
                "queue_time": "0", "sid": item, "start_time": None, "status": "queued",
                "to": to, "to_formatted": to, "trunk_sid": None, "uri": uri + ".json",
                "subresource_uris": {"recordings": uri + "/Recordings.json"},
            }  # fmt: skip
            record = Record("call", item, to, from_, body, callback, resource, created)
            self.calls.append(record)
        return record

    def _list(self, sid: str, request: Request, key: str, records: list[Record]) -> Response:
        if not self._authorized(sid, request):
            return _error(401, 20003, "Authenticate")
        query = request.query_params
        size = int(query.get("PageSize", "50"))
        page = int(query.get("Page", "0"))
        with self._lock:
            knobs = self._knobs
            if knobs.fail_lists:
                return _server_error(knobs.fail_lists.popleft())
            if knobs.fraction and knobs.fraction_lists and knobs.rng.random() < knobs.fraction:
                return _server_error(knobs.fraction_status)
            matching = [
                r.resource
                for r in reversed(records)  # newest first, as Twilio lists them
                if query.get("To", r.to) == r.to
                and query.get("From", r.from_) == r.from_
                and query.get("Status", r.resource["status"]) == r.resource["status"]
                and _started_within(r, query)
            ]
        items = matching[page * size : (page + 1) * size]
        path = f"{API}/Accounts/{sid}/{key.capitalize()}.json"
        more = (page + 1) * size < len(matching)
        return JSONResponse(
            {
                key: items,
                "end": page * size + max(len(items) - 1, 0),
                "first_page_uri": f"{path}?PageSize={size}&Page=0",
                "next_page_uri": f"{path}?PageSize={size}&Page={page + 1}" if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}" if page else None,
                "start": page * size,
                "uri": f"{path}?PageSize={size}&Page={page}",
            }
        )

    def _fetch(self, sid: str, request: Request, item: str, records: list[Record]) -> Response:
        if not self._authorized(sid, request):
            return _error(401, 20003, "Authenticate")
        with self._lock:
            found = next((r.resource for r in records if r.sid == item), None)
        if found is None:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        return JSONResponse(found)

    # --- status callbacks -------------------------------------------------------------

    async def _send_callbacks(self, record: Record) -> None:
        with self._lock:
            final, code = self._knobs.delivery.get(
                record.to, ("delivered" if record.kind == "message" else "completed", None)
            )
        steps = ["sent", final] if record.kind == "message" else [final]
        if self.callback_order == "reversed":
            steps.reverse()
        await asyncio.sleep(self.callback_delay)
        async with httpx.AsyncClient(timeout=5) as client:
            for status in steps:
                params = self._callback_params(record, status, code)
                for _ in range(self.callback_copies):
                    await self._post_signed(client, record, params)

    def _callback_params(self, record: Record, status: str, code: int | None) -> dict[str, str]:
        with self._lock:
            record.resource["status"] = status
            if record.kind == "call" and record.started_at is None and status != "canceled":
                record.started_at = datetime.now(UTC)  # a call canceled in the queue never starts
                record.resource["start_time"] = _rfc2822(record.started_at)
            if code is not None and status in ("undelivered", "failed"):
                record.resource["error_code"] = code
        common = {
            "AccountSid": self.account_sid, "ApiVersion": "2010-04-01",
            "From": record.from_, "To": record.to,
        }  # fmt: skip
        if record.kind == "call":
            params = {
                **common,
                "CallSid": record.sid,
                "CallStatus": status,
                "Direction": "outbound-api",
                "Called": record.to,
                "Caller": record.from_,
            }
            if status == "completed":
                params["CallDuration"] = "12"
            return params
        params = {
            **common,
            "MessageSid": record.sid,
            "SmsSid": record.sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if code is not None and status in ("undelivered", "failed"):
            params["ErrorCode"] = str(code)
        return params

    async def _post_signed(
        self, client: httpx.AsyncClient, record: Record, params: dict[str, str]
    ) -> None:
        url = record.status_callback or ""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        try:
            answer = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
            answered = answer.status_code
        except httpx.HTTPError:
            answered = 0
        with self._lock:
            self.callbacks.append(Callback(url, params, signature, answered))

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _form(request: Request) -> dict[str, str]:
    """The form-encoded body (without python-multipart, which the project does not need)."""
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def _invalid(kind: str, to: str, from_: str, body: str, form: dict[str, str]) -> Response | None:
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if not from_:
        return _error(400, 21603, "A 'From' phone number is required.")
    if kind == "message" and not body:
        return _error(400, 21602, "Message body is required.")
    if kind == "call" and not body and not form.get("Url"):
        return _error(400, 21205, "Url parameter is required.")
    if not _E164.fullmatch(to):
        return _error(400, 21211, _NUMBER_ERRORS[21211].format(to=to))
    return None


def _started_within(record: Record, query: Mapping[str, str]) -> bool:
    """Twilio's StartTime filters (`StartTime`, `StartTime>` on or after, `StartTime<` before):
    a date (YYYY-MM-DD, UTC) or a date and time, as the twilio client sends them. A record
    that has not started (a queued call; a message has no start) is left out by any of them."""
    bounds = {op: query[f"StartTime{op}"] for op in ("", ">", "<") if f"StartTime{op}" in query}
    if not bounds:
        return True
    started = record.started_at
    if started is None:
        return False
    for op, value in bounds.items():
        moment = _moment(value)
        if op == ">" and started < moment:
            return False
        if op == "<" and started >= moment:
            return False
        if op == "" and started.date() != moment.date():
            return False
    return True


def _moment(value: str) -> datetime:
    if len(value) == len("YYYY-MM-DD"):
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _error(status: int, code: int, message: str) -> Response:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return JSONResponse(
        {"code": code, "message": message, "more_info": more_info, "status": status},
        status_code=status,
    )


def _server_error(status: int) -> Response:
    if status == 429:
        return _error(429, 20429, "Too Many Requests")
    return _error(status, 20500, "Internal Server Error")


def _rfc2822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


class CallbackSink:
    """A receiver for status callbacks: records each post; answers 200 (or `answer`)."""

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.received: list[tuple[str, dict[str, str], str]] = []  # url, params, signature
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/twilio/status")
        async def status(request: Request) -> Response:
            form = await _form(request)
            with self._lock:
                self.received.append(
                    (str(request.url), form, request.headers.get("x-twilio-signature", ""))
                )
            return Response(status_code=self.answer)

        self._server = BackgroundServer(app)

    @property
    def url(self) -> str:
        return self._server.url + "/twilio/status"

    def reset(self) -> None:
        with self._lock:
            self.received.clear()

    def __enter__(self) -> CallbackSink:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
