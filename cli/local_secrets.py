"""Secrets the local stack makes for itself when none are configured, so that even `make up`
encrypts payloads and authenticates API calls. They live under var/ (mode 0600), are reused
by every later `up`, and are never printed: the start-up lines say where they are."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from operations.roles import Role
from temporal.codec import load_or_create_local_key

API_KEYS_FILE = "api-keys.env"


def _local_api_keys(var_dir: Path) -> str:
    """`role:key,...` for every role, made once."""
    path = var_dir / API_KEYS_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        pairs = ",".join(f"{role}:{secrets.token_urlsafe(24)}" for role in Role)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(f"API_KEYS={pairs}\n")
    return path.read_text().strip().removeprefix("API_KEYS=")


def local_secrets_env(
    var_dir: Path, *, have_payload_keys: bool, have_api_keys: bool
) -> dict[str, str]:
    """Environment entries for the stack's children: only what the operator did not set."""
    env: dict[str, str] = {}
    if not have_payload_keys:
        key_id, key = load_or_create_local_key(var_dir)
        env["PAYLOAD_KEYS"] = f"{key_id}:{base64.b64encode(key).decode()}"
    if not have_api_keys:
        env["API_KEYS"] = _local_api_keys(var_dir)
    return env
