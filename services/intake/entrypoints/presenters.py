"""How a complaint is shown to a caller: personal data masked outside the case's handlers."""

from __future__ import annotations

from dataclasses import asdict, fields

from services.common.identity.model import Identity, Role
from services.common.personal import mask_email, mask_name, mask_phone
from services.intake.domain.model import Complaint

# Roles that talk to the customer and so see contact details in full. Routing will add the
# case's own handlers once it knows who holds each case.
UNMASKED_ROLES = (Role.SERVICE_DESK, Role.SERVICE)


_FIELDS = tuple(item.name for item in fields(Complaint))


def present(complaint: Complaint, viewer: Identity) -> dict:
    """The complaint as the response schema dumps it (a shallow copy: `asdict` would copy deeply)."""
    data = {name: getattr(complaint, name) for name in _FIELDS}
    customer = data["customer"] = asdict(complaint.customer)
    masked = not viewer.has_any(*UNMASKED_ROLES)
    if masked:
        customer.update(
            name=mask_name(customer["name"]),
            phone=mask_phone(customer["phone"]),
            email=mask_email(customer["email"]),
            address="***" if customer["address"] else None,
        )
    customer["masked"] = masked
    return data
