"""How a complaint is shown to a caller: personal data masked outside the case's handlers.

Masked means the `customer` fields (王**, 139****5678) and the same details, and any phone number,
e-mail address, ID or bank card number, inside the free text (the description, a correction's reason
and values); the stored record keeps them as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from services.common.identity.holders import Holder, sees_customer
from services.common.identity.model import Identity
from services.common.personal import corrected_customers
from services.common.scrubber import customer_masks, mask_email, mask_name, mask_phone, scrub, scrub_data
from services.intake.domain.model import Complaint

_FIELDS = tuple(item.name for item in fields(Complaint))
_MASKS = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address": lambda address: "***" if address else None,
}


def present(
    complaint: Complaint, viewer: Identity, holders: Iterable[Holder] = (), former: Iterable[dict] = ()
) -> dict:
    """The complaint as the response schema dumps it (a shallow copy: `asdict` would copy deeply).

    `holders` are the open tasks of its case: a viewer holding one sees the customer unmasked.
    `former`: the customer's details its corrections replaced, masked in its text as well.
    """
    data = as_written(complaint)
    customer = data["customer"]
    masked = customer["masked"] = not sees_customer(viewer, holders)
    if masked:
        data["description"] = scrub(complaint.description, customer_masks(customer, *former))
        customer.update({name: mask(customer[name]) for name, mask in _MASKS.items()})
    return data


def masked_ids(
    complaints: Iterable[Complaint], viewer: Identity, holders: dict[str, list[Holder]]
) -> list[str]:
    """The complaints `viewer` sees masked (whose former customer details are then worth reading)."""
    return [item.id for item in complaints if not sees_customer(viewer, holders[item.id])]


def as_written(complaint: Complaint) -> dict:
    """The complaint as stored, nothing masked: for its handlers, and the customer's own copy (PIPL)."""
    data = {name: getattr(complaint, name) for name in _FIELDS}
    data["customer_request"] = complaint.request_codes()
    data["customer"] = {**complaint.customer.as_dict(), "masked": False}
    return data


def present_history(
    entries: list[dict[str, Any]], complaint: Complaint, viewer: Identity, holders: Iterable[Holder]
) -> list[dict[str, Any]]:
    """The corrections as `viewer` may see them: for a masked viewer the customer's old and new
    details masked, and the reasons and changed texts scrubbed (of every customer the record had)."""
    if sees_customer(viewer, holders):
        return entries
    customers = [complaint.customer.as_dict()]
    for entry in entries:  # each side of each correction: the masks erasure uses for the same history
        customers.extend(corrected_customers(entry["changes"]))
    known = customer_masks(*customers)
    return [
        {
            **entry,
            "reason": scrub(entry["reason"], known),
            "changes": _masked_changes(entry["changes"], known),
        }
        for entry in entries
    ]


def _masked_changes(changes: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
    masked = {}
    for name, change in changes.items():
        mask = _MASKS.get(name.removeprefix("customer.")) if name.startswith("customer.") else None
        if mask is not None and isinstance(change, dict):
            masked[name] = {side: mask(value) for side, value in change.items()}
        else:
            masked[name] = scrub_data(change, known)
    return masked
