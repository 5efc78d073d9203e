"""Outbound messaging: templates, senders (Twilio or the local outbox) and the activities that
send each contact exactly once and apply the provider's delivery reports."""

from activities.messaging.activities import DeliveryStatusInput, MessagingActivities
from activities.messaging.privacy import mask_numbers, mask_phone
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
    "DeliveryStatusInput",
    "MessagingActivities",
    "OutboxSender",
    "PermanentSendError",
    "ProviderReceipt",
    "Sender",
    "TransientSendError",
    "TwilioSender",
    "mask_numbers",
    "mask_phone",
    "render",
]
