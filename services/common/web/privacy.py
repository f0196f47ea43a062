"""The blueprint each service serves for a customer's copy of what it holds (PIPL), for admins: the
console gathers every service's part into one document (docs/security.md). Routing and notify serve
theirs through this; they differ only in what they read and the key it goes under."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app

from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.schemas import PersonalDataAsked

log = logging.getLogger(__name__)


def export_blueprint(
    service: str, key: str, held_of: Callable[[Any, str, list[str]], list], answer: Any, summary: str
) -> Blueprint:
    """`POST /privacy/exports`: the complaints' data as `held_of(conn, mall_id, complaint_ids)` reads it
    in `service`'s database, nothing masked, answered as `{key: [...]}` (never cached)."""
    privacy = Blueprint(
        "privacy",
        f"services.{service}.entrypoints.privacy",
        url_prefix="/privacy",
        description=f"A customer's copy of what {service} holds (PIPL). Admins only.",
    )

    def post_export(data):
        identity = current_identity()
        with _transaction(service) as unit:
            held = held_of(unit.conn, identity.mall_id, [str(item) for item in data["complaint_ids"]])
        log.info(
            "personal information request: %s's part handed out",
            service,
            extra={"request_id": str(data["request_id"] or ""), key: len(held), "by": identity.subject},
        )
        return {key: held}, 200, {"Cache-Control": "no-store"}

    # The summary is the endpoint's documentation: set before the decorators copy it.
    post_export.__doc__ = summary
    view = privacy.response(200, answer)(post_export)
    view = privacy.arguments(PersonalDataAsked())(view)
    privacy.route("/exports", methods=["POST"])(require_roles(Role.ADMIN)(view))
    return privacy


def _transaction(service: str):
    """The service's unit of work (its app registers `<service>.uow`)."""
    return current_app.extensions[f"{service}.uow"]()
