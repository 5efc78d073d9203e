"""A case's history told in an operator's words: what the case recorded, not how.

The case's own audit entries (`kind`, `detail`, carried to the read model by `write_case`) are
the richest source; these functions phrase them, and any value decoded from a payload, for a
person to read. Everything shown passes `safe`, which masks phone numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from temporalio.api.failure.v1 import Failure

from models.case_events import entry_text
from models.money import money
from models.privacy import mask_numbers

MAX_SUMMARY = 160
_ISO_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]00:?00)?(?![\d:])"
)
# Left as they are by the masking: dates, and the project's workflow ids (an account number
# and a counter, which `mask_numbers` would take for a phone number).
_KEEP = re.compile(r"\d{4}-\d{2}-\d{2}|\b(?:case|risk|legal)-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
# Decoded fields never shown: they name or reach the customer, or are keys full of digits.
_PRIVATE = frozenset({"to", "mobile", "phone", "contact", "params", "address", "email", "name"})
_NOISE = frozenset({"case_id", "account_no", "key", "currency"})


def safe(text: str) -> str:
    """Phone numbers masked, ISO times shortened to minutes; dates and ids left readable."""
    text = _ISO_DATETIME.sub(r"\1 \2", text)
    pieces, last = [], 0
    for kept in _KEEP.finditer(text):
        pieces += [mask_numbers(text[last : kept.start()]), kept.group(0)]
        last = kept.end()
    return "".join([*pieces, mask_numbers(text[last:])])


def at_minute(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _contact(verb: str, detail: str) -> str:
    """`sms reminder_friendly: why` -> `sms reminder <verb> (reminder_friendly: why)`."""
    head, colon, why = detail.partition(":")
    channel, _, template = head.strip().partition(" ")
    what = "closing message" if template.startswith("closing_") else "reminder"
    inside = template + (f":{why}" if colon else "")
    return (
        f"{channel} {what} {verb} ({inside.strip()})" if template else f"contact {verb} ({detail})"
    )


def _stage(detail: str) -> str:
    """`early -> collector: 31 days past due` -> `moved to the collector stage (...)`."""
    move, _, why = detail.partition(": ")
    _, arrow, target = move.partition(" -> ")
    if not arrow:
        return f"stage ({detail})"
    if target == "closed":
        return f"case closed ({why})"
    return f"moved to the {target.replace('_', ' ')} stage ({why})"


_PHRASES: dict[str, Callable[[str], str]] = {
    "opened": lambda d: "opened ({})".format(re.sub(r"(score -?\d+) \(.*?\)(?=, )", r"\1", d)),
    "contact_sent": lambda d: _contact("sent", d),
    "contact_refused": lambda d: _contact("held back", d),
    "contact_failed": lambda d: _contact("failed", d),
    "contact_delayed": lambda d: _contact("delayed", d),
    "contact_outcome": lambda d: f"delivery report ({d})",
    "payment": lambda d: f"payment recorded ({d})",
    "promise": lambda d: f"promise to pay ({d})",
    "promise_kept": lambda d: f"promise kept ({d})",
    "promise_broken": lambda d: f"promise broken ({d})",
    "stage": _stage,
    "hardship": lambda d: f"hardship reported ({d})",
    "risk_review": lambda d: f"risk review requested ({d})",
    "legal_threshold": lambda d: f"legal threshold reached ({d})",
    "ladder": lambda d: d,
}


def audit_words(kind: str, detail: str, data: dict[str, Any] | None = None) -> str:
    """One audit entry of the case as a line of the timeline; `data`, the entry's typed
    fields, is absent from entries recorded before events were typed."""
    phrase = _PHRASES.get(kind)
    words = phrase(detail) if phrase else f"{kind.replace('_', ' ')} ({detail})"
    return safe(entry_text(kind, words, data))


def _private(key: str) -> bool:
    return key in _PRIVATE or key.endswith("_name") or "mobile" in key or "phone" in key


def summarize(value: Any) -> str:
    """A decoded payload in a few words: its plain fields, never the private ones."""
    if isinstance(value, Mapping):
        currency = value.get("currency")
        parts = [
            _field(str(key), item, currency)
            for key, item in value.items()
            if not _private(str(key))
            and str(key) not in _NOISE
            and not str(key).endswith("_key")
            and item not in (None, "", [], {})
            and item is not False  # an unset flag (overpayment=False) says nothing
            and not isinstance(item, Mapping)
        ]
        text = ", ".join(parts)
    elif isinstance(value, list | tuple):
        text = "; ".join(s for s in (summarize(v) for v in value) if s)
    else:
        text = _scalar(value)
    text = safe(text)
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def _field(key: str, value: Any, currency: Any) -> str:
    if key.endswith("_minor") and isinstance(value, int) and isinstance(currency, str):
        return f"{key.removesuffix('_minor')}={money(value, currency)}"
    return f"{key}={_scalar(value)}"


def _scalar(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{…}"
    return str(value)


def result_words(value: Any) -> str:
    """What a finished workflow answered: the case's closure, or its plain fields."""
    if isinstance(value, Mapping):
        if value.get("closed_reason"):
            return f"closed as {value['closed_reason']}"
        if value.get("stage"):
            return f"stage {value['stage']}"
    return summarize(value)


def enum_words(name: str, prefix: str) -> str:
    """`RETRY_STATE_TIMEOUT` -> `timeout`."""
    return name.removeprefix(prefix).lower().replace("_", " ")


def failure_text(failure: Failure) -> str:
    """A failure as `Type: message`, masked."""
    kind = (
        failure.application_failure_info.type
        if failure.HasField("application_failure_info")
        else ""
    )
    return safe(f"{kind}: {failure.message}" if kind else failure.message)
