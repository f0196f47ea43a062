"""The stored events: every event reporting consumed, kept so the read model can be rebuilt from them."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import psycopg

from services.common.bus.envelope import Envelope
from services.common.db import insert_many
from services.common.personal import customer_masks, customers_in, erase_personal
from services.reporting.domain.model import Event


def envelope_json(envelope: Envelope) -> dict[str, Any]:
    """The envelope as it travelled (payload as the tolerant reader loaded it)."""
    return {
        "id": envelope.id,
        "type": envelope.type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "complaint_id": envelope.complaint_id,
        "mall_id": envelope.mall_id,
        "actor": {"id": envelope.actor.id, "role": envelope.actor.role},
        "correlation_id": envelope.correlation_id,
        "payload": envelope.payload,
        "schema_version": envelope.schema_version,
    }


# Events kept with one statement. Whether retention erased an event's case is read by the statement's
# own snapshot: one taken after the case's lock was granted (the lock's statement may have looked
# before an erasure committed).
_INSERT_HEAD = (
    "INSERT INTO reporting.events AS e (id, mall_id, complaint_id, type, occurred_at, envelope) VALUES"
)
_ADDED = (
    "ON CONFLICT (id) DO NOTHING RETURNING e.id, coalesce((SELECT c.erased_at IS NOT NULL FROM reporting.cases c"
    " WHERE c.complaint_id = e.complaint_id), false) AS erased"
)


def _row(envelope: Envelope, erase: bool) -> tuple:
    """The event's row, in _INSERT_HEAD's columns."""
    body = envelope_json(envelope)
    return (
        envelope.id,
        envelope.mall_id,
        envelope.complaint_id,
        envelope.type,
        envelope.occurred_at,
        json.dumps(erase_personal(body) if erase else body, ensure_ascii=False, default=str),
    )


# The events of many cases, each event's envelope only where the caller does not hold that version of
# the row already (the first parameter: "id/xmin" of each version held): a row's xmin changes with
# every UPDATE of it (an erasure, a migration), so a version held is the row as stored.
_OF_CASES = (
    "SELECT e.id, e.type, e.occurred_at, e.complaint_id, e.id::text || '/' || e.xmin::text AS version,"
    " CASE WHEN e.id::text || '/' || e.xmin::text = ANY(%s::text[]) THEN NULL ELSE e.envelope END AS envelope"
    " FROM reporting.events e WHERE e.complaint_id = ANY(%s)"
)


class DecodedEvents:
    """The events of the cases derived lately, decoded, held by a process across its transactions.

    Deriving a case reads every event of it again at each batch; reading and decoding their
    envelopes was a quarter of reporting's worker. With these, a case's next batch takes from the database
    only the rows it has not seen in that version (see _OF_CASES), and the rows themselves from it:
    the database still says which events a case has. Bounded: the cases used longest ago are
    dropped once more than `limit` events are held (about 6 KB each)."""

    def __init__(self, limit: int = 4096):
        self.limit = limit
        self._cases: OrderedDict[str, dict[str, Event]] = OrderedDict()  # by version ("id/xmin")
        self._held = 0
        self._lock = threading.Lock()  # a process's consumers and routes share one
        self.decoded = 0  # envelopes decoded from the database (for tests and profiles)

    def of(self, complaint_ids: list[str]) -> dict[str, Event]:
        """The versions held of these cases' events."""
        with self._lock:
            return {
                version: each
                for complaint_id in complaint_ids
                for version, each in self._cases.get(complaint_id, {}).items()
            }

    def keep(self, cases: dict[str, dict[str, Event]], decoded: int) -> None:
        """Each case's events as the database has them now, in place of what was held of it."""
        with self._lock:
            self.decoded += decoded
            for complaint_id, events in cases.items():
                self._held += len(events) - len(self._cases.pop(complaint_id, {}))
                self._cases[complaint_id] = events
            while self._held > self.limit and self._cases:
                self._held -= len(self._cases.popitem(last=False)[1])


