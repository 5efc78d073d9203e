"""What happened on a case in reaching its customer: the contacts (sent, refused, failed,
their outcomes) and the contact details changed after intake. Typed events as in
`models.case_events`, which holds the base, the registry of kinds and the readers' functions.
A number or an address is never in an event: they are personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.case_events import CaseEvent, event

# --- contacts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contact(CaseEvent):
    channel: str
    template: str


@event("contact_sent")
class ContactSent(_Contact):
    def detail(self) -> str:
        return f"{self.channel} {self.template}"


@event("contact_refused")
class ContactRefused(_Contact):
    reason: str
    may_go_at: str = ""  # ISO instant, when the policy names one

    def detail(self) -> str:
        when = f", may go at {self.may_go_at}" if self.may_go_at else ""
        return f"{self.channel} {self.template}: {self.reason}{when}"


@event("contact_failed")
class ContactFailed(_Contact):
    cause: str  # the provider's error, or why the case gave up

    def detail(self) -> str:
        return f"{self.channel} {self.template}: {self.cause}"


@event("contact_delayed")
class ContactDelayed(_Contact):
    def detail(self) -> str:
        return f"{self.channel} {self.template}: provider unreachable for now"


@event("contact_outcome")
class ContactOutcomeReported(CaseEvent):
    channel: str
    status: str

    def detail(self) -> str:
        return f"{self.channel}: {self.status}"


@event("channel_unavailable")
class ChannelUnavailable(CaseEvent):
    channels: str  # `sms, voice`
    error_code: int

    def detail(self) -> str:
        return f"{self.channels}: provider error {self.error_code}"


# --- contact details ---------------------------------------------------------------------


@event("mobile_changed")
class MobileChanged(CaseEvent):
    """A new number for the customer: never the number itself, which is personal data."""

    source: str
    verified: bool

    def detail(self) -> str:
        checked = "verified" if self.verified else "not verified"
        return f"a new mobile number from the {self.source} ({checked}); reminders use it"


@event("address_changed")
class AddressChanged(CaseEvent):
    source: str
    verified: bool

    def detail(self) -> str:
        checked = "verified" if self.verified else "not verified"
        return f"a new address from the {self.source} ({checked})"


@event("number_wrong")
class NumberMarkedWrong(CaseEvent):
    reason: str

    def detail(self) -> str:
        return f"the mobile number is wrong: {self.reason}; no text or call goes to it"
