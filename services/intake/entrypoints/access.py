"""Who may do what in intake's HTTP API."""

from services.common.identity.model import Role

READ_ROLES = (
    Role.SERVICE_DESK,
    Role.FLOOR_SUPERVISOR,
    Role.DEPARTMENT_MANAGER,
    Role.OPERATIONS_MANAGER,
    Role.DEPUTY_STORE_MANAGER,
    Role.STORE_MANAGER,
    Role.SERVICE,
)
DESK = (Role.SERVICE_DESK,)
REFERENCE_EDITORS = (Role.ADMIN, Role.OPERATIONS_MANAGER)
PUBLIC_ACTOR = "public-web-form"
