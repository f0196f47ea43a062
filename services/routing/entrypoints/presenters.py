"""What a reader is shown of a case's free text: as written to its handlers, masked to the rest.

A timeline entry's `detail` holds what staff typed into task forms ("已致电王女士 13912345678 同意退款"),
reasons and errors. Whoever sees the customer masked at intake sees these masked too, by the same
rule (services/common/identity/holders.py) decided from routing's own open tasks of the case, and
with the customer's own details read from the complaint the case's workflow data keeps. Nothing
stored changes: the handlers read the text as it was typed.
"""

from __future__ import annotations

from typing import Any

from services.common.identity.holders import Holder, sees_customer
from services.common.identity.model import Identity
from services.common.personal import customers_in
from services.common.scrubber import customer_masks, scrub, scrub_data
from services.routing.adapters.cases import CaseRow
from services.routing.domain.model import Task


def masks_for(reader: Identity, case: CaseRow, open_tasks: list[Task]) -> dict[str, str] | None:
    """None when `reader` sees the case as written; else its customer's details -> masked."""
    holders = [Holder(task.queue, task.floor, task.department, task.assignee) for task in open_tasks]
    if sees_customer(reader, holders):
        return None
    return customer_masks(*customers_in(case.state))


def present_timeline(entries: list[dict[str, Any]], masks: dict[str, str] | None) -> list[dict[str, Any]]:
    if masks is None:
        return entries
    return [{**entry, "detail": scrub_data(entry["detail"], masks)} for entry in entries]


def present_incidents(incidents: list[dict[str, Any]], masks: dict[str, str] | None) -> list[dict[str, Any]]:
    if masks is None:
        return incidents
    return [{**incident, "error": scrub(incident["error"], masks)} for incident in incidents]
