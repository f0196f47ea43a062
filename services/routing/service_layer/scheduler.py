"""The timer scheduler every routing worker runs: fire due cases, sleep until the next one.

Due cases are taken with FOR UPDATE SKIP LOCKED, so any number of workers share the work with no
leader, and a timer that fell due while every worker was down fires at the next start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import psycopg

from services.common.errors import Unavailable
from services.common.polling import Backoff, PollingLoop
from services.routing.domain.commands import FireDueTimers

if TYPE_CHECKING:
    from services.routing.bootstrap import Routing

log = logging.getLogger(__name__)


class TimerScheduler(PollingLoop):
    name = "timer-scheduler"
    label, waiting = "timer scheduler", "timer scheduler waiting for the database"
    outages = (Unavailable, psycopg.OperationalError)

    def __init__(self, routing: Routing, poll_interval: float = 0.5, batch: int = 50):
        super().__init__(poll_interval, backoff=Backoff(poll_interval, poll_interval))
        self.routing = routing
        self.batch = batch

    def tick(self) -> int:
        """Fire up to one batch of due cases, each in its own transaction; how many were taken.

        Asked to stop, it finishes the case in hand and takes no other.
        """
        taken = 0
        while taken < self.batch and not self.stopping.is_set():
            if self.routing.bus.handle(FireDueTimers(limit=1)) == 0:
                break
            taken += 1
        return taken

    def poll(self) -> bool:
        return self.tick() >= self.batch  # a full batch: more may be due right now
