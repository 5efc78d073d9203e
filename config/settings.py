"""One settings object, loaded once from the environment and `.env`.

Secrets are kept as `SecretStr` so that neither `repr` nor a log line can show them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import SecretStr

from config.logs import LOG_FORMATS, LogFormat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class TaskQueues:
    collections: str = "collections"
    risk: str = "risk"
    legal: str = "legal"

    def all(self) -> tuple[str, str, str]:
        return (self.collections, self.risk, self.legal)


@dataclass(frozen=True)
class Settings:
    var_dir: Path = PROJECT_ROOT / "var"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_ui_port: int = 8233
    temporal_ui_url: str = ""  # where people open the Web UI; default: the local dev server's
    task_queues: TaskQueues = field(default_factory=TaskQueues)
    database_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str = ""
    twilio_base_url: str = ""
    status_callback_url: str = ""
    payload_keys: tuple[tuple[str, SecretStr], ...] = ()
    # The read model's field keys; blank: derived from the payload keys (config/keys.py).
    data_keys: tuple[tuple[str, SecretStr], ...] = ()
    policy_file: Path = POLICY_DIR / "default.toml"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # `/docs`, `/redoc` and `/openapi.json` without signing in; off, they need any role.
    public_docs: bool = False
    log_format: LogFormat = "json"  # `text` for people reading a terminal
    # Single sign-on by OpenID Connect (off while `oidc_issuer` is blank): staff sign in at the
    # bank's identity provider; the claim `oidc_roles_claim` carries their roles.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr | None = None
    oidc_roles_claim: str = "roles"
    oidc_name: str = "SSO"  # what the sign-in button says
    # How long a front end waits for a workflow's answer (an update waits for an assessment or
    # a department's row write: seconds when a worker runs); past it, "no answer".
    answer_timeout_seconds: float = 20.0
    # Who the command line acts as on the cases it changes; blank: the login name.
    cli_actor: str = ""
    # Tests only: connect to Temporal without payload keys (customers' data in clear).
    plaintext_payloads: bool = False
    # Personal data is erased this many years after a case closes (the records rule).
    retention_years: int = 5
    # How long Temporal keeps a closed workflow's history (`up` sets it on the namespace).
    closed_workflow_retention_days: int = 30
    # The worker's Prometheus endpoints (0: off): the project's `collections_*` counters,
    # and the Temporal SDK's runtime metrics (its exporter serves only its own). Both listen
    # on `metrics_host`; the API serves its metrics at `/metrics` on its own port.
    worker_metrics_port: int = 9464
    worker_sdk_metrics_port: int = 9465
    metrics_host: str = "127.0.0.1"
    # The daily intake (`workflows.daily_intake`): where the bank drops its overdue file, the
    # hour (UTC) by which the day's file should be in, and how long without any file is late.
    intake_drop_dir: Path = PROJECT_ROOT / "var" / "intake" / "incoming"
    intake_due_hour_utc: int = 1
    intake_late_after_hours: int = 26
    # How often the allocator puts new tasks in collectors' queues (`operations.allocation`), in
    # minutes; 0: no schedule (tasks wait for a supervisor or `collections tasks allocate`).
    allocate_every_minutes: int = 5
    # At SIGTERM the worker stops polling and gives activities in flight this long to finish
    # (a send under way completes) before cancelling them; `up` waits longer than this.
    worker_grace_seconds: float = 20.0
    # Run workflow code in the SDK's sandbox, our modules re-imported for each run under its
    # restrictions (workers/runners.py): the tests do; a worker need not (a replay takes about
    # half as much CPU again in it).
    workflow_sandbox: bool = False
    # Traces go by OTLP over HTTP to this collector (its base URL, `http://host:4318`); blank:
    # no tracing (config/tracing.py).
    otel_exporter_otlp_endpoint: str = ""
    otel_service_name: str = "collections"
    # A trainee's id (`collections training up`): the stack works synthetic cases in a namespace
    # and read model of its own, and its messages go to the outbox only, never to Twilio.
    training: str = ""
    # The time zone the console shows instants in (IANA name): the operators', not the
    # customers' (a customer's own time is shown beside it where it matters, on the call page).
    console_time_zone: str = "UTC"

    @property
    def tracing(self) -> bool:
        return bool(self.otel_exporter_otlp_endpoint)

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token) and not self.training

    @property
    def web_ui_url(self) -> str:
        return (self.temporal_ui_url or f"http://localhost:{self.temporal_ui_port}").rstrip("/")

    @property
    def api_base_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def intake_errors_dir(self) -> Path:
        """Where the daily intake writes each file's rejected rows (`<name>-<sum>.errors.csv`)."""
        return self.var_dir / "intake" / "errors"

    @property
    def intake_processed_dir(self) -> Path:
        """Where the daily intake moves a file once it is loaded."""
        return self.var_dir / "intake" / "processed"


def _pairs(raw: str, where: str) -> list[tuple[str, str]]:
    """Parses `a:b,c:d`; the error names the variable, never the secret."""
    pairs = []
    for number, item in enumerate(filter(None, (p.strip() for p in raw.split(","))), start=1):
        left, sep, right = item.partition(":")
        if not sep or not left or not right:
            raise ValueError(f"{where}: entry {number} is not of the form name:value")
        pairs.append((left.strip(), right.strip()))
    return pairs


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _hour(value: str) -> int:
    hour = int(value)
    if not 0 <= hour <= 23:
        raise ValueError(f"INTAKE_DUE_HOUR_UTC is an hour from 0 to 23, not {hour}")
    return hour


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CONSOLE_TIME_ZONE is an IANA time zone (Asia/Shanghai), not {value!r}"
        ) from None
    return value


