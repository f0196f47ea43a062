"""Publishing a batch with one wait for the broker's confirms (RabbitMQ publisher confirms).

A channel in confirm mode numbers what it publishes 1, 2, 3… and the broker answers each number
with `basic.ack` (it has the message) or `basic.nack` (it lost it), one at a time or, with
`multiple`, for every number up to one. Waiting for each answer before the next publish (kombu's
`confirm_publish`) costs a round trip per message; publishing the whole batch and then waiting
until every number is answered costs one per batch and lets the broker answer many at once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError

from services.common.bus.topology import EVENTS_EXCHANGE

_NOT_PROPERTIES = frozenset({"body", "routing_key", "content_type", "content_encoding"})


class Refused(BrokerError):
    """The broker answered `basic.nack`: it did not take the messages."""


@dataclass
class Confirms:
    """What the broker answered for a batch, by each message's place in it."""

    confirmed: set[int] = field(default_factory=set)
    error: Exception | None = None  # set when any message is left unconfirmed, and why


class ConfirmedChannel:
    """A channel of its own in confirm mode that publishes batches to the events exchange.

    On the in-memory transport (the one-process run) nothing is confirmed: a publish that returned
    has delivered. After an error the channel is `broken`: its numbering is unknown, so its owner
    opens another.
    """

    def __init__(self, connection: Connection, timeout: float = 30.0):
        self.connection, self.timeout = connection, timeout
        self.broken = False
        with as_broker_errors(connection):
            self.channel = connection.channel()
            self.confirming = hasattr(self.channel, "confirm_select")  # the memory transport has none
            if self.confirming:
                self.channel.confirm_select()
                self.channel.events["basic_ack"].add(self._acked)
                self.channel.events["basic_nack"].add(self._nacked)
            EVENTS_EXCHANGE(self.channel).declare()  # once for the channel's batches (see _send)
        self.published = 0  # the number of the last message published on the channel
        self.first = 1  # the number of the batch's first message
        self.answers: dict[int, bool] = {}  # the batch's numbers the broker answered: acked or not

    def publish(self, messages: list[dict]) -> Confirms:
        """Publish each message (see `_send`), then wait once until the broker answered every one,
        or the first error: the messages it did not confirm by then are left unconfirmed, whatever
        became of them."""
        self.first, self.answers = self.published + 1, {}
        try:
            with as_broker_errors(self.connection):
                for message in messages:
                    self._send(message)
                    self.published += 1
                self._wait_for_answers(len(messages))
        except Exception as exc:  # any failure: keep what was confirmed, the caller records the rest
            self.broken = True
            return Confirms(self._confirmed(), exc)
        confirmed = self._confirmed()
        refused = len(messages) - len(confirmed)
        return Confirms(
            confirmed, Refused(f"the broker refused {refused} of {len(messages)} events") if refused else None
        )

    def _send(self, message: dict) -> None:
        """One message: its body (bytes: the JSON text as stored), `routing_key`, `content_type`,
        `content_encoding`, and the rest as its properties (`delivery_mode`, `message_id`…).

        Put on the channel as kombu's `Producer.publish` puts it, without that method's work for
        each call (serializer lookup, declaration check, retry wrapping: a batch's messages share
        one exchange, declared when the channel opened), which cost more than the publish itself."""
        properties = {
            key: value for key, value in message.items() if key not in _NOT_PROPERTIES and value is not None
        }
        prepared = self.channel.prepare_message(
            message["body"],
            content_type=message.get("content_type"),
            content_encoding=message.get("content_encoding"),
            headers={},
            properties=properties,
        )
        self.channel.basic_publish(
            prepared, exchange=EVENTS_EXCHANGE.name, routing_key=message["routing_key"]
        )

    def _wait_for_answers(self, count: int) -> None:
        if not self.confirming:
            self.answers = {number: True for number in range(self.first, self.published + 1)}
            return
        deadline = time.monotonic() + self.timeout
        while len(self.answers) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"the broker answered {len(self.answers)} of {count} events in {self.timeout} s"
                )
            self.channel.connection.drain_events(timeout=remaining)

    def _confirmed(self) -> set[int]:
        return {number - self.first for number, acked in self.answers.items() if acked}

    def _acked(self, number: int, multiple: bool) -> None:
        self._answer(number, multiple, True)

    def _nacked(self, number: int, multiple: bool) -> None:
        self._answer(number, multiple, False)

    def _answer(self, number: int, multiple: bool, acked: bool) -> None:
        for each in range(self.first, number + 1) if multiple else (number,):
            if each >= self.first:  # an answer for an earlier batch's message changes nothing now
                self.answers.setdefault(each, acked)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.channel.close()


@contextlib.contextmanager
def as_broker_errors(connection: Connection) -> Iterator[None]:
    """The transport's connection errors (py-amqp's, sockets') as kombu's OperationalError, as
    kombu's own `ensure` raises them: the relay waits those out and reconnects."""
    try:
        yield
    except connection.connection_errors as exc:
        raise BrokerError(str(exc) or type(exc).__name__) from exc
