"""Who may take which action, and which actions need a second person: declared once, read by
the application layer (the first line) and by the workflows' interceptor (the second). The
roles are declared on each update (`taken_by`), so the table fills as the workflow modules are
imported: by the workers, and by the application layer's catalogue.

Pure: no Temporal, no database. `refusal(actor, update, arg)` is the whole check; the
workflows run it in their update validators, so a refused action never enters a history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from models.contracts import CloseInput, ClosureReason, ResolveDisputeInput
from models.people import Actor, Role
from models.tasks import CompleteTaskInput, TaskOutcome

RISK_OFFICERS = frozenset({Role.RISK})
LEGAL_OFFICERS = frozenset({Role.LEGAL})

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

# Every update of every workflow, by its registered name, and the roles of the people who may
# send it: filled by `taken_by` where each update is defined, so that the roles sit beside the
# update and no name is written twice. An update nobody declared is refused to a person.
_UPDATE_ROLES: dict[str, frozenset[Role]] = {}
UPDATE_ROLES: Mapping[str, frozenset[Role]] = MappingProxyType(_UPDATE_ROLES)
# The system's own updates (intake's refresh): a person who loads a file sends them too.
EVERYONE = frozenset(Role)


def taken_by(roles: frozenset[Role]) -> Callable[[_Handler], _Handler]:
    """Declares, on a workflow's update handler (under `@workflow.update`), who may send it."""

    def declare(handler: _Handler) -> _Handler:
        _UPDATE_ROLES[handler.__name__] = roles
        return handler

    return declare


# The fields of an input that name the person acting: they must name the actor.
PERSON_FIELDS = ("collector", "decided_by", "by")


def second_person_for(arg: object) -> str:
    """What an action needs a second person's approval for ("" when it needs none): writing
    off, settling below the balance, resolving a dispute for the customer, approving a legal
    referral."""
    match arg:
        case CloseInput(reason=ClosureReason.WRITTEN_OFF):
            return "writing off a case"
        case CloseInput(reason=ClosureReason.SETTLED):
            return "settling a case below its balance"
        case ResolveDisputeInput(upheld=True):
            return "resolving a dispute for the customer"
        case CompleteTaskInput(outcome=TaskOutcome.DISPUTE_UPHELD):
            return "resolving a dispute for the customer"
        case CompleteTaskInput(outcome=TaskOutcome.APPROVED):
            return "approving a legal referral"
    return ""


def may(roles: frozenset[Role] | set[str] | tuple[str, ...], update: str) -> bool:
    """Whether a person holding `roles` may send `update`: never one nobody declared."""
    allowed = UPDATE_ROLES.get(update, frozenset())
    return any(role in allowed for role in roles)


def refusal(actor: Actor | None, update: str, arg: object) -> str:
    """Why `actor` may not send `update` with `arg` ("" when they may).

    An actor without roles is a service or the host's command line, which hold the system's
    own authority: only a person signed in through a front end carries roles to check. A
    person's action that needs two people needs the second named, and not the first again.
    """
    if actor is None or not actor.roles:
        return ""
    if not may(actor.roles, update):
        allowed = ", ".join(sorted(UPDATE_ROLES.get(update, ()))) or "nobody's"
        return f"{actor.id} may not {update.replace('_', ' ')}: it needs the role {allowed}"
    for name in PERSON_FIELDS:
        named = getattr(arg, name, None)
        if isinstance(named, str) and named.strip() and named != actor.id:
            return f"{name} is {named!r}, but {actor.id} is the one acting"
    needs = second_person_for(arg)
    if needs and not actor.approved_by:
        return f"{needs} needs a second person's approval"
    if needs and actor.approved_by == actor.id:
        return f"{needs} needs a second person: {actor.id} cannot approve their own request"
    return ""