class EventStore:
    """One per transaction (a consumer's batch shares one: see MessageBus.joined); `decoded`, the
    process's decoded events, if it keeps them (see DecodedEvents)."""

    def __init__(self, conn: psycopg.Connection, decoded: DecodedEvents | None = None):
        self.conn = conn
        self.decoded = decoded

    def lock_cases(self, complaint_ids: list[str]) -> set[str]:
        """Serialise the events of these cases (one statement, the locks taken in the order given:
        sorted by the caller, so two holders of several never wait for each other); the ones
        retention erased, as the statement saw them. Held until the commit.

        An erasure that commits while this waits for a lock is not seen here: `add` and `add_many`
        read it again, in statements that start after the locks were granted."""
        if not complaint_ids:
            return set()
        rows = self.conn.execute(
            "SELECT id, pg_advisory_xact_lock(hashtext('reporting.case'), hashtext(id)) AS locked,"
            " (SELECT erased_at IS NOT NULL FROM reporting.cases WHERE complaint_id = id) AS erased"
            " FROM unnest(%s::text[]) WITH ORDINALITY AS given (id, place) ORDER BY place",
            (complaint_ids,),
        ).fetchall()
        return {row["id"] for row in rows if row["erased"]}

    def add(self, envelope: Envelope, erase: bool = False) -> bool:
        """Keep the event (without its personal data if `erase`, or if its case turns out erased);
        False when it was kept already."""
        return envelope.id in self.add_many([(envelope, erase)])

    def add_many(self, events: list[tuple[Envelope, bool]]) -> set[str]:
        """Keep the events, each without its personal data when told (or when its case turns out
        erased), with one statement; the ids of those not kept before."""
        if not events:
            return set()
        rows = insert_many(
            self.conn, _INSERT_HEAD, [_row(envelope, erase) for envelope, erase in events], _ADDED
        ).fetchall()
        added = {str(row["id"]): row["erased"] for row in rows}
        for envelope, erase in events:
            if added.get(envelope.id) and not erase and envelope.complaint_id is not None:
                self._erase_added(envelope)
        return set(added)

    def _erase_added(self, envelope: Envelope) -> None:
        """The event just kept, without its personal data: its case was erased meanwhile."""
        self.conn.execute(
            "UPDATE reporting.events SET envelope = %s WHERE id = %s",
            (
                json.dumps(erase_personal(envelope_json(envelope)), ensure_ascii=False, default=str),
                envelope.id,
            ),
        )

    def of_cases(self, complaint_ids: list[str]) -> dict[str, list[Event]]:
        """The events of many cases at once (a rebuild reads a batch of cases per query)."""
        held = self.decoded.of(complaint_ids) if self.decoded is not None else {}
        # Never prepared: planned with its values, PostgreSQL looks the versions held up in a hash
        # table; a prepared statement's generic plan would scan the whole list for every row.
        rows = self.conn.execute(_OF_CASES, (list(held), complaint_ids), prepare=False).fetchall()
        versions: dict[str, dict[str, Event]] = {complaint_id: {} for complaint_id in complaint_ids}
        for row in rows:
            versions[row["complaint_id"]][row["version"]] = (
                held[row["version"]] if row["envelope"] is None else _event(row)
            )
        if self.decoded is not None:
            self.decoded.keep(versions, sum(row["envelope"] is not None for row in rows))
        return {complaint_id: list(events.values()) for complaint_id, events in versions.items()}

    def cases(self, batch: int = 1000) -> Iterator[list[tuple[str, str]]]:
        """(complaint id, mall id) of every case with events, in batches, for a rebuild."""
        after = ""
        while True:
            rows = self.conn.execute(
                "SELECT complaint_id, min(mall_id) AS mall_id FROM reporting.events"
                " WHERE complaint_id IS NOT NULL AND complaint_id > %s"
                " GROUP BY complaint_id ORDER BY complaint_id LIMIT %s",
                (after, batch),
            ).fetchall()
            if not rows:
                return
            yield [(row["complaint_id"], row["mall_id"]) for row in rows]
            after = rows[-1]["complaint_id"]

    def erase(self, complaint_ids: list[str]) -> int:
        """Erase the personal data inside the stored events of these complaints; how many changed.

        The customer as the case's events give it (intake's record, each correction) is looked for in
        every event of the case, so a resolution naming the customer loses the name too."""
        rows = self.conn.execute(
            "SELECT id, complaint_id, envelope FROM reporting.events WHERE complaint_id = ANY(%s) FOR UPDATE",
            (complaint_ids,),
        ).fetchall()
        customers: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            customers.setdefault(row["complaint_id"], []).extend(customers_in(row["envelope"]))
        known = {complaint_id: customer_masks(*found) for complaint_id, found in customers.items()}
        for row in rows:
            self.conn.execute(
                "UPDATE reporting.events SET envelope = %s WHERE id = %s",
                (
                    json.dumps(
                        erase_personal(row["envelope"], known[row["complaint_id"]]), ensure_ascii=False
                    ),
                    row["id"],
                ),
            )
        return len(rows)


def _event(row: dict) -> Event:
    envelope = row["envelope"]
    actor = envelope.get("actor") or {}
    return Event(
        id=str(row["id"]),
        type=row["type"],
        occurred_at=row["occurred_at"],
        complaint_id=row["complaint_id"],
        payload=envelope.get("payload") or {},
        actor_id=actor.get("id"),
        actor_role=actor.get("role"),
    )
