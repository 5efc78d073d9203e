"""Secrets the local stack makes for itself when none are configured, so that even `make up`
encrypts payloads and has someone to sign in as. They live under var/ (mode 0600), are reused
by every later `up`, and are never printed: the start-up lines say where they are."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from temporal.codec import load_or_create_local_key

FIRST_ADMIN_FILE = "first-admin-password"


async def first_admin(var_dir: Path, database_url: str) -> Path | None:
    """Makes the directory's first admin, `admin`, when it has none: its one-time password
    goes to a 0600 file under var/ (never printed), to be changed at the first sign-in.
    Returns the file, or None when an admin exists."""
    from operations import staff
    from readmodel.engine import Database

    db = Database(database_url)
    try:
        if await staff.has_admin(db):
            return None
        path = var_dir / FIRST_ADMIN_FILE
        if await staff.find(db, "admin") is None:
            password = await staff.add(db, "admin", name="First admin", roles=["admin"])
        else:  # an `admin` without the role: give it back, with a new one-time password
            await staff.set_roles(db, "admin", ["admin"])
            await staff.set_active(db, "admin", True)
            password = await staff.reset_password(db, "admin")
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(f"staff ID: admin\none-time password: {password}\n")
        return path
    finally:
        await db.dispose()


def local_secrets_env(var_dir: Path, *, have_payload_keys: bool) -> dict[str, str]:
    """Environment entries for the stack's children: only what the operator did not set."""
    env: dict[str, str] = {}
    if not have_payload_keys:
        key_id, key = load_or_create_local_key(var_dir)
        env["PAYLOAD_KEYS"] = f"{key_id}:{base64.b64encode(key).decode()}"
    return env
