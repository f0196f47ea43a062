"""Structured JSON logs carrying the correlation id and complaint id of the work in hand.

The ids live in context variables: the HTTP layer sets them from request headers, the consumer
from the message envelope, so one complaint can be followed across every service's log.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
complaint_id: ContextVar[str | None] = ContextVar("complaint_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def log_context(correlation: str | None = None, complaint: str | None = None) -> Iterator[None]:
    """Bind the ids for the duration of one unit of work."""
    tokens = [correlation_id.set(correlation or correlation_id.get() or new_correlation_id())]
    if complaint is not None:
        tokens.append(complaint_id.set(complaint))
    try:
        yield
    finally:
        for token in reversed(tokens):
            token.var.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # An id passed explicitly (`extra={"complaint_id": ...}`) wins over the context's.
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id.get()
        if getattr(record, "complaint_id", None) is None:
            record.complaint_id = complaint_id.get()
        return True


def configure_logging(level: str = "INFO", json_output: bool = True, service: str = "mall") -> None:
    """Send every log line to stderr, as JSON unless asked for plain text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if json_output:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s %(complaint_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
                json_ensure_ascii=False,  # a reason typed in Chinese reads, and greps, as typed
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("amqp", "kombu", "waitress.queue", "yoyo", "spiff", "pgserver"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
