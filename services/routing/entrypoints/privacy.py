"""A customer's copy of what routing holds of its cases (PIPL), for admins."""

from __future__ import annotations

from services.common.web.privacy import export_blueprint
from services.routing.adapters.personal_data import held_of
from services.routing.entrypoints import schemas

privacy = export_blueprint(
    "routing",
    "cases",
    held_of,
    schemas.PersonalDataOut,
    summary="""Each case of these complaints as routing holds it, nothing masked: the customer in its
    workflow data, its timeline (who by role, when, what, with the data typed) and the messages it
    received. Complaints routing has no case of are left out.""",
)
