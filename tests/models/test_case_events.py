"""A timeline entry is told from its typed event: the text every reader shows, and the fields
that come back as the same event. Entries from before typed events still read in yuan."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from models.case_events import (
    KINDS,
    CaseEvent,
    Paused,
    PaymentRecorded,
    PromiseBroken,
    entry_text,
    event_from,
    fields_of,
)
from models.department_events import PlanBroken

_SAMPLES: dict[str, Any] = {"str": "x", "int": 7, "bool": True}


def sample(cls: type[CaseEvent]) -> CaseEvent:
    return cls(**{f.name: _SAMPLES[str(f.type)] for f in dataclasses.fields(cls)})


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_event_comes_back_from_its_stored_fields(kind: str) -> None:
    event = sample(KINDS[kind])
    stored = json.loads(json.dumps(fields_of(event)))  # as the read model and a history hold it
    assert event_from(kind, stored) == event
    assert event.detail().strip()


def test_amounts_are_written_in_the_currency_s_own_decimals() -> None:
    assert PaymentRecorded(120_050, "CNY", "B-1").detail() == "1,200.50 CNY ref B-1"
    assert (
        PromiseBroken(5_000, 10_000, "JPY").detail()
        == "5,000 JPY of 10,000 JPY paid; contact resumes"
    )
    assert PlanBroken("2026-12-01", 0, 150_000, "CNY").detail() == (
        "instalment of 2026-12-01 missed (0.00 CNY of 1,500.00 CNY paid)"
    )


def test_a_typed_entry_is_shown_as_written_and_an_old_one_in_yuan() -> None:
    paused = Paused("customer paid 500 USD cash")
    assert entry_text(paused.KIND, paused.detail(), fields_of(paused)) == paused.detail()
    # Entries recorded before typed events wrote amounts in minor units and have no fields.
    assert entry_text("payment", "120050 CNY ref B-1", None) == "1,200.50 CNY ref B-1"


def test_an_entry_of_an_unknown_kind_or_missing_a_field_has_no_typed_event() -> None:
    assert event_from("kind_of_tomorrow", {"a": 1}) is None
    assert event_from("payment", {"amount_minor": 1}) is None
    assert event_from("payment", None) is None
    newer = {**fields_of(Paused("why")), "added_later": 1}  # a field a newer version wrote
    assert event_from("paused", newer) == Paused("why")
