"""An outbox relay woken by a commit while events flow waits a moment for the commits close behind
it, so that one round publishes them all; after a quiet second it publishes at once.

The relay's rounds are scripted and its waits are recording fakes (tests/unit/test_polling.py), its
clock a counter the test moves: nothing sleeps."""

from __future__ import annotations

import pytest

from services.common.bus import outbox
from services.common.bus.outbox import OutboxRelay
from tests.unit.test_polling import RecordingEvent


class ScriptedRelay(OutboxRelay):
    """Rounds publish what the script says; a commit lands during each round (the wake is set)."""

    def __init__(self, published: list[int], linger: float):
        super().__init__(pool=None, schema="intake", amqp_url=None, linger=linger)
        self.published = list(published)
        self.waits: list[tuple[str, float]] = []
        self.wake = RecordingEvent(self.waits, "wake")
        self.stopping = RecordingEvent(self.waits, "stopping")

    def _broker(self):
        return None

    def relay_once(self, connection) -> int:
        self.wake.set()  # a writer committed while this round ran
        return self.published.pop(0)


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(outbox.time, "monotonic", lambda: now[0])
    return now


def test_a_wake_while_events_flow_lingers_for_the_commits_behind_it(clock):
    relay = ScriptedRelay([3, 2], linger=0.02)
    relay._round()  # published 3 just now; the commit's wake is met with a linger
    assert relay.waits == [("wake", 0), ("stopping", 0.02)]
    relay._round()
    assert relay.waits[2:] == [("wake", 0), ("stopping", 0.02)]


def test_after_a_quiet_second_a_wake_is_served_at_once(clock):
    relay = ScriptedRelay([0], linger=0.02)  # this round finds nothing
    relay._last_sent = clock[0] - 1.5  # the last events went out a second and a half ago
    relay._round()
    assert relay.waits == [("wake", 0)]  # no linger: nothing was flowing


def test_without_a_linger_a_flowing_relay_never_waits_for_more(clock):
    relay = ScriptedRelay([3], linger=0.0)
    relay._round()
    assert relay.waits == [("wake", 0)]
