"""History files: the JSON that Temporal's UI and CLI export and `WorkflowHistory.to_json`
writes (`{"events": [...]}`), with the workflow id beside the events when this project wrote
it. Payloads stay as they were stored, encrypted when the system encrypts. Replaying them
against the workflow code is the workers' (`workers.replay`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf.json_format import ParseError
from temporalio.client import WorkflowHistory

WORKFLOW_ID_KEY = "workflowId"  # ignored by `WorkflowHistory.from_json`, so others still read it


class HistoryFileError(Exception):
    """A history file that cannot be read; the message says why."""


def history_document(history: WorkflowHistory) -> dict[str, Any]:
    """The file form of `history`: Temporal's JSON, led by the workflow id."""
    return {WORKFLOW_ID_KEY: history.workflow_id, **history.to_json_dict()}


def write_history(history: WorkflowHistory, path: Path) -> None:
    text = json.dumps(history_document(history), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def read_history(path: Path) -> WorkflowHistory:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HistoryFileError(exc.strerror or type(exc).__name__) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HistoryFileError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise HistoryFileError("not a history: the JSON is not an object")
    try:
        history = WorkflowHistory.from_json(_workflow_id(document, path), document)
        history.run_id  # noqa: B018 - checks that the first event starts a workflow
    except (ValueError, ParseError, RuntimeError, AttributeError, TypeError) as exc:
        raise HistoryFileError(f"not a workflow history: {exc}") from None
    return history


def _workflow_id(document: dict[str, Any], path: Path) -> str:
    """As written beside the events, else as the server recorded it, else the file's name."""
    events = document.get("events")
    first = events[0] if isinstance(events, list) and events else None
    started = (
        first.get("workflowExecutionStartedEventAttributes") if isinstance(first, dict) else None
    )
    recorded = started.get("workflowId") if isinstance(started, dict) else None
    return str(document.get(WORKFLOW_ID_KEY) or recorded or path.name.split(".")[0])
