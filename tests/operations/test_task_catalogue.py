"""The task actions' catalogue: every update of the case that acts on a task is in it, with
the update's own input type and declared roles."""

from __future__ import annotations

import dataclasses

from temporalio.workflow import _Definition

from operations.catalogue import TASK_ACTIONS
from workflows.case import CollectionCaseWorkflow


def test_every_update_that_names_a_task_is_a_task_action() -> None:
    updates = _Definition.must_from_class(CollectionCaseWorkflow).updates
    on_tasks = {
        name: update.arg_types[0]
        for name, update in updates.items()
        if update.arg_types
        and dataclasses.is_dataclass(update.arg_types[0])
        and "task_key" in {f.name for f in dataclasses.fields(update.arg_types[0])}
    }
    assert {action.name: action.input_type for action in TASK_ACTIONS.values()} == on_tasks


def test_every_task_action_is_taken_by_someone_and_its_fields_are_its_inputs() -> None:
    for action in TASK_ACTIONS.values():
        assert action.roles, action.name
        names = {f.name for f in dataclasses.fields(action.input_type)}
        assert set(action.internal) <= names - {"task_key"}
        assert not action.collector_is_caller or "collector" in names
