"""Serving a test's ASGI app for real, on 127.0.0.1 and a free port, in a daemon thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn


class BackgroundServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class _Drop(Exception):
    """Raised after the response has started, so that uvicorn cuts the connection."""


DROP_HEADER = "x-fake-drop"

Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class DropConnection:
    """ASGI wrapper: a response marked with `DROP_HEADER` sends its headers, then the
    connection is cut before the body, as when a response is lost on the way back."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        async def guarded(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if any(name == DROP_HEADER.encode() for name, _ in headers):
                    clean = [(n, v) for n, v in headers if n != DROP_HEADER.encode()]
                    await send({**message, "headers": clean})
                    raise _Drop
            await send(message)

        await self._app(scope, receive, guarded)  # uvicorn closes the connection on _Drop
