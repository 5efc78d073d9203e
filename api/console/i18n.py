"""`translator`: the console's words in the reader's language, from its labels
(`api.console.labels`), the stages, and the values a page shows (`api.console.values`). A
label missing in a language shows its key, which a test catches (`tests/api/test_console.py`)."""

from __future__ import annotations

from typing import Protocol

from api.console.labels import LABELS
from api.console.values import (
    GROUPS,
    NEXT_ACTIONS,
    QUEUES,
    TASK_KINDS,
    TASK_OUTCOMES,
    TASK_STATUSES,
)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

STAGES = {
    "assessment": ("评估", "Assessment"),
    "early": ("早期", "Early"),
    "collector": ("人工催收", "Collector"),
    "risk_review": ("风险审查", "Risk review"),
    "legal": ("法务", "Legal"),
    "closed": ("已结案", "Closed"),
}

# Task kinds, outcomes, statuses and queues, as the workflows name them: one table each in
# `values`, where the pages translate them by group.
TERMS = {**TASK_KINDS, **TASK_OUTCOMES, **TASK_STATUSES, **QUEUES}


class Translate(Protocol):
    def __call__(self, key: str, group: str = "") -> str: ...


def translator(language: str) -> Translate:
    """`t(key)`: the label in `language`; `t(value, group)`: a value of one of the `GROUPS`
    (`t(kind, "event")`). Either is its key when there is none: a value the workflows name
    after this table was written shows as they name it."""
    index = 0 if language == "zh" else 1

    def t(key: str, group: str = "") -> str:
        if group:
            found = GROUPS[group].get(key)
        else:
            found = LABELS.get(key) or STAGES.get(key) or TERMS.get(key)
        return found[index] if found else key

    return t


def next_action(kind: str | None, text: str, language: str) -> str:
    """The case's next action in `language`. The case names it by kind and in English words
    that may say more (the channel and template of a reminder): English shows the words,
    Chinese the kind. A case started before kinds were named has only the words."""
    if kind is not None and kind in NEXT_ACTIONS and (language == "zh" or not text):
        return translator(language)(kind, "next_action")
    return text
