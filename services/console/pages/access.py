"""Which staff see which of the new pages: the roles reporting, notify and routing allow, nothing more.

The services decide (every page calls them as the user); these lists only choose which links and
pages the console offers, so nobody is shown a page that would answer 403. A unit test holds them
to the services' own lists (services/reporting/entrypoints/access.py, services/notify/entrypoints/,
services/routing/entrypoints/).
"""

from __future__ import annotations

from services.common.identity.model import PROCESS_ROLES, ROLES, Role

# Reporting: the daily review and the weekly and monthly reports.
REPORT_READERS = tuple(sorted(PROCESS_ROLES))
# Reporting: the monthly callback list (contact details in full for the desk, masked for managers).
CALLBACK_READERS = (Role.SERVICE_DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER)
# Reporting: CAPA records; only the operations manager updates them.
CAPA_READERS = (
    Role.OPERATIONS_MANAGER,
    Role.DEPUTY_STORE_MANAGER,
    Role.STORE_MANAGER,
    Role.FLOOR_SUPERVISOR,
    Role.DEPARTMENT_MANAGER,
)
CAPA_EDITORS = (Role.OPERATIONS_MANAGER,)
# Notify: every staff member has an inbox; the delivery log and failed deliveries are for these.
INBOX_OWNERS = tuple(role for role in ROLES if role != Role.SERVICE)
DELIVERY_LOG_READERS = (Role.SERVICE_DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ADMIN)
# Notify: the desk prints letters and retries failed deliveries.
DESK = (Role.SERVICE_DESK,)

# Routing: who may open a case (its readers: the six roles, designers, the administrator).
CASE_READERS = (*sorted(PROCESS_ROLES), Role.PROCESS_DESIGNER, Role.ADMIN)
# Routing: who lists incidents and retries them; who moves cases between versions; who fires timers.
INCIDENT_REPAIRERS = (Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.PROCESS_DESIGNER, Role.ADMIN)
CASE_MOVERS = (Role.OPERATIONS_MANAGER, Role.PROCESS_DESIGNER, Role.ADMIN)
TIMER_OPERATORS = (Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ADMIN)
# Routing: who records that a case went to an outside route (PROCESS.md step 8: the desk hears of it
# from the customer, the managers from the association or the office)
OUTSIDE_ROUTE_RECORDERS = (Role.SERVICE_DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER)
# Routing: who reads the process versions, and who makes an earlier one active again.
VERSION_READERS = (Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)
VERSION_ACTIVATORS = (Role.PROCESS_DESIGNER, Role.ADMIN)

# Intake: who keeps the canned replies the desk picks on its reply tasks (intake's REFERENCE_EDITORS).
TEMPLATE_EDITORS = (Role.OPERATIONS_MANAGER, Role.ADMIN)

PAGE_ROLES = {
    "REPORT_READERS": REPORT_READERS,
    "CALLBACK_READERS": CALLBACK_READERS,
    "CAPA_READERS": CAPA_READERS,
    "CAPA_EDITORS": CAPA_EDITORS,
    "DELIVERY_LOG_READERS": DELIVERY_LOG_READERS,
    "DESK": DESK,
    "INCIDENT_REPAIRERS": INCIDENT_REPAIRERS,
    "CASE_MOVERS": CASE_MOVERS,
    "TIMER_OPERATORS": TIMER_OPERATORS,
    "VERSION_READERS": VERSION_READERS,
    "VERSION_ACTIVATORS": VERSION_ACTIVATORS,
    "TEMPLATE_EDITORS": TEMPLATE_EDITORS,
}
