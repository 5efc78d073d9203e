"""Request bodies have a ceiling: 413 past it, and nothing past it is read.

Every body the API takes is small (an action is a few hundred bytes, a Twilio callback less),
except the codec's, where the Temporal UI sends whole histories' payloads to decode. Without a
ceiling one request could hold a worker's memory, or carry a text into a case that its history
could not hold. The ceiling is checked on the declared length first, then on the bytes as they
arrive (a chunked body declares none).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 256 * 1024  # bytes: any action, intake row or webhook, many times over
MAX_CODEC_BODY = 32 * 1024 * 1024  # bytes: a history's payloads, sent to /codec to decode
CODEC_PREFIX = "/codec/"


class BodyLimit:
    """ASGI middleware: refuses a request body past its path's ceiling with 413."""

    def __init__(
        self, app: ASGIApp, *, limit: int = MAX_BODY, codec_limit: int = MAX_CODEC_BODY
    ) -> None:
        self.app = app
        self.limit = limit
        self.codec_limit = codec_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.codec_limit if path.startswith(CODEC_PREFIX) else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "the Content-Length header is not a number")
                return
            if int(declared) > limit:
                await _answer(send, 413, _too_large(limit))
                return

        # Read it all here (the app would anyway): a chunked body declares no length.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _answer(send, 413, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        given = False

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
