"""The one shape of a background loop: a round of work, a wait, again, until stopped.

The outbox relay, routing's timer scheduler, notify's delivery worker and reporting's retention
scheduler are each a `PollingLoop` that says only what one round does (`poll`). The loop runs
the next round at once after a round that found a full batch, waits the idle interval otherwise
(cut short by `wake`), waits out the outages a subclass names with a backoff, logged as
warnings, and ends after the round in hand once `stop()` is called.
"""

from __future__ import annotations

import logging
import threading

# Work less than this apart is a flow: a consumer, or a relay, lingers for more to join its batch.
FLOWING_SECONDS = 1.0


class Backoff:
    """The waits after consecutive failures: `first`, doubled each time up to `ceiling`."""

    def __init__(self, first: float = 0.5, ceiling: float = 10.0):
        self.first, self.ceiling = first, ceiling
        self.current = first

    def next(self) -> float:
        wait, self.current = self.current, min(self.current * 2, self.ceiling)
        return wait

    def reset(self) -> None:
        self.current = self.first


class PollingLoop:
    """A worker's loop (`run()` blocks until `stop()`); a subclass writes `poll()`."""

    label = "polling loop"  # its log lines: "<label> started", "<label> stopped"
    waiting = "polling loop waiting"  # the warning logged with an outage, before the error
    outages: tuple[type[Exception], ...] = ()  # errors waited out; any other ends run()

    def __init__(self, interval: float, wake: threading.Event | None = None, backoff: Backoff | None = None):
        self.interval = interval  # between rounds that found less than a batch
        self.wake = wake or threading.Event()  # set by whoever has new work for it, and by stop()
        self.backoff = backoff or Backoff()
        self.stopping = threading.Event()
        self.log = logging.getLogger(type(self).__module__)  # the subclass's logger, as before
        self.log_extra: dict = {}

    def poll(self) -> bool:
        """One round; True when it found a full batch (more may wait, so the next starts at once)."""
        raise NotImplementedError

    def idle_interval(self) -> float:
        """How long to wait after a round that found less than a batch, unless woken."""
        return self.interval

    def woken(self) -> None:
        """After a wake cut the idle wait short, before the next round (a relay lingers there)."""

    def started(self) -> None:
        """In the loop's thread, before the first round."""

    def waiting_out(self, error: Exception) -> None:
        """After an outage, before the backoff: drop what it broke (a connection)."""

    def finished(self) -> None:
        """In the loop's thread, once it ends: close what the rounds used."""

    def run(self) -> None:
        """Rounds until `stop()`; an error it does not name as an outage ends it (the log and the
        liveness probe then say so)."""
        self.log.info("%s started", self.label, extra=self.log_extra)
        self.started()
        try:
            while not self.stopping.is_set():
                self._round()
        finally:
            self.finished()
        self.log.info("%s stopped", self.label, extra=self.log_extra)

    def _round(self) -> None:
        self.wake.clear()  # before looking: a wake from here on is for work this round may miss
        try:
            busy = self.poll()
        except self.outages as exc:
            self.log.warning("%s: %s", self.waiting, exc, extra=self.log_extra)
            self.waiting_out(exc)
            self.stopping.wait(self.backoff.next())  # not cut short by wakes: new work waits too
            return
        self.backoff.reset()
        if not busy and not self.stopping.is_set() and self.wake.wait(self.idle_interval()):
            self.woken()

    def stop(self) -> None:
        """Finish the round in hand, then return from `run()`."""
        self.stopping.set()
        self.wake.set()


def run_in_thread(loop: PollingLoop) -> threading.Thread:
    """Start a loop in a daemon thread (the runner's `Background` does so for a service's workers;
    tests and benchmarks use this)."""
    thread = threading.Thread(target=loop.run, name=getattr(loop, "name", loop.label), daemon=True)
    thread.start()
    return thread
