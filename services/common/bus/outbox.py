"""The transactional outbox: events are rows written with the change, then relayed to the broker.

``OutboxWriter.add`` runs inside the caller's transaction, so an event exists exactly when the
change that caused it was committed. ``OutboxRelay`` publishes unpublished rows oldest first with
publisher confirms and marks them sent; a crash between publish and mark sends a row twice, which
the consumers' inbox absorbs. Several relays may run: ``SKIP LOCKED`` gives each its own rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import Any

import psycopg
from kombu import Connection
from psycopg import sql
from psycopg_pool import ConnectionPool

from services.common.bus.confirms import ConfirmedChannel
from services.common.bus.connection import BROKER_OUTAGES, broker_connection
from services.common.bus.envelope import Envelope, dump_envelope
from services.common.db import insert_many
from services.common.observability.metrics import EVENTS_PUBLISHED, OUTBOX_PUBLISH_FAILURES
from services.common.polling import FLOWING_SECONDS, Backoff, PollingLoop

log = logging.getLogger(__name__)


def wake_channel(schema: str) -> str:
    """The PostgreSQL notification channel a service's relay listens on."""
    return f"outbox_{schema}"


class OutboxWriter:
    """Adds events to a service's outbox on the connection of the current transaction.

    After the transaction commits, its owner calls `committed()`, which wakes a relay running in
    the same process at once. When the relay runs in another process (an API served with
    `--no-workers`, its relay in the worker), a writer given the database's `conninfo` sends
    a NOTIFY on the outbox's channel after each commit that added events, on a connection of its
    own to `conninfo`: a statement of its own, after the commit, because PostgreSQL serialises committing
    transactions that notify (a NOTIFY inside the transaction cost intake a fifth of its commit
    rate). The relay listens, and so needs no frequent polling.
    """

    def __init__(self, schema: str, conninfo: str | None = None):
        self.schema = schema
        self.written = threading.Event()
        self.relay_here = False  # set when this process runs the relay: no NOTIFY needed
        self._conninfo = conninfo
        self._notifier: psycopg.Connection | None = None
        self._notifier_lock = threading.Lock()
        self._added = threading.local()  # this thread's transaction added events
        self._insert_head = (  # its rows' placeholders follow: see insert_many
            sql.SQL("INSERT INTO {}.outbox (id, routing_key, envelope) VALUES")
            .format(sql.Identifier(schema))
            .as_string()
        )
        self._with_event: dict[str, str] = {}  # see add_with: composed once per statement

    def add(self, conn: psycopg.Connection, envelope: Envelope, routing_key: str | None = None) -> None:
        """Queue the event; the routing key is its type unless a more specific one is given."""
        self.add_many(conn, [(envelope, routing_key)])

    def add_many(self, conn: psycopg.Connection, events: list[tuple[Envelope, str | None]]) -> None:
        """Queue several events, in order, with one statement (one round trip)."""
        insert_many(conn, *self.insert_of(events))

    def insert_of(self, events: list[tuple[Envelope, str | None]]) -> tuple[str, list[tuple]]:
        """The events as `insert_many`'s head and rows, for a caller writing them with other rows in
        one statement (`insert_together`); the relay is woken after the commit as for `add_many`."""
        rows = [
            (envelope.id, routing_key or envelope.type, json.dumps(dump_envelope(envelope)))
            for envelope, routing_key in events
        ]
        if rows:
            self._added.events = True
        return self._insert_head, rows

    def add_with(
        self,
        conn: psycopg.Connection,
        change: str,
        params: dict,
        event_id: str,
        routing_key: str,
        body: dict,
    ) -> None:
        """Run `change` (an INSERT or UPDATE with named placeholders, no RETURNING) and queue an
        envelope already validated and dumped (see `dump_envelope`), as one statement.

        One round trip instead of two, and atomic even on a connection in autocommit, where the
        statement is a transaction of its own: the event exists exactly when the change does.
        """
        statement = self._with_event.get(change)
        if statement is None:
            statement = self._with_event[change] = (
                sql.SQL(
                    "WITH change AS ({}) INSERT INTO {}.outbox (id, routing_key, envelope)"
                    " VALUES (%(event_id)s, %(event_routing_key)s, %(event_envelope)s)"
                )
                .format(sql.SQL(change), sql.Identifier(self.schema))
                .as_string()
            )
        conn.execute(statement, {**params, **_event_params(event_id, routing_key, body)})
        self._added.events = True

    def event_params(self, envelope: Envelope, routing_key: str | None = None) -> dict[str, Any]:
        """The event's outbox row as named parameters (`event_id`, `event_routing_key`,
        `event_envelope`), for a statement of the caller's own that inserts it only when its change
        happened; the caller calls `added()` when it did, so the commit wakes the relay."""
        return _event_params(envelope.id, routing_key or envelope.type, dump_envelope(envelope))

    def added(self) -> None:
        """A statement of the caller's own queued an event (see `event_params`)."""
        self._added.events = True

    def committed(self) -> None:
        """After a commit: wake the relay if the transaction added events (and only then: a relay
        woken for nothing costs a transaction of three statements)."""
        if not getattr(self._added, "events", False):
            return
        self._added.events = False
        self.written.set()
        if self._conninfo and not self.relay_here:
            self._notify()

    def _notify(self) -> None:
        """NOTIFY the relay; a failure only delays the events to the relay's next poll."""
        with self._notifier_lock:
            try:
                if self._notifier is None or self._notifier.closed:
                    self._notifier = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
                self._notifier.execute("SELECT pg_notify(%s, '')", (wake_channel(self.schema),))
            except psycopg.Error as exc:
                log.warning("could not wake the outbox relay: %s", exc, extra={"schema": self.schema})
                with contextlib.suppress(Exception):
                    self._notifier.close()
                self._notifier = None


