"""Probes that tell when a part of the local stack is ready, each a plain `await` (Temporal's
are `temporal.readiness.Frontend`'s; the API's is here).

`until` repeats a probe while checking that every child is still running, so a server that
dies during start-up is reported at once instead of after a timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from cli.stack import Stack

T = TypeVar("T")

POLL_EVERY = 0.25


class NotReady(RuntimeError):
    pass


async def until(
    probe: Callable[[], Awaitable[T | None]], *, stack: Stack, what: str, within: float
) -> T:
    """The probe's first answer that is not None; `ChildExited` or `NotReady` otherwise."""
    deadline = time.monotonic() + within
    while True:
        stack.check()
        answer = await probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise NotReady(f"{what} was not ready after {within:.0f} s")
        await asyncio.sleep(POLL_EVERY)


async def api_healthy(base_url: str) -> bool | None:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            response = await http.get(f"{base_url}/health")
    except httpx.HTTPError:
        return None
    return response.status_code == httpx.codes.OK or None
