"""Who acted: the person (or service) behind an update or a signal, as it travels into the
workflows in a Temporal header and onto every timeline entry and audit row."""

from __future__ import annotations

from dataclasses import dataclass

ACTOR_HEADER = "collections-actor"
SYSTEM = "workflow"  # what a case does by itself, on its own clock


@dataclass(frozen=True)
class Actor:
    id: str  # a staff id, or a service: `api-key:supervisor`, `twilio`, `customer`
    via: str = ""  # console | api | cli | webhook | intake

    @property
    def label(self) -> str:
        return f"{self.id} ({self.via})" if self.via else self.id
