"""The query behind the monthly callback list: the month's complainants who can be reached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

CALLBACK_LIST = """
SELECT complaint_id, number, received_at, category, floor, merchant_name, merchant_unit, customer_request, closed_at,
       closed_as, callback_reached, callback_satisfied, customer_name, customer_phone, customer_email,
       preferred_reply_channel
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND received_at >= %(start)s AND received_at < %(end)s
   AND NOT anonymous AND NOT contact_opt_out AND erased_at IS NULL
   AND (customer_phone IS NOT NULL OR customer_email IS NOT NULL)
 ORDER BY received_at, complaint_id
"""


class CallbackQueries:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def reachable(self, mall_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Complaints received in [start, end) whose customer can be called back, oldest first."""
        return self.conn.execute(CALLBACK_LIST, {"mall_id": mall_id, "start": start, "end": end}).fetchall()
