"""What every Flask API shares: the app base, JSON errors, health probes, auth, OpenAPI."""

from services.common.web.api import Blueprint, create_service_app
from services.common.web.auth import current_identity, require_roles

__all__ = ["Blueprint", "create_service_app", "current_identity", "require_roles"]