def _event_params(event_id: str, routing_key: str, body: dict) -> dict[str, Any]:
    return {"event_id": event_id, "event_routing_key": routing_key, "event_envelope": json.dumps(body)}


class OutboxRelay(PollingLoop):
    """Publishes a service's outbox to the events exchange until stopped; survives the broker and
    the database going away (it waits them out with a backoff, reconnecting to the broker)."""

    label, waiting = "outbox relay", "outbox relay waiting"
    outages = (*BROKER_OUTAGES, psycopg.OperationalError)

    def __init__(
        self,
        pool: ConnectionPool,
        schema: str,
        amqp_url: str | None,
        batch_size: int = 100,
        idle_wait: float = 0.1,
        wake: threading.Event | None = None,
        listen: bool = False,
        listening_wait: float = 5.0,
        linger: float = 0.0,
    ):
        # woken by an OutboxWriter of the same process, or a NOTIFY
        super().__init__(idle_wait, wake, Backoff(0.5, 10.0))
        self.linger = linger  # while events flow, how long a wake waits for more commits to join its batch
        self._last_sent = float("-inf")  # monotonic time of the last round that published
        self.pool = pool
        self.schema = schema
        self.amqp_url = amqp_url
        self.batch_size = batch_size
        self.listening_wait = listening_wait  # between polls while notifications wake it
        self.listener = WakeListener(pool.conninfo, wake_channel(schema), self.wake) if listen else None
        self.connected = threading.Event()  # set while the broker is reachable; readiness reads it
        self.connection: Connection | None = None  # opened by the first round, dropped by an outage
        self._channel: ConfirmedChannel | None = None  # see _publisher
        self.log_extra = {"schema": schema}
        self._take = (
            # The oldest unpublished rows, locked and marked sent in the statement that reads them (its
            # transaction commits only after the broker confirmed them: see relay_once). The
            # envelope as the text it is stored as: published as it is, never parsed here.
            sql.SQL(
                "UPDATE {outbox} o SET published_at = now(), attempts = o.attempts + 1 FROM ("
                "SELECT id FROM {outbox} WHERE published_at IS NULL ORDER BY created_at LIMIT %s"
                " FOR UPDATE SKIP LOCKED) AS oldest WHERE o.id = oldest.id"
                " RETURNING o.id, o.routing_key, o.envelope::text AS body, o.envelope ->> 'type' AS type,"
                " o.envelope ->> 'correlation_id' AS correlation_id, o.created_at"
            )
            .format(outbox=sql.Identifier(schema, "outbox"))
            .as_string()
        )
        self._mark_unsent = (
            sql.SQL("UPDATE {}.outbox SET published_at = NULL, last_error = %s WHERE id = ANY(%s)")
            .format(sql.Identifier(schema))
            .as_string()
        )

    @classmethod
    def for_writer(cls, pool: ConnectionPool, writer: OutboxWriter, settings) -> OutboxRelay:
        """The relay of a service's outbox, woken by that service's writer in this process, and by
        the NOTIFY of its writers in other processes."""
        writer.relay_here = True
        return cls(
            pool,
            writer.schema,
            settings.amqp_url,
            settings.relay_batch_size,
            wake=writer.written,
            listen=True,
            linger=settings.relay_linger_ms / 1000,
        )

    def for_own_writes(self, poll_every: float = 30.0) -> OutboxRelay:
        """This relay as an API runs it (`serve --no-workers`): woken by the API's own writers after
        each commit, with no LISTEN connection of its own and a seldom poll; the service's worker
        relay listens, polls every few seconds, and takes whatever an API left when it stopped."""
        self.listener = None
        self.interval = poll_every
        return self

    def relay_once(self, connection: Connection) -> int:
        """Publish one batch, wait once for the broker's confirms; return how many it confirmed.

        Only confirmed rows are marked sent, in the same commit that records a failure on the
        others: a broker that drops or refuses mid-batch loses nothing, and sends again only the
        rows it did not confirm (the consumers' inbox absorbs those that did arrive).
        """
        publisher = self._publisher(connection)
        with self.pool.connection() as conn, conn.transaction():
            # Marked sent as they are read (one statement fewer a round); the rows the broker did
            # not confirm are unmarked before the commit, and nothing is if the round fails.
            rows = sorted(conn.execute(self._take, (self.batch_size,)).fetchall(), key=_oldest_first)
            if not rows:
                return 0
            confirms = publisher.publish([message(row) for row in rows])
            sent = [row for place, row in enumerate(rows) if place in confirms.confirmed]
            if confirms.error is not None:
                unsent = [row["id"] for place, row in enumerate(rows) if place not in confirms.confirmed]
                conn.execute(self._mark_unsent, (str(confirms.error)[:1000], unsent))
        self._count(sent, confirms.error)
        if confirms.error is not None:
            raise confirms.error
        return len(sent)

    def _publisher(self, connection: Connection) -> ConfirmedChannel:
        """The confirm-mode channel on `connection`: another after an error left it broken."""
        if self._channel is None or self._channel.broken or self._channel.connection is not connection:
            if self._channel is not None:
                self._channel.close()
            self._channel = ConfirmedChannel(connection)
        return self._channel

    def _count(self, sent: list[dict], failure: Exception | None) -> None:
        """Metrics, once the batch is committed: published per event type, and failures."""
        for row in sent:
            EVENTS_PUBLISHED.labels(self.schema, row["type"] or "unknown").inc()
        if failure is not None:
            OUTBOX_PUBLISH_FAILURES.labels(self.schema).inc()

    def poll(self) -> bool:
        sent = self.relay_once(self._broker())
        if sent:
            self._last_sent = time.monotonic()
        return sent >= self.batch_size  # a full batch: more may wait

    def woken(self) -> None:
        """While events flow (one was published less than a second ago), a commit's wake waits
        `linger` for the commits close behind it: one round, one statement and one confirm for
        several. After a quiet second the relay publishes at once."""
        if self.linger and time.monotonic() - self._last_sent < FLOWING_SECONDS:
            self.stopping.wait(self.linger)

    def idle_interval(self) -> float:
        """Seldom while notifications wake it; often while they cannot (see WakeListener)."""
        listening = self.listener is not None and self.listener.listening.is_set()
        return self.listening_wait if listening else self.interval

    def _broker(self) -> Connection:
        if self.connection is None:
            self.connection = broker_connection(self.amqp_url, confirm_each=False)  # see relay_once
            self.connection.ensure_connection(max_retries=1)
            self.backoff.reset()  # the broker answers: a database still away is retried every 0.5 s
            self.connected.set()
        return self.connection

    def started(self) -> None:
        if self.listener is not None:
            self.listener.start()

    def waiting_out(self, error: Exception) -> None:
        self.connected.clear()
        self._disconnect()

    def finished(self) -> None:
        self._disconnect()

    def _disconnect(self) -> None:
        self._channel = None  # closed with its connection
        if self.connection is not None:
            self.connection.release()
            self.connection = None

    def stop(self) -> None:
        """Finish the batch in hand (the rows the broker confirmed are marked sent), then return from run()."""
        super().stop()
        if self.listener is not None:
            self.listener.stop()

    @property
    def name(self) -> str:
        return f"outbox-relay-{self.schema}"

    def is_ready(self) -> bool:
        return self.connected.is_set()

    def backlog(self) -> tuple[int, float | None]:
        """How many rows wait, and the age in seconds of the oldest."""
        query = (
            sql.SQL(
                "SELECT count(*) AS n, extract(epoch FROM now() - min(created_at)) AS age "
                "FROM {}.outbox WHERE published_at IS NULL"
            )
            .format(sql.Identifier(self.schema))
            .as_string()
        )
        with self.pool.connection() as conn:
            row = conn.execute(query).fetchone()
        return row["n"], (float(row["age"]) if row["age"] is not None else None)


