"""What notify holds of a customer's complaints, read for the customer's own copy (PIPL): the contact
details it reached them by, and every message meant for them."""

from __future__ import annotations

from typing import Any

import psycopg

_DELIVERIES = (
    "SELECT complaint_id, kind, channel, address, recipient_name, language, subject, body_text, sms_text,"
    " (pdf IS NOT NULL) AS letter, state, created_at, sent_at FROM notify.deliveries"
    " WHERE mall_id = %s AND complaint_id = ANY(%s::uuid[]) AND audience = 'customer' ORDER BY created_at, seq"
)


def held_of(conn: psycopg.Connection, mall_id: str, complaint_ids: list[str]) -> list[dict[str, Any]]:
    """Each complaint notify knows of these: the customer as notify keeps it, and the deliveries to
    the customer (the address used, the message's text, what became of it). Staff and merchants'
    messages are not the customer's."""
    known = conn.execute(
        "SELECT id, number, customer FROM notify.complaints WHERE mall_id = %s AND id = ANY(%s::uuid[])"
        " ORDER BY received_at, number",
        (mall_id, complaint_ids),
    ).fetchall()
    deliveries: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(_DELIVERIES, (mall_id, complaint_ids)).fetchall():
        deliveries.setdefault(str(row.pop("complaint_id")), []).append(row)
    return [
        {
            "complaint_id": str(row["id"]),
            "number": row["number"],
            "contact": row["customer"],
            "deliveries": deliveries.get(str(row["id"]), []),
        }
        for row in known
    ]
