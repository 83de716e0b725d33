"""Logging: one line a record, JSON for machines or plain text for a terminal, secrets redacted.

`configure_logging()` sets up the root logger once per process (the CLI and each server
worker). Every record carries the time (UTC, ISO 8601), level, logger and message; records
written while a request is handled also carry its request id and, once known, the caller's user
id (never a token). Anything that looks like a secret is redacted from the formatted line: the
password of a database URL, bearer tokens and the service's own `cmsr_` tokens.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any, Literal, TextIO

LogFormat = Literal["auto", "json", "text"]

request_id_var: ContextVar[str | None] = ContextVar("cmsreporting_request_id", default=None)
"""The id of the request being handled in this context (None outside requests)."""

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)[^@\s]*@")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",;]+")
_TOKEN = re.compile(r"cmsr_[A-Za-z0-9_-]{40,}")  # cmsr_ + 32 random bytes, base64url
_KEY_VALUE = re.compile(r"(?i)\b(password|passwd|pwd|secret|token)(\s*[=:]\s*)[^\s&'\",;]+")
REDACTED = "***"

# attributes every LogRecord has (and uvicorn's coloured copy of its message); anything else
# given through `extra=` is written as a field
_RECORD_FIELDS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "color_message"}
)


def redact(text: str) -> str:
    """`text` with database URL passwords, bearer tokens and API tokens replaced by ***."""
    lowered = text.lower()
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)
    if "cmsr_" in text:
        text = _TOKEN.sub("cmsr_" + REDACTED, text)
    if "bearer" in lowered:
        text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    if "passw" in lowered or "pwd" in lowered or "secret" in lowered or "token" in lowered:
        text = _KEY_VALUE.sub(rf"\g<1>\g<2>{REDACTED}", text)
    return text


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS}


class RequestContextFilter(logging.Filter):
    """Adds `request_id` to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = request_id_var.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, process id, then the record's own
    fields."""

    def __init__(self) -> None:
        super().__init__()
        self.pid = os.getpid()  # made in the process that logs (each worker configures its own)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": self.pid,
        }
        entry.update(_extra(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value…` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _extra(record)
        request_id = fields.pop("request_id", None)
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}"
        if request_id:
            line += f" [{request_id}]"
        line += f" {record.getMessage()}"
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        line = line.replace("\r", "\\r").replace("\n", "\\n")  # one record, one line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def resolve_format(log_format: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    """`auto`: text when `stream` is a terminal, JSON otherwise."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return "text" if isatty is not None and isatty() else "json"
    return log_format


def configure_logging(
    *, level: str = "INFO", log_format: LogFormat = "auto", stream: TextIO | None = None
) -> None:
    """Send every logger's records to one handler on `stream` (standard error by default).

    Replaces the root logger's handlers, so calling it again (a server worker after the CLI)
    takes the latest settings. Uvicorn's own loggers write through the same handler; its access
    log is left off, the service writes its own (`cmsreporting.access`).
    """
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter() if resolve_format(log_format, stream) == "json" else TextFormatter()
    )
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # what no line shows is not collected for each record
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.captureWarnings(True)
