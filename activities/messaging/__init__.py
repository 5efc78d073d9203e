"""Outbound messaging: templates, senders (Twilio or the local outbox) and the activities that
send each contact exactly once and apply the provider's delivery reports."""

from activities.messaging.activities import MessagingActivities
from activities.messaging.senders import (
    OutboxSender,
    PermanentSendError,
    ProviderReceipt,
    Sender,
    TransientSendError,
    TwilioSender,
)
from activities.messaging.templates import render

__all__ = [
    "MessagingActivities",
    "OutboxSender",
    "PermanentSendError",
    "ProviderReceipt",
    "Sender",
    "TransientSendError",
    "TwilioSender",
    "render",
]
