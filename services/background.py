"""Running a service's background workers (outbox relay, consumers, scheduler) as threads."""

from __future__ import annotations

import logging
import signal
import threading
import time

from services.registry import ServiceSpec, Worker

log = logging.getLogger(__name__)


def exit_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl+C does: the serving loop stops on SystemExit (waitress
    closes on it), then the caller's cleanup runs, undisturbed by a second SIGTERM."""

    def leave(_signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)


class Background:
    """Starts workers in daemon threads; stop() asks each to finish and waits for it."""

    def __init__(self, workers: list[Worker]):
        self.workers = workers
        self.threads: list[threading.Thread] = []

    @classmethod
    def of(cls, service: ServiceSpec, runtime, relay: bool = True, workers: bool = True) -> Background:
        # A service without an outbox (the console) has no relay.
        chosen: list[Worker] = [runtime.relay()] if relay and hasattr(runtime, "relay") else []
        return cls(chosen + (service.workers(runtime) if workers else []))

    def start(self) -> Background:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=type(worker).__name__, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop, then wait for all of them within one shared deadline."""
        for worker in self.workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                log.warning("worker %s did not stop within %s s; leaving it to exit with the process",
                            thread.name, timeout)  # fmt: skip
