"""What `collections api` and `collections worker` write to their logs, and to `var/`: JSON
lines (or text) that name no customer, and files for their owner only."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from fastapi.exceptions import ResponseValidationError
from pydantic import BaseModel, Field, ValidationError

from cli.private import keep_private
from config.logs import JsonFormatter, TextFormatter, log_config
from config.settings import Settings, load_settings
from tests.integration.processes import free_port, project_process

ACCOUNT = "6222000012345678"
NAME = "Wang Xiuying"
PHONE = "+8613800138000"
FORMATTERS = (JsonFormatter(), TextFormatter())


class Customer(BaseModel):
    name: str = Field(max_length=3)
    phone: int


def logged(formatter: logging.Formatter, message: str, *args: object, **kwargs: object) -> str:
    """What `formatter` writes for one record logged by `tests.logs`."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(message, *args, **kwargs)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_a_json_line_is_one_object_with_long_digit_runs_masked() -> None:
    line = logged(
        JsonFormatter(),
        "case-%s assessed, called %s",
        ACCOUNT,
        "12345",
        extra={"temporal_workflow": {"workflow_id": f"case-{ACCOUNT}"}},
    )
    assert line.count("\n") == 1
    entry = json.loads(line)
    assert entry.keys() == {"time", "level", "logger", "message"}
    assert entry["message"] == "case-******5678 assessed, called 12345"
    assert entry["level"] == "ERROR" and entry["logger"] == "tests.logs"
    assert entry["time"].endswith("+00:00")
    assert ACCOUNT not in line


def failing_intake() -> None:
    try:
        Customer.model_validate({"name": NAME, "phone": PHONE + " (mobile)"})
    except ValidationError as error:
        raise RuntimeError(f"intake of {ACCOUNT} failed") from error


@pytest.mark.parametrize("formatter", FORMATTERS, ids=type)
def test_an_exception_keeps_its_type_and_frames_but_not_the_input(
    formatter: logging.Formatter,
) -> None:
    try:
        failing_intake()
    except RuntimeError:
        text = logged(formatter, "request failed", exc_info=True)
    shown = json.loads(text)["exception"] if isinstance(formatter, JsonFormatter) else text
    assert NAME not in shown and PHONE not in shown and ACCOUNT not in shown
    assert "pydantic_core._pydantic_core.ValidationError: 2 validation error(s)" in shown
    assert "name: String should have at most 3 characters" in shown
    assert "direct cause of the following exception" in shown
    assert "RuntimeError: intake of ******5678 failed" in shown
    assert "in failing_intake" in shown  # the frames stay


@pytest.mark.parametrize("formatter", FORMATTERS, ids=type)
def test_sql_parameters_and_response_bodies_stay_out(formatter: logging.Formatter) -> None:
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE customer (name TEXT UNIQUE)"))
        insert = sqlalchemy.text("INSERT INTO customer VALUES (:name)")
        connection.execute(insert, {"name": NAME})
        try:
            connection.execute(insert, {"name": NAME})
        except sqlalchemy.exc.IntegrityError:
            text = logged(formatter, "write failed", exc_info=True)
    assert NAME not in text and "UNIQUE constraint failed" in text
    body = [{"loc": ("response", "name"), "msg": "too long", "type": "x", "input": NAME}]
    try:
        raise ResponseValidationError(body)
    except ResponseValidationError:
        text = logged(formatter, "answer failed", exc_info=True)
    assert NAME not in text and "response.name: too long" in text


def test_log_format_and_public_docs_are_settings(tmp_path: Path) -> None:
    no_file = tmp_path / ".env"
    default = load_settings({}, env_file=no_file)
    assert (default.log_format, default.public_docs) == ("json", False)
    chosen = load_settings({"LOG_FORMAT": "TEXT", "API_PUBLIC_DOCS": "1"}, env_file=no_file)
    assert (chosen.log_format, chosen.public_docs) == ("text", True)
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml"}, env_file=no_file)
    assert log_config("text")["formatters"]["line"]["()"] is TextFormatter
    assert log_config("json")["loggers"]["uvicorn.access"]["propagate"] is False


@pytest.fixture
def umask() -> Iterator[None]:
    """`keep_private` sets the process's umask: the test's is given back."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def sqlite_in(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'collections.db'}"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_api_and_worker_keep_var_to_their_owner(tmp_path: Path, umask: None) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    keep_private(Settings(var_dir=var, database_url=sqlite_in(var)))
    (var / "collections.db").write_bytes(b"")
    assert mode(var) == 0o700
    assert mode(var / "collections.db") == 0o600


def test_a_var_the_process_does_not_write_to_is_left_alone(tmp_path: Path, umask: None) -> None:
    var = tmp_path / "var"
    keep_private(Settings(var_dir=var, database_url="postgresql+asyncpg://db/collections"))
    assert not var.exists()
    keep_private(Settings(var_dir=var, database_url="postgresql+asyncpg://db/c"), create_var=True)
    assert mode(var) == 0o700


def test_collections_api_logs_json_lines_naming_no_account_and_no_query(tmp_path: Path) -> None:
    """The real process: uvicorn's own access log (raw path and query) is off, and what the
    API writes under `var/` (the database its health check opens) is its owner's."""
    var = tmp_path / "var"
    var.mkdir()
    var.chmod(0o755)
    port = free_port()
    env = {
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "COLLECTIONS_VAR_DIR": str(var),
        "DATABASE_URL": sqlite_in(var),
        "PAYLOAD_KEYS": "k1:" + base64.b64encode(bytes(32)).decode(),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nobody there: the API starts anyway
        "LOG_FORMAT": "json",
        "API_PUBLIC_DOCS": "",
    }
    log = tmp_path / "api.log"
    query = {"name": NAME, "phone": PHONE}
    with project_process(["api"], env, log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_for_answer(base, process.poll)
        timeline = httpx.get(f"{base}/cases/{ACCOUNT}/timeline", params=query)
        assert timeline.status_code == 403
        assert httpx.get(f"{base}/no/such/{ACCOUNT}", params=query).status_code == 404
        assert mode(var) == 0o700
        written = list(var.iterdir())
        assert "collections.db" in {p.name for p in written}
        assert all(mode(p) == 0o600 for p in written), [(p.name, oct(mode(p))) for p in written]
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    access = [(e["method"], e["path"], e["status"]) for e in entries if e["logger"] == "api.access"]
    assert ("GET", "/cases/{account_no}/timeline", 403) in access
    assert ("GET", "/no/such/******5678", 404) in access
    text = log.read_text()
    for secret in (ACCOUNT, NAME, "Wang", "13800138000", "name=", "phone="):
        assert secret not in text, secret
    assert not [e for e in entries if e["logger"] == "uvicorn.access"]


def wait_for_answer(base: str, exited: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert callable(exited) and exited() is None, "the API exited"
        try:
            httpx.get(f"{base}/health", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{base} did not answer within {within} s")
