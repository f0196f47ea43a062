"""The polling loop every background worker is built on: rounds, waits, wakes, backoff and stop.

Its events are fakes whose waits return at once and record how long the loop would have waited
(nothing when the event was set), so no test sleeps; a scripted loop stops when its script runs out.
"""

from __future__ import annotations

import logging
import threading

import pytest

from services.common.polling import Backoff, PollingLoop, run_in_thread


class Outage(Exception):
    pass


class RecordingEvent(threading.Event):
    """An event whose wait never blocks: it records how long a real one would have waited."""

    def __init__(self, waits: list[tuple[str, float]], name: str):
        super().__init__()
        self.waits, self.name = waits, name

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append((self.name, 0 if self.is_set() else timeout))
        return self.is_set()


class Scripted(PollingLoop):
    """Rounds that answer from a script: True (a full batch), False, or an exception to raise."""

    label, waiting = "scripted loop", "scripted loop waiting"
    outages = (Outage,)

    def __init__(self, script: list, interval: float = 5.0, backoff: Backoff | None = None):
        super().__init__(interval, backoff=backoff)
        self.script = list(script)
        self.waits: list[tuple[str, float]] = []
        self.wake = RecordingEvent(self.waits, "wake")
        self.stopping = RecordingEvent(self.waits, "stopping")
        self.hooks: list[str] = []

    def poll(self) -> bool:
        self.hooks.append(f"poll, woken={self.wake.is_set()}")
        answer = self.script.pop(0)
        if not self.script:
            self.stop()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def started(self) -> None:
        self.hooks.append("started")

    def waiting_out(self, error: Exception) -> None:
        self.hooks.append(f"waiting out {error}")

    def finished(self) -> None:
        self.hooks.append("finished")


def test_a_round_with_a_full_batch_is_followed_at_once_and_one_without_waits_the_idle_interval():
    loop = Scripted([True, True, False, False])

    loop.run()

    assert loop.waits == [("wake", 5.0)]  # the last round was asked to stop, so nothing after it


def test_the_idle_interval_is_asked_of_the_loop_each_time():
    class Listening(Scripted):
        def idle_interval(self) -> float:
            return 60.0

    loop = Listening([False, False])

    loop.run()

    assert loop.waits == [("wake", 60.0)]


def test_a_wake_is_cleared_before_each_round_so_one_set_during_a_round_ends_the_next_wait():
    loop = Scripted([False, False])
    loop.wake.set()  # before the first round: already looked for by it

    def poll_and_wake() -> bool:
        first = Scripted.poll(loop)
        loop.wake.set()  # new work committed while the round was looking
        return first

    loop.poll = poll_and_wake
    loop.run()

    assert loop.hooks[1:3] == ["poll, woken=False", "poll, woken=False"]
    assert loop.waits == [("wake", 0)]  # the wake during the first round: no wait before the next


def test_outages_are_logged_and_waited_out_with_a_backoff_that_doubles_to_its_ceiling_and_resets(caplog):
    loop = Scripted(
        [Outage("gone"), Outage("gone"), Outage("gone"), Outage("gone"), False, Outage("gone"), False],
        backoff=Backoff(0.5, 1.5),
    )

    with caplog.at_level(logging.INFO, logger=__name__):
        loop.run()

    assert loop.waits == [
        ("stopping", 0.5),
        ("stopping", 1.0),
        ("stopping", 1.5),
        ("stopping", 1.5),
        ("wake", 5.0),
        ("stopping", 0.5),  # a round that worked started the backoff again
    ]
    assert loop.hooks.count("waiting out gone") == 5
    assert caplog.messages.count("scripted loop waiting: gone") == 5
    assert caplog.messages[0] == "scripted loop started" and caplog.messages[-1] == "scripted loop stopped"


def test_a_fixed_backoff_waits_the_same_after_every_outage():
    loop = Scripted([Outage("gone"), Outage("gone"), Outage("gone"), False], backoff=Backoff(0.5, 0.5))

    loop.run()

    assert loop.waits == [("stopping", 0.5)] * 3


def test_an_error_that_is_no_outage_ends_the_loop_after_its_finish():
    loop = Scripted([False, KeyError("a bug"), False])

    with pytest.raises(KeyError):
        loop.run()

    assert loop.hooks == ["started", "poll, woken=False", "poll, woken=False", "finished"]


def test_stop_ends_the_loop_after_the_round_in_hand_and_cuts_its_wait_short():
    loop = Scripted([False, False, False])

    def poll_then_stop() -> bool:
        Scripted.poll(loop)
        loop.stop()
        return False

    loop.poll = poll_then_stop
    loop.run()

    assert loop.hooks == ["started", "poll, woken=False", "finished"]
    assert loop.wake.is_set()  # stop() wakes a waiting loop


class Counting(PollingLoop):
    """A real loop on real events: counts its rounds, a full batch for the first three."""

    label = "counting loop"

    def __init__(self):
        super().__init__(interval=60.0)
        self.rounds = 0
        self.idle = threading.Event()

    def poll(self) -> bool:
        self.rounds += 1
        if self.rounds >= 3:
            self.idle.set()
        return self.rounds < 3


def test_a_loop_in_its_thread_is_woken_and_stopped_without_waiting_its_interval():
    loop = Counting()
    thread = run_in_thread(loop)
    assert loop.idle.wait(5)  # three rounds, then a wait of a minute

    loop.idle.clear()
    loop.wake.set()
    assert loop.idle.wait(5)
    loop.stop()
    thread.join(5)

    assert not thread.is_alive()
    assert thread.name == "counting loop"
    assert loop.rounds >= 4
