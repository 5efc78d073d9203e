"""How the API and the worker log: one JSON object per line (`LOG_FORMAT=json`, the default) or
a line of text for people (`LOG_FORMAT=text`), on stderr.

Either way a line carries no customer's data that a formatter can keep out:
- every run of 6 or more digits in a message or an exception is masked to its last 4 digits
  (`******5678`): account numbers, phone numbers, the `case-<account_no>` workflow ids the SDK
  names. Numbers written with separators are the caller's to mask (`models.privacy`);
- an exception is its type, its frames (code, never locals) and a message that leaves out what
  was given: a validation error lists where and what is wrong without the input, an SQL error
  hides its parameters;
- only the fields below are written, never a record's other extras (the SDK's workflow
  context, say).

A line logged while an OpenTelemetry span is current carries its `trace_id` and `span_id`
(`TraceContext` notes them when the line is logged), to find the request's trace.
"""

from __future__ import annotations

import copy
import json
import logging
import logging.config
import re
import traceback
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry import trace

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

# What an access line (`api.security.AccessLog`) adds to a record, written as fields of their own.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")
TRACE_FIELDS = ("trace_id", "span_id")

_DIGIT_RUN = re.compile(r"\d{6,}")
_KEEP = 4
_SHOWS_LAST_DIGITS = 10  # a shorter run shows none of its digits
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def mask_digits(text: str) -> str:
    """`/cases/6222000012345678` -> `/cases/******5678`; runs under 10 digits become `******`."""
    return _DIGIT_RUN.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    run = found.group(0)
    return "******" + (run[-_KEEP:] if len(run) >= _SHOWS_LAST_DIGITS else "")


def exception_text(error: BaseException) -> str:
    """The traceback of `error` and its causes, oldest first as Python prints it, with safe
    messages."""
    parts = []
    for exc, then in reversed(_chain(error)):
        if exc.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        parts.append(f"{_type_name(exc)}: {exception_message(exc)}\n")
        if then:
            parts.append(f"\n{then}\n\n")
    return "".join(parts).rstrip("\n")


def _chain(error: BaseException) -> list[tuple[BaseException, str]]:
    """`error`, its cause or context, theirs ...; each with what is said after it is shown."""
    chain: list[tuple[BaseException, str]] = [(error, "")]
    seen = {id(error)}
    while True:
        newer = chain[-1][0]
        if newer.__cause__ is not None:
            older, then = newer.__cause__, _CAUSE
        elif newer.__context__ is not None and not newer.__suppress_context__:
            older, then = newer.__context__, _CONTEXT
        else:
            return chain
        if id(older) in seen:
            return chain
        seen.add(id(older))
        chain.append((older, then))


def exception_message(error: BaseException) -> str:
    """What `str(error)` says, without the input a validation error echoes, the parameters an
    SQL error shows, or long digit runs."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        listed = _errors_without_input(errors)
        if listed is not None:
            return mask_digits(listed)
    if hasattr(error, "hide_parameters"):  # SQLAlchemy's StatementError and its kin
        try:
            hidden = copy.copy(error)
            hidden.hide_parameters = True
            return mask_digits(str(hidden))
        except Exception:
            return "(message withheld: it may hold SQL parameters)"
    try:
        return mask_digits(str(error))
    except Exception:
        return "(message unavailable)"


def _errors_without_input(errors: Any) -> str | None:
    """pydantic's and FastAPI's validation errors: where and what, never the input."""
    try:
        try:
            found = errors(include_input=False, include_url=False, include_context=False)
        except TypeError:
            found = errors()  # FastAPI's: dicts that hold the input, dropped below
    except Exception:
        return None
    if not isinstance(found, Sequence) or not all(isinstance(e, Mapping) for e in found):
        return None
    described = [
        f"{'.'.join(str(part) for part in e.get('loc', ()))}: {e.get('msg', '')}" for e in found
    ]
    return f"{len(found)} validation error(s): " + "; ".join(described)


def _type_name(error: BaseException) -> str:
    kind = type(error)
    where = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return where + kind.__qualname__


def _message(record: logging.LogRecord) -> str:
    return mask_digits(record.getMessage())


class TraceContext(logging.Filter):
    """Notes the current span's ids on a record, in the thread that logs it (a formatter may
    run later, elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        return True


class JsonFormatter(logging.Formatter):
    """One object per line: time, level, logger, message; an access line's request fields;
    the trace's ids; `exception` and `stack` when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for name in (*REQUEST_FIELDS, *TRACE_FIELDS):
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = exception_text(record.exc_info[1])
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message`, then the exception as `exception_text` tells it."""

    def format(self, record: logging.LogRecord) -> str:
        # `record.exc_text` is ignored on purpose: another formatter may have cached the
        # unmasked traceback there.
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {_message(record)}"
        if record.exc_info and record.exc_info[1] is not None:
            line += "\n" + exception_text(record.exc_info[1])
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


def log_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for a process: everything to stderr in `log_format`;
    uvicorn's loggers pass through it, and its access log is off (`api.security.AccessLog`
    writes one without account numbers or query strings; start uvicorn with
    `log_config=None, access_log=False` so that it keeps this)."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "filters": {"trace": {"()": TraceContext}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["trace"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # Alembic announces each of its plugins at import: not news in a server's log.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(log_format: LogFormat) -> None:
    """Sets this process's logging up; warnings are logged too, so every line is one format."""
    logging.config.dictConfig(log_config(log_format))
    logging.captureWarnings(True)
