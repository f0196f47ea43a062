"""How a complaint is shown to a caller: personal data masked outside the case's handlers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

from services.common.identity.model import Identity, Role
from services.common.personal import mask_email, mask_name, mask_phone
from services.intake.adapters.holders import Holder
from services.intake.domain.model import Complaint

# Roles that talk to the customer and so see contact details in full. Besides them, whoever holds
# an open task of the case (adapters/holders.py, fed by routing's task events) sees them too.
UNMASKED_ROLES = (Role.SERVICE_DESK, Role.SERVICE)


_FIELDS = tuple(item.name for item in fields(Complaint))


def present(complaint: Complaint, viewer: Identity, holders: Iterable[Holder] = ()) -> dict:
    """The complaint as the response schema dumps it (a shallow copy: `asdict` would copy deeply).

    `holders` are the open tasks of its case: a viewer holding one sees the customer unmasked.
    """
    data = {name: getattr(complaint, name) for name in _FIELDS}
    data["customer_request"] = complaint.request_codes()
    customer = data["customer"] = complaint.customer.as_dict()
    masked = not viewer.has_any(*UNMASKED_ROLES) and not any(holder.held_by(viewer) for holder in holders)
    if masked:
        customer.update(
            name=mask_name(customer["name"]),
            phone=mask_phone(customer["phone"]),
            email=mask_email(customer["email"]),
            address="***" if customer["address"] else None,
        )
    customer["masked"] = masked
    return data
