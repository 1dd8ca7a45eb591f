"""Logs: one JSON object per line for a collector (``OHS_LOG_FORMAT=json``, the default), or the human
format (``text``, what ``make run`` uses). Either way a line logged inside a span carries its trace id,
so an operator goes from a log line to the trace and back (``shared.tracing``).

A JSON line: ``ts`` (ISO-8601 with the offset), ``level``, ``service``, ``logger``, ``message``,
``trace_id`` and ``span_id`` (when there is a current span), any ``extra=`` fields of the call, and
``exc`` (the traceback) for an exception. The consumer logs one line per handled record (logger
``ohs.consumer``: :func:`handled`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime
from typing import Any

from opentelemetry import trace

CONSUMER_LOG = logging.getLogger("ohs.consumer")
# what every LogRecord has: the rest of its __dict__ came from extra=
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName", "color_message"}  # uvicorn's ANSI copy
_REGION_CODE = re.compile(r"\d{6}")


def _trace_ids() -> tuple[str, str] | None:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = _trace_ids()
        if ids is not None:
            line["trace_id"], line["span_id"] = ids
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``%(asctime)s <service> %(levelname)s %(name)s: %(message)s``, then ``trace_id=…`` when there is one."""

    def __init__(self, service: str):
        super().__init__(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        text = super().formatMessage(record)
        ids = _trace_ids()
        return f"{text} trace_id={ids[0]}" if ids is not None else text


def formatter(settings: Any) -> logging.Formatter:
    service = settings.service_name
    return TextFormatter(service) if getattr(settings, "log_format", "json") == "text" else JsonFormatter(service)


def configure_logging(settings: Any, level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """The process's logging: one handler on the root logger (stderr), in ``settings.log_format``. The
    loggers of uvicorn, FastStream and aiokafka propagate to it (``serve`` runs uvicorn without its own
    logging config). Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # in case something configured them already
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # kafka-python (the lag probe, the dead-letter count, topic administration) tells of every connection it opens
    # and closes at INFO: thousands of lines a day that say nothing an operator acts on; its warnings still show
    logging.getLogger("kafka").setLevel(max(level, logging.WARNING))
    return handler


def loggable_key(key: bytes | str | None) -> str | None:
    """A record key fit for a log line: a credit code cut to its first 8 characters and "…" (who the
    employer is stays in the database, not in the logs); a 6-digit region code whole."""
    if key is None:
        return None
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    if _REGION_CODE.fullmatch(text) or len(text) <= 8:
        return text
    return text[:8] + "…"


def handled(record: Any, *, topic: str, group: str, outcome: str, event_id: str | None = None, event_type: str | None = None) -> None:
    """The one line for a record the consumer handled: ``outcome`` processed, duplicate or dead_lettered.
    Logged inside the record's consumer span, so the line carries its trace id."""
    if not CONSUMER_LOG.isEnabledFor(logging.INFO):
        return
    partition, offset = getattr(record, "partition", None), getattr(record, "offset", None)
    credit_code = loggable_key(getattr(record, "key", None))
    CONSUMER_LOG.info(
        "%s %s[%s]@%s %s %s", outcome, topic, partition, offset, event_type or "-", event_id or "-",
        extra={"event_id": event_id, "event_type": event_type, "topic": topic, "partition": partition, "offset": offset,
               "group": group, "outcome": outcome, "credit_code": credit_code},
    )
