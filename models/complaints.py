"""Complaints: what a customer complains about (the bank's conduct, not the debt: a disputed
debt is a dispute), how it came in, what they ask; a supervisor answers it within the
regulatory deadline, and the register keeps every one with its outcome.

Plain, frozen types that cross Temporal, as in `models.contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ComplaintCategory(StrEnum):
    CONDUCT = "conduct"  # how a collector spoke or behaved
    CONTACT = "contact"  # too often, at night, to a third party
    FEES = "fees"  # charges, interest, the amount claimed
    PRIVACY = "privacy"  # personal data shown or shared
    SERVICE = "service"  # a payment not recorded, a promise not honoured, no answer
    OTHER = "other"


class ComplaintChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    LETTER = "letter"
    EMAIL = "email"
    BRANCH = "branch"
    APP = "app"
    REGULATOR = "regulator"  # passed on by the regulator


class ComplaintOutcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the customer took it back


@dataclass(frozen=True)
class ComplaintInput:
    category: ComplaintCategory
    channel: ComplaintChannel
    asks: str  # what the customer asks for, in their words or the collector's


@dataclass(frozen=True)
class ResolveComplaintInput:
    key: str  # the complaint, as the case's status lists it
    outcome: ComplaintOutcome
    response: str  # what the bank answers the customer


@dataclass(frozen=True)
class Complaint:
    """An open complaint, as the case carries it until it is answered."""

    key: str  # `<case_id>/<opened>/cp<n>`
    category: ComplaintCategory
    channel: ComplaintChannel
    asks: str
    received_at: datetime
    deadline: datetime  # the regulatory deadline, on the strategy's clock
    pauses_collection: bool
    task_key: str = ""  # the supervisor's task that answers it


@dataclass(frozen=True)
class ComplaintRow:
    """A complaint as the register keeps it: written when received and when answered."""

    key: str
    case_id: str
    category: ComplaintCategory
    channel: ComplaintChannel
    asks: str
    received_at: datetime
    deadline: datetime
    pauses_collection: bool
    outcome: ComplaintOutcome | None = None
    response: str = ""
    resolved_at: datetime | None = None
    resolved_by: str = ""