class WakeListener:
    """LISTENs on an outbox's channel on a connection of its own and sets `wake` on each NOTIFY.

    `listening` is set while it listens; the relay polls often whenever it is not (the database
    away, or the connection lost), and sets `wake` once more on each new LISTEN, since a NOTIFY
    sent while nobody listened is lost.
    """

    def __init__(self, conninfo: str, channel: str, wake: threading.Event):
        self.conninfo, self.channel, self.wake = conninfo, channel, wake
        self.listening = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, name=f"wake-{self.channel}", daemon=True)
            self.thread.start()

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.listening.set()
                    self.wake.set()
                    backoff = 0.5
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except psycopg.Error as exc:
                if self.stopping.is_set():  # the database shut down while this said goodbye: expected
                    break
                log.warning(
                    "outbox relay not woken by notifications: %s", exc, extra={"channel": self.channel}
                )
            self.listening.clear()
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def stop(self) -> None:
        self.stopping.set()


def _oldest_first(row: dict):
    """RETURNING gives the rows in no set order: the relay publishes them oldest first."""
    return row["created_at"]


def message(row: dict) -> dict:
    """An outbox row as the keyword arguments of its publish: the stored JSON text as the body."""
    return {
        "body": row["body"].encode(),
        "routing_key": row["routing_key"],
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "message_id": str(row["id"]),
        "correlation_id": row["correlation_id"],
        "type": row["routing_key"],
    }


def wait_until_drained(relay: OutboxRelay, timeout: float = 10.0) -> bool:
    """Test and shutdown helper: wait until the outbox is empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if relay.backlog()[0] == 0:
            return True
        time.sleep(0.05)
    return False
