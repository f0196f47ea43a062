"""A customer's copy of what notify holds of its complaints (PIPL), for admins."""

from __future__ import annotations

from services.common.web.privacy import export_blueprint
from services.notify.adapters.personal_data import held_of
from services.notify.entrypoints import schemas

privacy = export_blueprint(
    "notify",
    "complaints",
    held_of,
    schemas.PersonalDataOut,
    summary="""Each of these complaints as notify holds it, nothing masked: the customer's contact details
    and every message to the customer (address, text, state). Complaints notify never heard of are left out.""",
)
