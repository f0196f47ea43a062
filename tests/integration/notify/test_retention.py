"""The retention policy: notify erases the personal data it holds for the complaints named, keeps
every count, answers with the ids it knew, and erasing twice is harmless."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import RETENTION_ERASURE_REQUESTED
from tests.integration.notify.conftest import complaint_received, deliveries, outbox, requested

NAME, PHONE, EMAIL, ADDRESS = "王女士", "13912345678", "wang@example.com", "上海市浦东新区世纪大道 1 号"


def erasure_requested(*complaint_ids: str) -> Envelope:
    return Envelope(
        type=RETENTION_ERASURE_REQUESTED,
        mall_id="demo",
        actor=Actor("reporting", "service"),
        occurred_at=datetime(2028, 12, 1, tzinfo=UTC),
        payload={"complaint_ids": list(complaint_ids), "closed_before": "2026-12-01"},
    )


def held_about(notify, complaint_id: str) -> str:
    """Every row notify keeps about one complaint, as text (letters decoded), to look for personal data in."""
    with notify.uow() as uow:
        conn = uow.conn
        rows = [
            *conn.execute("SELECT * FROM notify.complaints WHERE id = %s", (complaint_id,)).fetchall(),
            *conn.execute(
                "SELECT * FROM notify.requests WHERE complaint_id = %s", (complaint_id,)
            ).fetchall(),
            *conn.execute(
                "SELECT * FROM notify.deliveries WHERE complaint_id = %s", (complaint_id,)
            ).fetchall(),
            *conn.execute(
                "SELECT a.* FROM notify.attempts a JOIN notify.deliveries d ON d.id = a.delivery_id"
                " WHERE d.complaint_id = %s",
                (complaint_id,),
            ).fetchall(),
            *conn.execute(
                "SELECT * FROM notify.inbox_items WHERE complaint_id = %s", (complaint_id,)
            ).fetchall(),
            *conn.execute(
                "SELECT envelope FROM notify.outbox WHERE envelope->>'complaint_id' = %s", (complaint_id,)
            ).fetchall(),
        ]
    return json.dumps(
        rows, ensure_ascii=False, default=lambda value: "<pdf>" if isinstance(value, bytes) else str(value)
    )


def has_letter(notify, complaint_id: str) -> bool:
    return any(row["pdf"] is not None for row in deliveries(notify, complaint_id))


def test_erasure_removes_names_addresses_bodies_and_letters_and_keeps_the_counts(
    notify, deliver, worker, mail
):
    mail.refuse(EMAIL, f"550 5.1.1 <{EMAIL}>: no such user")
    customer = {"email": EMAIL, "address": ADDRESS, "preferred_reply_channel": "email"}
    complaint = complaint_received(channel="email", customer=customer)
    kept = complaint_received(number="TS-20261122-0002", customer=customer)  # not due for erasure
    for envelope in (complaint, kept):
        deliver(envelope)
        deliver(
            requested(
                envelope.complaint_id,
                "written_reply",
                number=envelope.payload["number"],
                reply_text=f"已致电 {PHONE} 联系{NAME}并退款",
            )
        )
    worker.tick()
    worker.tick()  # the bounces' alerts to the desk
    counts = [
        (row["kind"], row["channel"], row["state"], row["attempts"])
        for row in deliveries(notify, complaint.complaint_id)
    ]
    assert all(value in held_about(notify, complaint.complaint_id) for value in (NAME, PHONE, EMAIL, ADDRESS))
    assert has_letter(notify, complaint.complaint_id)

    assert deliver(erasure_requested(complaint.complaint_id, str(uuid.uuid4())))

    erased = held_about(notify, complaint.complaint_id)
    assert [value for value in (NAME, PHONE, EMAIL, ADDRESS) if value in erased] == []
    assert not has_letter(notify, complaint.complaint_id)
    assert "TS-20261122-0001" in erased and "550 5.1.1" in erased  # what is not personal stays
    assert [
        (row["kind"], row["channel"], row["state"], row["attempts"])
        for row in deliveries(notify, complaint.complaint_id)
    ] == counts
    assert all(value in held_about(notify, kept.complaint_id) for value in (NAME, PHONE, EMAIL, ADDRESS))
    [answer] = outbox(notify, "retention.erased")
    assert answer == {
        "service": "notify",
        "complaint_ids": [complaint.complaint_id],
    }  # an unknown id is left out


def test_erasing_twice_is_harmless_and_answered_again(notify, deliver, worker):
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    worker.tick()

    deliver(erasure_requested(complaint.complaint_id))
    once = held_about(notify, complaint.complaint_id)
    deliver(erasure_requested(complaint.complaint_id))

    assert held_about(notify, complaint.complaint_id).replace(once, "") == ""
    assert [answer["complaint_ids"] for answer in outbox(notify, "retention.erased")] == [
        [complaint.complaint_id]
    ] * 2
