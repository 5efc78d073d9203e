"""What happened on a case, as typed events: the one source of a timeline entry's text.

A case records an event (`CaseShell.emit`); its entry on the timeline and in the audit log
carries the kind, the text rendered here (amounts in the currency's own decimals, through
`models.money.money`) and the event's fields (`fields_of`). Readers show the text, or render
from the fields; none reads an amount back out of a text. Entries written before events were
typed have no fields: `entry_text` tells them apart, and only those still go through
`amounts_in_words`.

Fields are plain values (text, whole numbers, flags; dates and times in ISO form) so that an
entry's fields read the same from a workflow's history, the read model and a JSON export.
The kinds are the timeline's vocabulary (the console's labels, `history show`'s phrases, the
dossier's balance events): never rename one. The case's own events are here; those of reaching
the customer (contacts, contact details) in `models.contact_events`, those around its
departments (tasks, risk, legal) in `models.department_events`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, dataclass_transform

from models.money import amounts_in_words, money


@dataclass(frozen=True)
class CaseEvent:
    KIND: ClassVar[str] = ""

    def detail(self) -> str:
        raise NotImplementedError


KINDS: dict[str, type[CaseEvent]] = {}


_Event = TypeVar("_Event", bound=CaseEvent)


@dataclass_transform(frozen_default=True)
def event(kind: str) -> Callable[[type[_Event]], type[_Event]]:
    """Declares a kind of event: a frozen dataclass recorded under `kind`, once."""

    def declare(cls: type[_Event]) -> type[_Event]:
        assert kind and kind not in KINDS, (kind, cls)
        cls.KIND = kind
        declared = dataclass(frozen=True)(cls)
        KINDS[kind] = declared
        return declared

    return declare


def fields_of(event: CaseEvent) -> dict[str, Any]:
    return dataclasses.asdict(event)


def event_from(kind: str, fields: dict[str, Any] | None) -> CaseEvent | None:
    """The typed event of a recorded entry; None for an entry from before events were typed
    or of a kind this version does not know."""
    cls = KINDS.get(kind)
    if cls is None or fields is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in fields.items() if k in names})
    except TypeError:  # a field this version requires and the entry lacks
        return None


def entry_text(kind: str, detail: str, fields: dict[str, Any] | None) -> str:
    """An entry's text as a person reads it. Typed entries were rendered when recorded; an
    entry from before (no fields) wrote amounts in minor units, which are converted here."""
    if fields is not None:
        return detail
    return amounts_in_words(detail)


# --- opening, stages, the ladder ------------------------------------------------------------


@event("opened")
class CaseOpened(CaseEvent):
    strategy: str
    version: str
    score: int
    factors: str  # `factor +points; ...`, empty without one
    segment: str

    def detail(self) -> str:
        return (
            f"strategy {self.strategy} {self.version}, score {self.score} "
            f"({self.factors or 'no factor'}), segment {self.segment}"
        )


@event("stage")
class StageChanged(CaseEvent):
    from_stage: str
    to_stage: str
    why: str

    def detail(self) -> str:
        return f"{self.from_stage} -> {self.to_stage}: {self.why}"


@event("legal_threshold")
class LegalThresholdReached(CaseEvent):
    days_past_due: int

    def detail(self) -> str:
        return f"{self.days_past_due} days past due reached"


@event("ladder")
class StaleStepsSkipped(CaseEvent):
    skipped: int

    def detail(self) -> str:
        return f"{self.skipped} stale reminder(s) skipped after a pause"


# --- money ----------------------------------------------------------------------------------


@event("payment")
class PaymentRecorded(CaseEvent):
    amount_minor: int
    currency: str
    payment_ref: str

    def detail(self) -> str:
        return f"{money(self.amount_minor, self.currency)} ref {self.payment_ref}"


@event("overpayment")
class Overpaid(CaseEvent):
    amount_minor: int
    currency: str
    payment_ref: str

    def detail(self) -> str:
        above = money(self.amount_minor, self.currency)
        return f"{above} above the balance, ref {self.payment_ref}"


@event("balances_refreshed")
class BalancesRefreshed(CaseEvent):
    outstanding_minor: int
    overdue_minor: int
    currency: str

    def detail(self) -> str:
        return (
            f"outstanding {money(self.outstanding_minor, self.currency)}, "
            f"overdue {money(self.overdue_minor, self.currency)}"
        )


@event("promise")
class PromiseMade(CaseEvent):
    amount_minor: int
    currency: str
    promised_date: str  # the customer's calendar day, ISO
    paused_until: str = ""  # ISO instant contact resumes, when the operator's answer names it

    def detail(self) -> str:
        text = f"{money(self.amount_minor, self.currency)} by {self.promised_date}"
        return f"{text}; contact paused until {self.paused_until}" if self.paused_until else text


@event("promise_kept")
class PromiseKept(CaseEvent):
    paid_minor: int
    currency: str
    by_payment: bool  # kept the moment a payment reached it, or found kept on its date

    def detail(self) -> str:
        if self.by_payment:
            return "paid within tolerance"
        return f"{money(self.paid_minor, self.currency)} paid by the date"


@event("promise_broken")
class PromiseBroken(CaseEvent):
    paid_minor: int
    amount_minor: int
    currency: str

    def detail(self) -> str:
        promised = money(self.amount_minor, self.currency)
        return f"{money(self.paid_minor, self.currency)} of {promised} paid; contact resumes"


# --- what an operator or the customer asked -------------------------------------------------


@dataclass(frozen=True)
class _Reasoned(CaseEvent):
    reason: str

    def detail(self) -> str:
        return self.reason


@event("dispute_raised")
class DisputeRaised(_Reasoned):
    """The customer contests the debt; `reason` in their words."""


@event("hardship")
class HardshipReported(_Reasoned):
    """Illness, job loss ...: the risk department reviews the case."""


@event("paused")
class Paused(_Reasoned):
    """An operator stopped everything going out, and why."""


@event("resumed")
class Resumed(_Reasoned):
    """An operator lifted the pause, and why."""


@event("dispute_resolved")
class DisputeResolved(CaseEvent):
    upheld: bool
    reason: str

    def detail(self) -> str:
        return f"{'upheld' if self.upheld else 'rejected'}: {self.reason}"


@event("opted_out")
class OptedOut(CaseEvent):
    channel: str
    why: str

    def detail(self) -> str:
        return f"{self.channel}: {self.why}"


@event("opted_in")
class OptedIn(CaseEvent):
    channel: str
    why: str

    def detail(self) -> str:
        return f"{self.channel}: {self.why}"


@event("complaint_received")
class ComplaintReceived(CaseEvent):
    key: str
    category: str
    channel: str
    asks: str
    answer_by: str  # ISO instant: the regulatory deadline
    pauses_collection: bool

    def detail(self) -> str:
        paused = "; collection paused" if self.pauses_collection else ""
        answer_by = self.answer_by[:16].replace("T", " ")
        return f"{self.category} by {self.channel}, answer by {answer_by}{paused}: {self.asks}"


@event("complaint_resolved")
class ComplaintResolved(CaseEvent):
    key: str
    outcome: str
    response: str

    def detail(self) -> str:
        return f"{self.outcome}: {self.response} ({self.key})"


# --- the read model's own --------------------------------------------------------------------


@event("personal_data_erased")
class PersonalDataErased(CaseEvent):
    why: str

    def detail(self) -> str:
        return f"personal data erased: {self.why}"


# The other modules' events register themselves on import; every reader of `KINDS` sees them.
from models import contact_events as _contact_events  # noqa: E402, F401
from models import department_events as _department_events  # noqa: E402, F401
