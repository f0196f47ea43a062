"""Who may do what in intake's HTTP API."""

from services.common.identity.model import PROCESS_ROLES, Role

READ_ROLES = (*sorted(PROCESS_ROLES), Role.SERVICE)
DESK = (Role.SERVICE_DESK,)
REFERENCE_EDITORS = (Role.ADMIN, Role.OPERATIONS_MANAGER)
PUBLIC_ACTOR = "public-web-form"
