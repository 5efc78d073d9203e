"""The engineers' look into workflow histories: a case's runs with what is still retrying, for
`collections history show`, and one run as stored, for export and replay.

`Histories` holds the Temporal client; `connect_histories` makes one from settings, decoding
payloads with this machine's keys (to read them) or leaving them as stored (to export them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter

from config.settings import Settings
from temporal.history import NoSuchWorkflow, fetch_run, fetch_runs, pending_activities

__all__ = ["CaseHistory", "Histories", "NoSuchWorkflow", "connect_histories"]


@dataclass(frozen=True)
class CaseHistory:
    workflow_id: str
    runs: list[WorkflowHistory]  # oldest first
    pending: Sequence[PendingActivityInfo]  # activities of the latest run still retrying
    converter: DataConverter  # decodes the payloads (with the codec, when connected with one)


class Histories:
    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def namespace(self) -> str:
        return self._client.namespace

    async def case_history(self, workflow_id: str, *, max_runs: int = 0) -> CaseHistory:
        """The runs of the workflow's continue-as-new chain; `NoSuchWorkflow` without one."""
        runs = await fetch_runs(self._client, workflow_id, max_runs=max_runs)
        pending = await pending_activities(self._client, workflow_id)
        return CaseHistory(workflow_id, runs, pending, self._client.data_converter)

    async def run(self, workflow_id: str, run_id: str | None = None) -> WorkflowHistory:
        """One run (the latest without `run_id`) as stored; `NoSuchWorkflow` without it."""
        return await fetch_run(self._client, workflow_id, run_id)


async def connect_histories(settings: Settings, *, decode: bool) -> Histories:
    """`decode`: with this machine's payload keys, to read what the payloads say; without,
    an export keeps the payloads as they are stored."""
    from temporal.client import connect
    from temporal.codec import codec_from_settings

    codec = codec_from_settings(settings) if decode else None
    return Histories(await connect(settings, codec, sends_payloads=False))
