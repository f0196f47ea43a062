"""Erasing a complaint's personal data from notify's schema (the retention policy).

Message bodies, letters and SMS parameters go; customers' addresses are replaced; the providers'
answers and the inbox keep their text with contact details taken out. States, kinds, channels,
attempt counts and times stay, so every count and report is the same afterwards.
"""

from __future__ import annotations

import psycopg

from services.notify.domain.privacy import ERASED, scrub


class Erasure:
    """The erasing statements on one connection (the handler's transaction)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def known_values(self, complaint_ids: list[str]) -> dict[str, list[str]]:
        """The customer's name, phone, e-mail and address per complaint, to find them in free text."""
        rows = self.conn.execute(
            "SELECT id, customer FROM notify.complaints WHERE id = ANY(%s::uuid[])", (complaint_ids,)
        ).fetchall()
        return {
            str(row["id"]): [
                row["customer"].get(name)
                for name in ("name", "phone", "email", "address")
                if row["customer"].get(name)
            ]
            for row in rows
        }

    def erase_deliveries(self, complaint_ids: list[str], known: dict[str, list[str]]) -> list[str]:
        """Every delivery of these complaints emptied of personal data; the complaints that had one."""
        rows = self.conn.execute(
            "SELECT id, complaint_id, audience, address, provider_answer, last_error FROM notify.deliveries"
            " WHERE complaint_id = ANY(%s::uuid[]) FOR UPDATE",
            (complaint_ids,),
        ).fetchall()
        for row in rows:
            values = [*known.get(str(row["complaint_id"]), []), row["address"]]
            address = f"{ERASED} {str(row['id'])[:8]}" if row["audience"] == "customer" else row["address"]
            self.conn.execute(
                "UPDATE notify.deliveries SET address = %s, recipient_name = CASE WHEN audience = 'customer'"
                " THEN NULL ELSE recipient_name END, subject = NULL, body_text = NULL, body_html = NULL,"
                " sms_text = NULL, pdf = NULL, params = '{}', provider_answer = %s, last_error = %s,"
                " state = CASE WHEN state IN ('pending', 'sending') THEN 'cancelled' ELSE state END WHERE id = %s",
                (
                    address,
                    scrub(row["provider_answer"], *values),
                    scrub(row["last_error"], *values),
                    row["id"],
                ),
            )
            for attempt in self.conn.execute(
                "SELECT id, answer FROM notify.attempts WHERE delivery_id = %s", (row["id"],)
            ).fetchall():
                self.conn.execute(
                    "UPDATE notify.attempts SET answer = %s WHERE id = %s",
                    (scrub(attempt["answer"], *values), attempt["id"]),
                )
        return sorted({str(row["complaint_id"]) for row in rows})

    def erase_inbox(self, complaint_ids: list[str], known: dict[str, list[str]]) -> None:
        """The staff inbox's items about these complaints keep their text without contact details."""
        rows = self.conn.execute(
            "SELECT id, complaint_id, title, body FROM notify.inbox_items"
            " WHERE complaint_id = ANY(%s::uuid[]) FOR UPDATE",
            (complaint_ids,),
        ).fetchall()
        for row in rows:
            values = known.get(str(row["complaint_id"]), [])
            self.conn.execute(
                "UPDATE notify.inbox_items SET title = %s, body = %s WHERE id = %s",
                (scrub(row["title"], *values), scrub(row["body"], *values), row["id"]),
            )
