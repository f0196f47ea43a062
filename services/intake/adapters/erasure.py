"""Erasing the personal data intake holds of complaints: past retention, or when the customer asks
(docs/architecture.md "Retention", docs/security.md "Personal information requests")."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import psycopg

from services.common.objects import ObjectStore
from services.common.personal import (
    corrected_customers,
    customer_masks,
    erase_customer,
    erase_personal,
    known_ids,
    scrub_text,
)
from services.intake.adapters.attachments import AttachmentRepository


def erase_complaints(conn: psycopg.Connection, complaint_ids: list[str], objects: ObjectStore) -> list[str]:
    """Erase customer, narrative contacts (the description's and the resolutions'), correction history,
    outbox copies, attachments and e-mails; return the ids found.

    The customer's own name, phone, e-mail and address (as the record and its corrections hold them)
    go from the free text as well as the patterns' phone numbers and addresses. Attachments (photos,
    receipts, recordings) go whole, rows and objects: the objects are deleted before the transaction
    commits, so a failure leaves the rows to erase again (deleting a missing object is no error)."""
    rows = conn.execute(
        "SELECT id, customer, description, resolutions FROM intake.complaints WHERE id = ANY(%s::uuid[]) FOR UPDATE",
        (known_ids(complaint_ids),),
    ).fetchall()
    found = [str(row["id"]) for row in rows]
    history = _history(conn, found)
    known = {
        str(row["id"]): customer_masks(row["customer"], *_corrected(history[str(row["id"])])) for row in rows
    }
    for row in rows:
        conn.execute(
            "UPDATE intake.complaints SET customer = %s, description = %s, resolutions = %s, updated_at = now()"
            " WHERE id = %s",
            (
                json.dumps(erase_customer(row["customer"]), ensure_ascii=False),
                scrub_text(row["description"], known=known[str(row["id"])]),
                scrub_text(row["resolutions"], known=known[str(row["id"])]),
                row["id"],
            ),
        )
    for complaint_id, entries in history.items():
        _erase_history(conn, entries, known[complaint_id])
    _erase_outbox(conn, found, known)
    _erase_emails(conn, found, known)
    keys = AttachmentRepository(conn).erase(found)
    if keys:
        objects.delete(keys)
    return found


def _history(conn: psycopg.Connection, found: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = conn.execute(
        "SELECT id, complaint_id, reason, changes FROM intake.complaint_history WHERE complaint_id = ANY(%s::uuid[])",
        (found,),
    ).fetchall()
    by_complaint: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_complaint[str(row["complaint_id"])].append(row)
    return by_complaint


def _corrected(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [customer for entry in entries for customer in corrected_customers(entry["changes"])]


def _erase_history(conn: psycopg.Connection, entries: list[dict[str, Any]], known: dict[str, str]) -> None:
    for row in entries:
        conn.execute(
            "UPDATE intake.complaint_history SET reason = %s, changes = %s WHERE id = %s",
            (
                scrub_text(row["reason"], known=known),
                json.dumps(erase_personal(row["changes"], known), ensure_ascii=False),
                row["id"],
            ),
        )


def _erase_outbox(conn: psycopg.Connection, found: list[str], known: dict[str, dict[str, str]]) -> None:
    rows = conn.execute(
        "SELECT id, envelope FROM intake.outbox WHERE envelope ->> 'complaint_id' = ANY(%s)", (found,)
    ).fetchall()
    for row in rows:
        mine = known.get(row["envelope"].get("complaint_id"), {})
        conn.execute(
            "UPDATE intake.outbox SET envelope = %s WHERE id = %s",
            (json.dumps(erase_personal(row["envelope"], mine), ensure_ascii=False), row["id"]),
        )


def _erase_emails(conn: psycopg.Connection, found: list[str], known: dict[str, dict[str, str]]) -> None:
    """The complaint's e-mails (its first message and the customer's answers): the sender gone, the
    subject and text scrubbed, the message as received and its attachments deleted; the row stays,
    counted, and its Message-ID with it, so the mailbox never hands the message in again."""
    rows = conn.execute(
        "SELECT id, complaint_id, subject, body FROM intake.email_messages WHERE complaint_id = ANY(%s::uuid[])",
        (found,),
    ).fetchall()
    for row in rows:
        mine = known.get(str(row["complaint_id"]), {})
        conn.execute(
            "UPDATE intake.email_messages SET sender_name = NULL, sender_address = NULL, subject = %s,"
            " body = %s, raw = ''::bytea WHERE id = %s",
            (scrub_text(row["subject"], known=mine), scrub_text(row["body"], known=mine), row["id"]),
        )
        conn.execute("DELETE FROM intake.email_attachments WHERE message_id = %s", (row["id"],))
