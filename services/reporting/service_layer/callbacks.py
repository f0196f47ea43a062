"""The monthly callback list (每月回访): last month's complainants the desk calls back.

Every complaint received in the month whose customer can be reached and did not refuse contact:
not anonymous, not opted out, not erased by retention, with a phone or an e-mail address.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from services.common.personal import mask_email, mask_name, mask_phone
from services.reporting.domain.periods import Period
from services.reporting.service_layer.unit_of_work import UnitOfWork


def callback_list(
    uow: UnitOfWork, mall_id: str, month: Period, zone: ZoneInfo, masked: bool
) -> dict[str, Any]:
    start, end = month.bounds(zone)
    rows = uow.callbacks.reachable(mall_id, start, end)
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
