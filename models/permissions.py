"""Who may take which action, and which actions need a second person: declared once, read by
the application layer (the first line) and by the workflows' interceptor (the second).

Pure: no Temporal, no database. `refusal(actor, update, arg)` is the whole check; the
workflows run it in their update validators, so a refused action never enters a history.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.contracts import CloseInput, ClosureReason, ResolveDisputeInput
from models.departments import CompleteTaskInput, TaskOutcome
from models.people import COLLECTORS, SUPERVISORS, Actor, Role

RISK_OFFICERS = frozenset({Role.RISK})
LEGAL_OFFICERS = frozenset({Role.LEGAL})

# Every update a person may send, by its registered name, and the roles that may send it.
# An update not named here is the system's own (intake's refresh, a case telling legal).
UPDATE_ROLES: Mapping[str, frozenset[Role]] = {
    "record_payment": COLLECTORS,
    "promise_to_pay": COLLECTORS,
    "raise_dispute": COLLECTORS,
    "resolve_dispute": SUPERVISORS,
    "report_hardship": COLLECTORS,
    "opt_out": COLLECTORS,
    "opt_in": COLLECTORS,
    "pause": COLLECTORS,
    "resume": COLLECTORS,
    "close": SUPERVISORS,
    "claim_task": COLLECTORS,
    "complete_task": COLLECTORS,
    "decide": RISK_OFFICERS,
    "accept": LEGAL_OFFICERS,
    "return_referral": LEGAL_OFFICERS,
    "record_proceeding": LEGAL_OFFICERS,
    "set_contact_permission": LEGAL_OFFICERS,
}

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
    """Whether a person holding `roles` may send `update` (always, for the system's own)."""
    allowed = UPDATE_ROLES.get(update)
    return allowed is None or any(role in allowed for role in roles)


def refusal(actor: Actor | None, update: str, arg: object) -> str:
    """Why `actor` may not send `update` with `arg` ("" when they may).

    An actor without roles is a service or the host's command line, which hold the system's
    own authority: only a person signed in through a front end carries roles to check. A
    person's action that needs two people needs the second named, and not the first again.
    """
    if actor is None or not actor.roles:
        return ""
    if not may(actor.roles, update):
        allowed = ", ".join(sorted(UPDATE_ROLES[update]))
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
