"""How the delivery log is shown: customers' addresses masked for all but the service desk."""

from __future__ import annotations

from typing import Any

from services.common.identity.model import Identity, Role
from services.notify.domain.privacy import mask_address, mask_name
from services.notify.domain.recipients import ROBOT

UNMASKED_ROLES = (Role.SERVICE_DESK,)


def present_delivery(row: dict[str, Any], viewer: Identity, log: list[dict] | None = None) -> dict[str, Any]:
    # a row sent on no channel keeps why (no_contact, opted_out …) where the address would be: no one's data
    masked = (
        row["audience"] == "customer" and row["channel"] != "none" and not viewer.has_any(*UNMASKED_ROLES)
    )
    address, name = row["address"], row["recipient_name"]
    recipient = mask_address(row["channel"], address) if masked else address
    return {
        **row,
        # a group robot is named (保洁部群机器人), a member of staff by their display name: the robot's key
        # and the login name stay in `address`, for the configuration and the API, not for the reader
        "recipient": None if address.startswith(ROBOT) or (row["channel"] == "inbox" and name) else recipient,
        "recipient_name": mask_name(name) if masked else name,
        "letter": f"/notify/deliveries/{row['id']}/letter.pdf" if row.get("has_letter") else None,
        "log": log if log is not None else row.get("log", []),
    }


def present_log(complaint_id: str, requests: list[dict], deliveries: list[dict], viewer: Identity) -> dict:
    by_request: dict[str, list[dict]] = {}
    for row in deliveries:
        by_request.setdefault(str(row["request_id"]), []).append(present_delivery(row, viewer))
    return {
        "complaint_id": complaint_id,
        "requests": [
            {**request, "to": request["recipient"], "deliveries": by_request.get(str(request["id"]), [])}
            for request in requests
        ],
    }
