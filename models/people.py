"""Who acts, and in what role: the person (or service) behind an update or a signal, as it
travels into the workflows in a Temporal header and onto every timeline entry and audit row."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ACTOR_HEADER = "collections-actor"
SYSTEM = "workflow"  # what a case does by itself, on its own clock


class Role(StrEnum):
    OPERATIONS = "operations"  # collectors
    SUPERVISOR = "supervisor"
    RISK = "risk"
    LEGAL = "legal"
    ENGINEER = "engineer"
    ADMIN = "admin"  # manages staff, roles and service accounts; acts on no case


COLLECTORS = frozenset({Role.OPERATIONS, Role.SUPERVISOR})
SUPERVISORS = frozenset({Role.SUPERVISOR})
EVERYONE = frozenset(Role)


def role_named(name: str) -> Role:
    """A role by its name; `collector` is the operations role, as collectors say it."""
    cleaned = name.strip().lower()
    if cleaned in ("collector", "collectors"):
        return Role.OPERATIONS
    try:
        return Role(cleaned)
    except ValueError:
        known = ", ".join(["collector", *sorted(Role)])
        raise ValueError(f"unknown role {name!r} (known: {known})") from None


@dataclass(frozen=True)
class Actor:
    """`roles` are the roles the person holds, checked by the workflow as a second line behind
    the front end (empty: a service acting on the system's behalf, or the host's command line);
    `approved_by` names the second person of an action that needs two."""

    id: str  # a staff id, or a service: `svc-intake`, `twilio`, `customer`
    via: str = ""  # console | api | cli | webhook | intake
    roles: tuple[str, ...] = ()
    approved_by: str = ""

    @property
    def label(self) -> str:
        who = f"{self.id} ({self.via})" if self.via else self.id
        return f"{who}, approved by {self.approved_by}" if self.approved_by else who
