"""A request for a message and its complaint, taken by two notify workers at the same moment.

Routing asks for the acknowledgement as soon as it has read complaint.received, so notify often
gets both within milliseconds, and with two workers each may run in its own transaction: the
request's worker finds no complaint yet, the complaint's worker finds no request waiting yet. Neither
may miss the other: whichever commits second plans the request.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from services.notify.service_layer.handlers import complaint_known, notification_requested
from services.notify.service_layer.unit_of_work import UnitOfWork
from tests.integration.notify.conftest import complaint_received, deliveries, requested
from tests.support.waiting import eventually


class HeldTransaction(threading.Thread):
    """A handler run in a worker's transaction of its own, committed only when `go` is set."""

    def __init__(self, notify, handler, envelope):
        super().__init__(daemon=True)
        self.notify, self.handler, self.envelope = notify, handler, envelope
        self.go, self.error = threading.Event(), None

    def run(self) -> None:
        try:
            with self.notify.pool.connection() as conn:
                uow = UnitOfWork(self.notify.pool, self.notify.outbox, self.notify.wake, conn=conn)
                self.handler(self.envelope, uow, self.notify.context)
                self.go.wait(30)
                conn.commit()
        except Exception as exc:  # shown by the test, not lost in the thread
            self.error = exc


def _someone_waits_for_a_lock(notify) -> bool:
    with notify.uow() as uow:
        return uow.conn.execute("SELECT count(*) AS n FROM pg_locks WHERE NOT granted").fetchone()["n"] > 0


def _request_state(notify, request_id: str) -> str:
    with notify.uow() as uow:
        return uow.conn.execute("SELECT state FROM notify.requests WHERE id = %s", (request_id,)).fetchone()[
            "state"
        ]


@pytest.mark.parametrize("first", ["request", "complaint"])
def test_a_request_and_its_complaint_at_two_workers_at_once_are_planned_whichever_commits_first(
    notify, first
):
    received = complaint_received()
    asked = requested(received.complaint_id)
    request = HeldTransaction(notify, notification_requested, asked)
    complaint = HeldTransaction(notify, complaint_known, received)
    holder, other = (request, complaint) if first == "request" else (complaint, request)

    holder.start()
    other.go.set()  # the other commits as soon as it may
    other.start()
    # it waits for the holder's commit; if it never did, the assertions below say what was missed
    with contextlib.suppress(AssertionError):
        eventually(lambda: _someone_waits_for_a_lock(notify) or not other.is_alive(), timeout=10)
    holder.go.set()
    holder.join(30), other.join(30)

    assert holder.error is None and other.error is None
    assert _request_state(notify, asked.id) == "planned"
    assert [row["kind"] for row in deliveries(notify, received.complaint_id)] == ["acknowledgement"]
