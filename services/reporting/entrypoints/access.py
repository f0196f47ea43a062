"""Who may read what in reporting's API (docs/api.md "Reporting" explains the choice)."""

from services.common.identity.model import PROCESS_ROLES, Role

# The six roles of the procedure read the review and the reports: the operations manager reviews
# daily, the desk writes the weekly and monthly reports, managers read them; a floor supervisor or a
# department manager gets the same figures computed over its own floors or departments only.
REPORT_READERS = (*sorted(PROCESS_ROLES), Role.SERVICE)
# The callback list carries contact details: the desk calls back and sees them; the managers who
# check that it is done see them masked.
CALLBACK_READERS = (Role.SERVICE_DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.SERVICE)
UNMASKED = (Role.SERVICE_DESK, Role.SERVICE)
# CAPA records: the operations manager keeps them; the managers above and those scoped to the place
# read them.
CAPA_READERS = (
    Role.OPERATIONS_MANAGER,
    Role.DEPUTY_STORE_MANAGER,
    Role.STORE_MANAGER,
    Role.FLOOR_SUPERVISOR,
    Role.DEPARTMENT_MANAGER,
    Role.SERVICE,
)
CAPA_EDITORS = (Role.OPERATIONS_MANAGER,)