def _minutes(value: str) -> int:
    minutes = int(value)
    if not 0 <= minutes <= 1440:
        raise ValueError(f"ALLOCATE_EVERY_MINUTES is 0 (off) to 1440 minutes, not {minutes}")
    return minutes


def _log_format(value: str) -> LogFormat:
    for known in LOG_FORMATS:
        if value.lower() == known:
            return known
    raise ValueError(f"LOG_FORMAT is one of {', '.join(LOG_FORMATS)}, not {value!r}")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Reads settings from `environ` (default: the process environment) over `.env`."""
    dotenv_path = env_file if env_file is not None else PROJECT_ROOT / ".env"
    values: dict[str, str] = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return values.get(name, default).strip()

    var_dir = Path(get("COLLECTIONS_VAR_DIR") or PROJECT_ROOT / "var")
    policy = get("COLLECTIONS_POLICY", "default")
    policy_file = Path(policy) if policy.endswith(".toml") else POLICY_DIR / f"{policy}.toml"
    if get("API_KEYS"):
        raise ValueError(
            "API_KEYS is no longer read: shared role keys gave way to named staff. Give each "
            "script a service account and its token (`collections staff add svc-... --service`, "
            "`collections token new svc-...`), then remove API_KEYS"
        )
    payload_keys = tuple(
        (key_id, SecretStr(key)) for key_id, key in _pairs(get("PAYLOAD_KEYS"), "PAYLOAD_KEYS")
    )
    data_keys = tuple(
        (key_id, SecretStr(key)) for key_id, key in _pairs(get("DATA_KEYS"), "DATA_KEYS")
    )
    cert, key = get("TEMPORAL_TLS_CERT"), get("TEMPORAL_TLS_KEY")
    training = get("COLLECTIONS_TRAINING")
    if training:  # whatever the environment or `.env` says, a trainee's stack knows no Twilio
        for name in [name for name in values if name.startswith("TWILIO_")]:
            del values[name]
    return Settings(
        var_dir=var_dir,
        temporal_address=get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
        temporal_namespace=get("TEMPORAL_NAMESPACE", "default"),
        temporal_tls=_flag(get("TEMPORAL_TLS")) or bool(cert),
        temporal_tls_cert=Path(cert) if cert else None,
        temporal_tls_key=Path(key) if key else None,
        temporal_api_key=SecretStr(get("TEMPORAL_API_KEY")) if get("TEMPORAL_API_KEY") else None,
        temporal_ui_port=int(get("TEMPORAL_UI_PORT", "8233")),
        temporal_ui_url=get("TEMPORAL_UI_URL"),
        task_queues=TaskQueues(
            collections=get("QUEUE_COLLECTIONS", "collections"),
            risk=get("QUEUE_RISK", "risk"),
            legal=get("QUEUE_LEGAL", "legal"),
        ),
        database_url=get("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'collections.db'}",
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=SecretStr(get("TWILIO_AUTH_TOKEN")) if get("TWILIO_AUTH_TOKEN") else None,
        twilio_from_number=get("TWILIO_FROM_NUMBER"),
        twilio_base_url=get("TWILIO_BASE_URL"),
        status_callback_url=get("TWILIO_STATUS_CALLBACK_URL"),
        payload_keys=payload_keys,
        data_keys=data_keys,
        policy_file=policy_file,
        api_host=get("API_HOST", "127.0.0.1"),
        api_port=int(get("API_PORT", "8000")),
        public_docs=_flag(get("API_PUBLIC_DOCS")),
        log_format=_log_format(get("LOG_FORMAT", "json")),
        oidc_issuer=get("OIDC_ISSUER").rstrip("/"),
        oidc_client_id=get("OIDC_CLIENT_ID"),
        oidc_client_secret=SecretStr(get("OIDC_CLIENT_SECRET"))
        if get("OIDC_CLIENT_SECRET")
        else None,
        oidc_roles_claim=get("OIDC_ROLES_CLAIM", "roles"),
        oidc_name=get("OIDC_NAME", "SSO"),
        answer_timeout_seconds=float(get("ANSWER_TIMEOUT_SECONDS", "20")),
        cli_actor=get("COLLECTIONS_ACTOR"),
        plaintext_payloads=_flag(get("COLLECTIONS_PLAINTEXT_PAYLOADS")),
        retention_years=int(get("RETENTION_YEARS", "5")),
        closed_workflow_retention_days=int(get("CLOSED_WORKFLOW_RETENTION_DAYS", "30")),
        worker_metrics_port=int(get("WORKER_METRICS_PORT", "9464")),
        worker_sdk_metrics_port=int(get("WORKER_SDK_METRICS_PORT", "9465")),
        metrics_host=get("METRICS_HOST", "127.0.0.1"),
        intake_drop_dir=Path(get("INTAKE_DROP_DIR") or var_dir / "intake" / "incoming"),
        intake_due_hour_utc=_hour(get("INTAKE_DUE_HOUR_UTC", "1")),
        intake_late_after_hours=int(get("INTAKE_LATE_AFTER_HOURS", "26")),
        allocate_every_minutes=_minutes(get("ALLOCATE_EVERY_MINUTES", "5")),
        worker_grace_seconds=float(get("WORKER_GRACE_SECONDS", "20")),
        workflow_sandbox=_flag(get("WORKFLOW_SANDBOX")),
        otel_exporter_otlp_endpoint=get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        otel_service_name=get("OTEL_SERVICE_NAME") or "collections",
        training=training,
        console_time_zone=_time_zone(get("CONSOLE_TIME_ZONE", "UTC")),
    )
