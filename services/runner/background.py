"""Running a service's background workers (outbox relay, consumers, scheduler) as threads."""

from __future__ import annotations

import logging
import signal
import threading
import time

from services.runner.registry import ServiceSpec, Worker

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
    def of(
        cls, service: ServiceSpec, runtime, relay: bool = True, workers: bool = True, own_writes: bool = False
    ) -> Background:
        """`own_writes`: the relay of an API served with --no-workers (see `for_own_writes`)."""
        chosen: list[Worker] = []
        if relay and hasattr(runtime, "relay"):  # a service without an outbox (the console) has none
            chosen.append(runtime.relay().for_own_writes() if own_writes else runtime.relay())
        return cls(chosen + (service.workers(runtime) if workers else []))

    def start(self) -> Background:
        for worker in self.workers:
            thread = threading.Thread(target=_run, args=(worker,), name=worker_name(worker), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask every worker to stop, then wait for all of them within one shared deadline.

        Each finishes what it holds (a consumer its message, the relay its batch, the scheduler
        its case) and takes nothing new; True when all did within the deadline. One that did not
        is left to end with the process: its transaction is rolled back and its message, never
        acked, is delivered again.
        """
        for worker in self.workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                log.warning(
                    "worker %s did not stop within %s s; leaving it to exit with the process",
                    thread.name,
                    timeout,
                )
        stopped = not any(thread.is_alive() for thread in self.threads)
        if stopped and self.threads:
            log.info("every worker finished what it held and stopped")
        return stopped

    def liveness(self) -> dict[str, str]:
        """Each worker thread: "ok" while it runs; a thread that died asks for a restart."""
        return {thread.name: "ok" if thread.is_alive() else "stopped" for thread in self.threads}

    def readiness(self) -> dict[str, str]:
        """Workers that can tell (consumers, the relay): "ok" once connected to the broker."""
        checks = {}
        for worker, thread in zip(self.workers, self.threads, strict=True):
            is_ready = getattr(worker, "is_ready", None)
            if is_ready is not None:
                checks[thread.name] = "ok" if thread.is_alive() and is_ready() else "not connected"
        return checks


def _run(worker: Worker) -> None:
    """A worker's loop; an error that ends it goes to the log (the liveness probe then fails)."""
    try:
        worker.run()
    except Exception:
        log.exception("worker %s stopped by an error", worker_name(worker))


def worker_name(worker: Worker) -> str:
    return getattr(worker, "name", None) or type(worker).__name__
