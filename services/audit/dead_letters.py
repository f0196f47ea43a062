"""The dead-letter queues, read with kombu: what each holds and why, and an operator's way out.

Reading takes each message without acknowledging it and closes the channel afterwards, so RabbitMQ
puts every one back where it was: listing changes nothing. `replay` sends one message back to the
queue it failed on (after the fault is fixed); `discard` removes it for good, with a reason that is
logged together with the message, so nothing leaves a dead-letter queue unexplained.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from dataclasses import dataclass
from typing import Any

from amqp.exceptions import NotFound
from kombu import Connection, Queue

from services.audit.model import Finding
from services.common import jsonlimits
from services.common.bus.consumer import RETRY_HEADER
from services.common.bus.topology import SUBSCRIPTIONS, TASK_COMMANDS_QUEUE

log = logging.getLogger(__name__)

DEAD_QUEUES = tuple(f"{name}.dead" for name in (*SUBSCRIPTIONS, TASK_COMMANDS_QUEUE))
SHOWN = 50  # messages read per queue; the count is always the whole queue's
# Only the depth matters to find a type: a long array or text in a dead letter is still an envelope.
READABLE = jsonlimits.Limits(items=sys.maxsize, chars=sys.maxsize)
# Headers the consumer adds when it dead-letters a message; a replay starts the message afresh.
ERROR_HEADERS = (
    "x-error",
    "x-error-type",
    "x-failed-queue",
    "x-original-routing-key",
    "x-last-error",
    RETRY_HEADER,
)


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    id: str  # the message id the relay gave it (the event id), or a digest of a body without one
    type: str | None
    error_type: str | None
    error: str | None
    failed_queue: str | None
    body: str
    body_id: str | None = None  # the envelope's own `id`, when the body is one

    def names(self, wanted: str) -> bool:
        """Whether `wanted` is this letter: its message id (or digest), or the id its body carries."""
        return wanted in (self.id, self.body_id)

    def finding(self) -> Finding:
        last_line = (self.error or "no error recorded").strip().splitlines()[-1][:300]
        return Finding(
            "dead_letter",
            self.queue,
            f"{self.id} ({self.type or 'no type'}): {last_line}",
            {
                "message_id": self.id,
                "type": self.type,
                "error_type": self.error_type,
                "error": self.error,
                "failed_queue": self.failed_queue,
                "body": self.body[:2000],
            },
        )


def audit_dead_letters(amqp_url: str) -> tuple[dict[str, int], list[Finding], list[Finding]]:
    """(messages per dead-letter queue, a finding per message read, notices of queues not declared)."""
    counts: dict[str, int] = {}
    findings: list[Finding] = []
    notices: list[Finding] = []
    with Connection(amqp_url, connect_timeout=5) as connection:
        connection.ensure_connection(max_retries=1)
        for name in DEAD_QUEUES:
            letters = read(connection, name)
            if letters is None:
                notices.append(Finding("queue_missing", name, "not declared: its service has not run yet"))
                continue
            counts[name], shown = letters
            findings += [letter.finding() for letter in shown]
            if counts[name] > len(shown):
                findings.append(
                    Finding(
                        "dead_letter",
                        name,
                        f"{counts[name] - len(shown)} more not shown",
                        {"count": counts[name]},
                    )
                )
    return counts, findings, notices


def read(connection: Connection, name: str, limit: int = SHOWN) -> tuple[int, list[DeadLetter]] | None:
    """How many messages the queue holds and the first `limit` of them; None if it does not exist."""
    channel = connection.channel()
    try:
        try:
            count = channel.queue_declare(queue=name, passive=True).message_count
        except NotFound:
            return None
        queue = Queue(name, channel=channel)
        shown = []
        for _ in range(min(count, limit)):
            message = queue.get(no_ack=False)
            if message is None:
                break
            shown.append(_letter(name, message))
        return count, shown
    finally:
        with contextlib.suppress(Exception):  # a passive declare of a missing queue closed it already
            channel.close()  # unacknowledged: every message read goes back to the queue


EVERY = "all"  # as a queue: every dead-letter queue; as a message id: every message of the queue(s)


def replay(amqp_url: str, queue: str, message_id: str) -> list[DeadLetter]:
    """Send each message named back to the queue it failed on, its retry count reset, and remove it here."""

    def send_back(connection: Connection, queue: str, message) -> None:
        headers = {key: value for key, value in (message.headers or {}).items() if key not in ERROR_HEADERS}
        target = (message.headers or {}).get("x-failed-queue") or queue.removesuffix(".dead")
        producer = connection.Producer()
        producer.publish(
            message.body,
            exchange="",
            routing_key=target,
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=2,
            **_ids(message),
        )

    return _take(amqp_url, queue, message_id, send_back)


def discard(amqp_url: str, queue: str, message_id: str, reason: str) -> list[DeadLetter]:
    """Remove each message named for good; the log keeps it, with who-knows-why in `reason`."""

    def keep_in_log(connection: Connection, queue: str, message) -> None:
        letter = _letter(queue, message)
        log.warning(
            "dead letter discarded: %s",
            reason,
            extra={
                "queue": queue,
                "message_id": letter.id,
                "reason": reason,
                "body": letter.body,
                "error": letter.error,
            },
        )

    return _take(amqp_url, queue, message_id, keep_in_log)


def _take(amqp_url: str, queue: str, message_id: str, action) -> list[DeadLetter]:
    """Act on the messages `message_id` names (`all`: every one) in `queue` (`all`: every dead-letter
    queue: one event that poisoned several consumers lies in each of their queues, by one id)."""
    queues = DEAD_QUEUES if queue == EVERY else (queue,)
    taken: list[DeadLetter] = []
    with Connection(amqp_url, connect_timeout=5, transport_options={"confirm_publish": True}) as connection:
        connection.ensure_connection(max_retries=1)
        for name in queues:
            found = _take_from(connection, name, message_id, action)
            if found is None and queue != EVERY:
                raise LookupError(f"there is no queue {queue}")
            taken += found or []
    if not taken:
        where = "any dead-letter queue" if queue == EVERY else queue
        raise LookupError(
            f"no message {message_id} in {where}" if message_id != EVERY else f"{where} is empty"
        )
    return taken


def _take_from(connection: Connection, queue: str, message_id: str, action) -> list[DeadLetter] | None:
    channel = connection.channel()
    try:
        try:
            count = channel.queue_declare(queue=queue, passive=True).message_count
        except NotFound:
            return None
        reader = Queue(queue, channel=channel)
        taken = []
        for _ in range(count):
            message = reader.get(no_ack=False)
            if message is None:
                break
            letter = _letter(queue, message)
            if message_id == EVERY or letter.names(message_id):
                action(connection, queue, message)
                message.ack()
                taken.append(letter)
        return taken
    finally:
        with contextlib.suppress(Exception):
            channel.close()  # the others go back, unacknowledged


def _letter(queue: str, message) -> DeadLetter:
    headers: dict[str, Any] = message.headers or {}
    properties = message.properties or {}
    raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    body = raw.decode("utf-8", errors="replace")
    return DeadLetter(
        queue=queue,
        id=properties.get("message_id") or hashlib.sha256(raw).hexdigest()[:16],
        type=properties.get("type") or _type_in(body),
        error_type=_text(headers.get("x-error-type")),
        error=_text(headers.get("x-error")),
        failed_queue=_text(headers.get("x-failed-queue")),
        body=body,
        body_id=_envelope(body).get("id"),
    )


def _ids(message) -> dict[str, Any]:
    properties = message.properties or {}
    return {key: properties[key] for key in ("message_id", "correlation_id", "type") if properties.get(key)}


def _type_in(body: str) -> str | None:
    """The `type` of an envelope, if the body is one: a dead letter may be anything a sender
    published, JSON nested thousands of levels deep too (its type is then unknown, not a crash)."""
    return _envelope(body).get("type")


def _envelope(body: str) -> dict[str, Any]:
    """The body as JSON, when it is an object that can be read; else nothing of it."""
    try:
        found = jsonlimits.loads(body, READABLE)
    except (ValueError, jsonlimits.TooComplex):
        return {}
    return (
        {key: value for key, value in found.items() if isinstance(value, str)}
        if isinstance(found, dict)
        else {}
    )


def _text(value: Any) -> str | None:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
