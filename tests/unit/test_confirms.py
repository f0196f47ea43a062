"""A batch published with one wait for the broker's confirms: which messages count as confirmed.

kombu's in-memory transport stands in for the broker's channel (it confirms nothing: a publish
that returned has delivered); for confirm mode the broker's answers are scripted, as RabbitMQ
sends them: `basic.ack` / `basic.nack` for one delivery tag, or with `multiple` for every tag up
to it. The real broker's answers, nacks included, are in tests/integration/test_bus.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu import Connection

from services.common.bus.confirms import ConfirmedChannel, Refused


def message(number: int) -> dict:
    return {
        "body": f'{{"n": {number}}}'.encode(),
        "routing_key": "test.event",
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "message_id": str(number),
    }


def batch(count: int) -> list[dict]:
    return [message(number) for number in range(count)]


class ScriptedBroker:
    """The channel's connection in confirm mode: each drain brings the next scripted answers."""

    def __init__(self, publisher: ConfirmedChannel, *answers: list[tuple[str, int, bool]]):
        self.publisher, self.answers = publisher, list(answers)

    def drain_events(self, timeout: float) -> None:
        if not self.answers:
            raise TimeoutError("no answer")
        for kind, tag, multiple in self.answers.pop(0):
            getattr(self.publisher, f"_{kind}")(tag, multiple)


@pytest.fixture
def publisher():
    with Connection("memory://localhost/") as connection:
        yield ConfirmedChannel(connection, timeout=5)


def confirm_mode(publisher: ConfirmedChannel, *answers) -> None:
    publisher.confirming = True
    real = publisher.channel  # publishes as before; only the broker's answers are scripted
    publisher.channel = SimpleNamespace(
        connection=ScriptedBroker(publisher, *answers),
        prepare_message=real.prepare_message,
        basic_publish=real.basic_publish,
    )


def test_without_confirms_a_batch_published_is_a_batch_confirmed(publisher):
    confirms = publisher.publish(batch(3))

    assert confirms.confirmed == {0, 1, 2}
    assert confirms.error is None


def test_acks_for_several_tags_at_once_confirm_every_message_up_to_the_tag(publisher):
    confirm_mode(publisher, [("acked", 3, True)], [("acked", 4, False), ("acked", 5, False)])

    confirms = publisher.publish(batch(5))

    assert (confirms.confirmed, confirms.error) == ({0, 1, 2, 3, 4}, None)


def test_a_message_refused_in_the_middle_is_the_only_one_unconfirmed(publisher):
    confirm_mode(publisher, [("acked", 2, True)], [("nacked", 3, False)], [("acked", 5, True)])

    confirms = publisher.publish(batch(5))

    assert confirms.confirmed == {0, 1, 3, 4}
    assert isinstance(confirms.error, Refused)
    assert str(confirms.error) == "the broker refused 1 of 5 events"
    assert not publisher.broken  # the channel's numbering is still known: it goes on


def test_the_next_batch_counts_on_from_the_last_tag_and_ignores_answers_for_an_earlier_one(publisher):
    confirm_mode(publisher, [("acked", 2, True)], [("acked", 1, False), ("acked", 4, True)])

    first, second = publisher.publish(batch(2)), publisher.publish(batch(2))

    assert (first.confirmed, second.confirmed) == ({0, 1}, {0, 1})


def test_a_batch_left_unanswered_keeps_what_was_confirmed_and_breaks_the_channel(publisher):
    confirm_mode(publisher, [("acked", 2, True)])

    confirms = publisher.publish(batch(4))

    assert confirms.confirmed == {0, 1}
    assert isinstance(confirms.error, TimeoutError)
    assert publisher.broken  # its numbering is unknown now: its owner opens another
