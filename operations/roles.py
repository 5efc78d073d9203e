"""Who may do what: the roles staff act in. Every front end checks them against the catalogue."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATIONS = "operations"  # collectors
    SUPERVISOR = "supervisor"
    RISK = "risk"
    LEGAL = "legal"
    ENGINEER = "engineer"


COLLECTORS = frozenset({Role.OPERATIONS, Role.SUPERVISOR})
SUPERVISORS = frozenset({Role.SUPERVISOR})
EVERYONE = frozenset(Role)
