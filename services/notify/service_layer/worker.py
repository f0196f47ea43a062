"""The delivery worker: claim due deliveries, send each outside any transaction, record each outcome.

Any number of workers (threads, processes, machines) share the work: claims take rows with FOR
UPDATE SKIP LOCKED. A crash between a send and its record is covered in adapters/deliveries.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg
from psycopg_pool import PoolTimeout

from services.common.errors import Unavailable
from services.common.polling import Backoff, PollingLoop
from services.notify.adapters.channels import Channel, OutgoingMessage, PermanentFailure, TransientFailure
from services.notify.adapters.deliveries import Delivery
from services.notify.metrics import DELIVERY_ATTEMPTS
from services.notify.service_layer import outcomes
from services.notify.service_layer.context import Context
from services.notify.service_layer.outcomes import INTERRUPTED, Outcome
from services.notify.service_layer.pacing import hold_back
from services.notify.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(minutes=1)


class DeliveryWorker(PollingLoop):
    label, waiting = "delivery worker", "delivery worker waiting for the database"
    outages = (Unavailable, psycopg.OperationalError)

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        context: Context,
        channels: dict[str, Channel],
        batch: int = 10,
        poll_interval: float = 1.0,
        wake: threading.Event | None = None,
    ):
        # woken when new deliveries are planned in this process
        super().__init__(poll_interval, wake, Backoff(poll_interval, poll_interval))
        self.uow = uow  # a fresh unit of work for each transaction: claim, record, hand back, sweep
        self.context = context
        self.channels = channels
        self.batch = batch
        self._last_sweep: datetime | None = None

    def tick(self) -> int:
        """Send one batch of due deliveries; return how many were taken.

        Told to stop, it finishes the message it is sending and hands back the ones it had claimed
        but not begun, due at once for another worker: a slow mail server cannot keep a stopping
        worker past its grace period with a batch in hand.
        """
        self.sweep()
        claimed = self.claim()
        for index, delivery in enumerate(claimed):
            if self.stopping.is_set():
                self.release(claimed[index:])
                break
            self.record_once_sent(delivery, self.send(delivery))
        return len(claimed)

    def claim(self) -> list[Delivery]:
        with self.uow() as uow:
            now = self.context.clock.now()
            claimed = uow.deliveries.claim_due(now, self.context.lease, self.batch)
            for delivery in claimed:
                if delivery.was == "sending":
                    uow.deliveries.attempt(delivery.id, now, "interrupted", INTERRUPTED)
            going = hold_back(uow, self.context, claimed, now)
        count_claims(claimed, going)
        return going

    def send(self, delivery: Delivery) -> Outcome:
        channel = self.channels.get(delivery.channel)
        if channel is None:
            return Outcome(outcomes.TRANSIENT, f"no {delivery.channel} channel is configured")
        try:
            return Outcome(outcomes.SENT, channel.send(outgoing(delivery)))
        except PermanentFailure as exc:
            return Outcome(outcomes.PERMANENT, exc.answer)
        except TransientFailure as exc:
            return Outcome(outcomes.TRANSIENT, exc.answer)
        except Exception as exc:  # a channel's own bug must not stop the worker; the delivery is retried
            log.exception("channel %s failed unexpectedly", delivery.channel)
            return Outcome(outcomes.TRANSIENT, f"{type(exc).__name__}: {exc}")

    def record(self, delivery: Delivery, outcome: Outcome) -> None:
        if outcome.kind == outcomes.SENT:
            # One statement that writes (outcomes.record), its own transaction: no BEGIN and COMMIT.
            with self.uow().each_statement_commits() as uow:
                outcomes.record(uow, self.context, delivery, outcome)
        else:
            with self.uow() as uow, uow.pipelined():
                outcomes.record(uow, self.context, delivery, outcome)
        DELIVERY_ATTEMPTS.labels(delivery.channel, outcome.kind).inc()

    def record_once_sent(self, delivery: Delivery, outcome: Outcome) -> None:
        """Record what the send came to, waiting for a database that does not answer: the message is
        out, and a record dropped now would leave the delivery `sending` until its lease ran out and
        then send it a second time. Only a worker told to stop gives up (its lease covers it)."""
        wait = 0.5
        while True:
            try:
                self.record(delivery, outcome)
                return
            except (Unavailable, psycopg.OperationalError, PoolTimeout) as exc:
                if self.stopping.is_set():
                    raise
                log.warning(
                    "delivery %s: its outcome waits for the database: %s",
                    outcome.kind,
                    exc,
                    extra={"delivery_id": delivery.id},
                )
                self.stopping.wait(wait)
                wait = min(wait * 2, 10.0)

    def release(self, deliveries: list[Delivery]) -> None:
        """Give claimed deliveries back untried: pending, due now, their attempt not counted."""
        with self.uow() as uow:
            now = self.context.clock.now()
            for delivery in deliveries:
                uow.deliveries.again_at(delivery, now, None, undo_attempt=True)
        log.info("delivery worker stopping: handed back %s claimed deliveries", len(deliveries))

    def sweep(self) -> None:
        """Now and then: fail the requests whose complaint never came."""
        now = self.context.clock.now()
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = now
        with self.uow() as uow:
            outcomes.expire_waiting(uow, self.context)

    def poll(self) -> bool:
        try:
            return self.tick() >= self.batch  # a full batch: more may be due right now
        except self.outages:
            raise
        except Exception:  # keep delivering: one bad row must not stop every message behind it
            log.exception("delivery worker step failed")
            return False

    def finished(self) -> None:
        for channel in self.channels.values():
            channel.close()


def count_claims(claimed: list[Delivery], going: list[Delivery]) -> None:
    """Once the claim has committed: the attempts it found cut off, and those it held back."""
    sending = {delivery.id for delivery in going}
    for delivery in claimed:
        if delivery.was == "sending":
            DELIVERY_ATTEMPTS.labels(delivery.channel, "interrupted").inc()
        if delivery.id not in sending:
            DELIVERY_ATTEMPTS.labels(delivery.channel, "deferred").inc()


def outgoing(delivery: Delivery) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=delivery.id,
        complaint_id=delivery.complaint_id,
        mall_id=delivery.mall_id,
        number=delivery.number or delivery.params.get("number", ""),
        kind=delivery.kind,
        audience=delivery.audience,
        channel=delivery.channel,
        address=delivery.address,
        recipient_name=delivery.recipient_name,
        language=delivery.language,
        subject=delivery.subject or "",
        text=delivery.body_text or "",
        html=delivery.body_html,
        sms=delivery.sms_text,
        message_id=delivery.message_id,
        pdf=delivery.pdf,
        params=delivery.params,
    )
