"""Without payload keys nothing that sends customers' data connects to Temporal; with them,
failures' messages reach histories encrypted too and still read back whole."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from config.settings import Settings
from temporal.client import MissingPayloadKeys, connect, data_converter, require_codec
from temporal.codec import EncryptionCodec

PHONE = "+8613800138000"


def test_without_keys_nothing_connects_and_the_message_says_how_to_make_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(MissingPayloadKeys, match="collections keys new"):
        require_codec(Settings(var_dir=tmp_path), None)


async def test_a_client_that_sends_payloads_refuses_before_it_dials(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, temporal_address="127.0.0.1:9")  # nothing listens
    with pytest.raises(MissingPayloadKeys):
        await connect(settings, None)


def test_the_test_only_opt_out_is_loud(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        require_codec(Settings(var_dir=tmp_path, plaintext_payloads=True), None)
    assert "UNENCRYPTED" in caplog.text


async def test_the_api_refuses_to_start_without_keys(tmp_path: Path) -> None:
    app = create_app(Settings(var_dir=tmp_path, database_url="sqlite+aiosqlite://"))
    with pytest.raises(MissingPayloadKeys):
        async with app.router.lifespan_context(app):
            pass


def test_the_worker_refuses_to_start_without_keys(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PAYLOAD_KEYS", "COLLECTIONS_PLAINTEXT_PAYLOADS")
    }
    env["COLLECTIONS_VAR_DIR"] = str(tmp_path / "var")
    env["TEMPORAL_ADDRESS"] = "127.0.0.1:9"
    collections = Path(sys.executable).parent / "collections"
    ran = subprocess.run(
        [str(collections), "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 2
    assert "the worker will not start: no payload keys" in ran.stderr


@workflow.defn(sandboxed=False)
class FailsQuoting:
    @workflow.run
    async def run(self, phone: str) -> None:
        raise ApplicationError(f"customer {phone} could not be reached", type="Unreachable")


async def test_a_failure_s_message_reaches_history_encrypted_and_reads_back(
    ts_env: WorkflowEnvironment,
) -> None:
    config = ts_env.client.config()
    config["data_converter"] = data_converter(EncryptionCodec([("k1", bytes(range(32)))]))
    client = Client(**config)
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[FailsQuoting]):
        handle = await client.start_workflow(
            FailsQuoting.run, PHONE, id=f"fails-{queue}", task_queue=queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and PHONE in cause.message  # read back whole
    history = await ts_env.client.get_workflow_handle(handle.id).fetch_history()
    raw = history.to_json()
    assert PHONE not in raw and "could not be reached" not in raw
    [ended] = [
        e for e in history.events if e.HasField("workflow_execution_failed_event_attributes")
    ]
    assert ended.workflow_execution_failed_event_attributes.failure.message == "Encoded failure"


def test_keys_new_prints_an_entry_for_payload_keys() -> None:
    collections = Path(sys.executable).parent / "collections"
    ran = subprocess.run(
        [str(collections), "keys", "new", "--key-id", "k9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    key_id, key = ran.stdout.strip().split(":")
    assert key_id == "k9" and len(base64.b64decode(key, validate=True)) == 32
