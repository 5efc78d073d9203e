"""What the messaging activities and the Twilio webhooks share: the delivery report, the
StatusCallback URL's key parameter and Twilio's status words."""

from __future__ import annotations

from dataclasses import dataclass

from models.contracts import AttemptStatus
from models.strategy import Channel

# The query parameter of the StatusCallback URL that carries the attempt's idempotency key, so a
# callback finds its attempt even when the provider id was never recorded (a lost response).
CALLBACK_KEY_PARAM = "key"


@dataclass(frozen=True)
class DeliveryStatusInput:
    """A Twilio status callback: MessageStatus or CallStatus, and whichever id it carries."""

    status: str
    provider_id: str = ""  # MessageSid / CallSid
    idempotency_key: str = ""  # the StatusCallback URL's `key` parameter
    error_code: int | None = None  # 30003-30008 with undelivered/failed
    duration_seconds: int | None = None  # CallDuration, on a call's completed callback


_STATUS = {
    "accepted": AttemptStatus.QUEUED,
    "scheduled": AttemptStatus.QUEUED,
    "queued": AttemptStatus.QUEUED,
    "initiated": AttemptStatus.QUEUED,
    "sending": AttemptStatus.SENT,
    "sent": AttemptStatus.SENT,
    "ringing": AttemptStatus.SENT,
    "delivered": AttemptStatus.DELIVERED,
    "read": AttemptStatus.DELIVERED,
    "undelivered": AttemptStatus.UNDELIVERED,
    "failed": AttemptStatus.FAILED,
    "in-progress": AttemptStatus.ANSWERED,
    "completed": AttemptStatus.ANSWERED,
    "busy": AttemptStatus.UNANSWERED,
    "no-answer": AttemptStatus.UNANSWERED,
}


def twilio_status(channel: Channel, value: str) -> AttemptStatus | None:
    """A Twilio MessageStatus or CallStatus as an attempt status; None for one we do not track
    (inbound `receiving`/`received`, or a value Twilio adds later)."""
    value = value.strip().lower()
    if value == "canceled":
        # A canceled call never rang through; a canceled message never left Twilio.
        return AttemptStatus.UNANSWERED if channel == Channel.VOICE else AttemptStatus.UNDELIVERED
    return _STATUS.get(value)
