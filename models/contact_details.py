"""Contact details that change after intake: a new number from the customer, one a collector
found (skip tracing), an address for a visit, a number found to be wrong. The case carries the
current ones and its reminders use them; the read model's customer row keeps them, sealed.

Plain, frozen types that cross Temporal, as in `models.contracts`. Personal data: never in a
timeline's text, a log line or an error, only in these (encrypted) payloads and sealed columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ContactSource(StrEnum):
    CUSTOMER = "customer"  # the customer gave it
    COLLECTOR = "collector"  # a collector found it (skip tracing)
    BANK = "bank"  # the bank's own records


@dataclass(frozen=True)
class ChangeMobileInput:
    mobile: str  # E.164, valid for its country
    source: ContactSource
    verified: bool = False  # confirmed with the customer on this number


@dataclass(frozen=True)
class ChangeAddressInput:
    address: str  # where a field visit goes
    source: ContactSource
    verified: bool = False


@dataclass(frozen=True)
class WrongNumberInput:
    reason: str  # how it was found wrong: "a stranger answered", ...


@dataclass(frozen=True)
class CurrentContact:
    """What the case uses instead of its intake's contact points, once changed."""

    mobile: str = ""  # "" : the intake's
    mobile_source: ContactSource | None = None
    mobile_verified: bool = False
    address: str = ""
    address_source: ContactSource | None = None
    address_verified: bool = False
    changed_at: datetime | None = None


@dataclass(frozen=True)
class ContactChange:
    """The customer row's new details, for the read model (`write_case`)."""

    customer_ref: str
    mobile: str = ""  # "" : unchanged
    address: str = ""  # "" : unchanged
