"""What routing holds of a customer's cases, read for the customer's own copy (PIPL)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from services.common.personal import customers_in


def held_of(conn: psycopg.Connection, mall_id: str, complaint_ids: list[str]) -> list[dict[str, Any]]:
    """Each case of these complaints: its customer as the workflow data keeps it (every copy, a
    corrected one too), its timeline (what staff typed, by role) and the messages it received."""
    cases = conn.execute(
        "SELECT id, number, status, state, created_at FROM routing.cases"
        " WHERE mall_id = %s AND id = ANY(%s::uuid[]) ORDER BY created_at, number",
        (mall_id, complaint_ids),
    ).fetchall()
    return [_held(conn, case) for case in cases]


def _held(conn: psycopg.Connection, case: dict[str, Any]) -> dict[str, Any]:
    timeline = conn.execute(
        "SELECT at, role, kind, element_id, detail FROM routing.timeline WHERE case_id = %s ORDER BY id",
        (case["id"],),
    ).fetchall()
    messages = conn.execute(
        "SELECT name, payload, received_at FROM routing.pending_messages WHERE case_id = %s ORDER BY received_at",
        (case["id"],),
    ).fetchall()
    return {
        "complaint_id": str(case["id"]),
        "number": case["number"],
        "status": case["status"],
        "started_at": case["created_at"],
        "customer": _distinct(customers_in(case["state"])),
        "timeline": timeline,
        "messages": messages,
    }


def _distinct(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each copy once (the complaint sits in the workflow data of several tasks)."""
    seen: dict[str, dict[str, Any]] = {}
    for customer in customers:
        seen.setdefault(json.dumps(customer, sort_keys=True, ensure_ascii=False, default=str), customer)
    return list(seen.values())
