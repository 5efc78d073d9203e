"""Pure rules of a customer's contact details after intake. No Temporal, no I/O.

As in `case_rules`: a rule takes the case's state and returns `Decided`, the new state and the
events that say what changed, leaving the state it was given as it was. The events never carry
a number or an address: those are personal data, kept in the state (an encrypted payload).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from models.contact_details import (
    ChangeAddressInput,
    ChangeMobileInput,
    CurrentContact,
    WrongNumberInput,
)
from models.contact_events import AddressChanged, MobileChanged, NumberMarkedWrong
from models.contracts import CaseState
from models.strategy import Channel
from workflows.case_rules import Decided

PHONE_CHANNELS = (Channel.SMS, Channel.VOICE)


def change_mobile(state: CaseState, req: ChangeMobileInput, now: datetime) -> Decided:
    """The case texts and calls the new number from now on; channels that could not reach the
    old one (a wrong number, a landline that cannot take texts) are open again. Opt-outs are
    the customer's choice and stay."""
    current = state.contact or CurrentContact()
    contact = replace(
        current,
        mobile=req.mobile,
        mobile_source=req.source,
        mobile_verified=req.verified,
        changed_at=now,
    )
    reachable = [c for c in state.unavailable if c not in PHONE_CHANNELS]
    changed = replace(state, contact=contact, unavailable=reachable)
    return changed, (MobileChanged(source=req.source, verified=req.verified),)


def change_address(state: CaseState, req: ChangeAddressInput, now: datetime) -> Decided:
    current = state.contact or CurrentContact()
    contact = replace(
        current,
        address=req.address,
        address_source=req.source,
        address_verified=req.verified,
        changed_at=now,
    )
    return replace(state, contact=contact), (AddressChanged(req.source, req.verified),)


def mark_number_wrong(state: CaseState, req: WrongNumberInput) -> Decided:
    """No text and no call goes to a wrong number: it reaches someone else."""
    unavailable = [*state.unavailable, *(c for c in PHONE_CHANNELS if c not in state.unavailable)]
    return replace(state, unavailable=unavailable), (NumberMarkedWrong(req.reason),)


def mobile_of(state: CaseState, intake_mobile: str) -> str:
    """The number the case texts and calls: the latest change, else the intake's."""
    return state.contact.mobile if state.contact and state.contact.mobile else intake_mobile
