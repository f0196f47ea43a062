"""Reporting's case store against the real PostgreSQL: a batch's derived cases written together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
from psycopg.rows import dict_row

from services.reporting.adapters.cases import CaseStore
from services.reporting.domain.model import Callback, CaseFacts, Escalation
from tests.support.statements import sent_statements

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def _event(name: str) -> str:
    """An event's id (a UUID), the same for the same name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _facts(complaint_id: str, escalations: int = 0, callbacks: int = 0, **values) -> CaseFacts:
    return CaseFacts(
        complaint_id=complaint_id,
        mall_id="demo",
        number=f"TS-{complaint_id}",
        received_at=AT,
        floor="3F",
        escalations=[
            Escalation(_event(f"{complaint_id}-e{n}"), AT, "ops", "handle_floor_timeout")
            for n in range(escalations)
        ],
        callbacks=[Callback(_event(f"{complaint_id}-c{n}"), AT, True, n > 0) for n in range(callbacks)],
        **values,
    )


def test_a_batch_of_cases_is_written_by_one_statement_and_only_the_named_children_are_replaced(
    db_url, monkeypatch
):
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        store = CaseStore(conn)
        store.save_many(
            [(_facts("a", escalations=1, callbacks=1), True, True), (_facts("b", callbacks=1), True, True)]
        )
        with sent_statements(monkeypatch) as statements:
            store.save_many(
                [
                    # a's callbacks stand as written before, and b's escalations (none)
                    (_facts("a", escalations=2, callbacks=0, outcome="resolved"), True, False),
                    (_facts("b", callbacks=2), False, True),
                    (_facts("c"), False, False),
                ]
            )

        cases = conn.execute(
            "SELECT complaint_id, outcome FROM reporting.cases ORDER BY complaint_id"
        ).fetchall()
        escalations = conn.execute("SELECT event_id::text AS id FROM reporting.escalations").fetchall()
        callbacks = conn.execute("SELECT event_id::text AS id, satisfied FROM reporting.callbacks").fetchall()
    assert len(statements) == 3  # the cases (with the deletes), the escalations, the callbacks
    assert [(row["complaint_id"], row["outcome"]) for row in cases] == [
        ("a", "resolved"),
        ("b", None),
        ("c", None),
    ]
    assert sorted(row["id"] for row in escalations) == sorted([_event("a-e0"), _event("a-e1")])
    assert sorted((row["id"], row["satisfied"]) for row in callbacks) == sorted(
        [(_event("a-c0"), False), (_event("b-c0"), False), (_event("b-c1"), True)]
    )
