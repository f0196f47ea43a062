"""The monthly callback list (每月回访): last month's complainants the desk calls back.

Every complaint received in the month whose customer can be reached and did not refuse contact:
not anonymous, not opted out, not erased by retention, with a phone or an e-mail address.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from services.common.personal import mask_email, mask_name, mask_phone
from services.reporting.domain.periods import Period

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


def callback_list(
    conn: psycopg.Connection, mall_id: str, month: Period, zone: ZoneInfo, masked: bool
) -> dict[str, Any]:
    start, end = month.bounds(zone)
    rows = conn.execute(CALLBACK_LIST, {"mall_id": mall_id, "start": start, "end": end}).fetchall()
    return {"month": month.label, "masked": masked, "items": [_item(row, masked) for row in rows]}


def _item(row: dict[str, Any], masked: bool) -> dict[str, Any]:
    item = {**row, "status": "closed" if row["closed_at"] else "open"}
    del item["closed_at"]
    if masked:
        item.update(
            customer_name=mask_name(row["customer_name"]),
            customer_phone=mask_phone(row["customer_phone"]),
            customer_email=mask_email(row["customer_email"]),
        )
    return item
