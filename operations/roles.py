"""Who may do what: the roles staff act in (declared in `models.people`, since the workflows
check them too). Every front end checks them against the catalogue."""

from __future__ import annotations

from models.people import COLLECTORS, EVERYONE, SUPERVISORS, Role, role_named

__all__ = ["COLLECTORS", "EVERYONE", "SUPERVISORS", "Role", "role_named"]
