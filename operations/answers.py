"""What the application layer answers a front end: one type for every call to a workflow."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # done; `value` is the workflow's answer
    REFUSED = "refused"  # the workflow said no; `message` says why, nothing changed
    FORBIDDEN = "forbidden"  # the person may not do this (a role, a second person needed)
    AWAITING_APPROVAL = "awaiting_approval"  # asked; a second person must approve it
    CLOSED = "closed"  # the case is closed, or the workflow has finished
    NOT_FOUND = "not_found"  # no such workflow
    ALREADY_RUNNING = "already_running"  # a start for an id that runs
    UNREACHABLE = "unreachable"  # Temporal cannot take the call now: retry after a while
    NO_ANSWER = "no_answer"  # nothing answered in time; the action may still take effect
    FAILED = "failed"  # anything else; `message` names the error's type


@dataclass(frozen=True)
class Answer(Generic[T]):
    outcome: Outcome
    value: T | None = None
    message: str = ""
    retry_after: int | None = None  # seconds, for UNREACHABLE
    ended: str = ""  # for CLOSED by a finished workflow: how it ended (completed, terminated ...)
    approval_id: int | None = None  # for AWAITING_APPROVAL: the request a second person decides
    started: bool | None = None  # for an update-with-start: whether the call started the workflow

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    def unwrap(self) -> T:
        """The value of an accepted answer (for code that has checked `ok`)."""
        if self.outcome is not Outcome.ACCEPTED:
            raise ValueError(f"not accepted: {self.outcome} {self.message}")
        return self.value  # type: ignore[return-value]
