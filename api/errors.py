"""An answer of the application layer as the HTTP status and body the README promises.

400 the workflow refused (its message); 403 the person may not (a role, a second person);
404 no such case or handoff; 409 the case is closed,
the workflow has finished, or a case for the account already runs; 503 Temporal unreachable or
too busy (with `Retry-After`); 504 no answer in time (no worker running?); 502 anything else.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status

from operations.answers import Answer, Outcome

T = TypeVar("T")

_STATUS = {
    Outcome.REFUSED: status.HTTP_400_BAD_REQUEST,
    Outcome.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    Outcome.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    Outcome.CLOSED: status.HTTP_409_CONFLICT,
    Outcome.ALREADY_RUNNING: status.HTTP_409_CONFLICT,
    Outcome.UNREACHABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    Outcome.NO_ANSWER: status.HTTP_504_GATEWAY_TIMEOUT,
    Outcome.FAILED: status.HTTP_502_BAD_GATEWAY,
}


def http_error(answer: Answer[Any]) -> HTTPException:
    """A status and `{"detail": <the answer's message>}`; `Retry-After` when worth retrying."""
    retry = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else None
    return HTTPException(_STATUS[answer.outcome], answer.message, headers=retry)


def answered(answer: Answer[T]) -> T:
    """The value of an accepted answer; any other is raised as its `http_error`."""
    if not answer.ok:
        raise http_error(answer)
    return answer.unwrap()
