"""What a reader is shown of a case: its free text as written to its handlers, masked to the rest;
and the names its diagram gives its elements and form fields, in each language.

A timeline entry's `detail` holds what staff typed into task forms ("已致电王女士 13912345678 同意退款"),
reasons and errors. Whoever sees the customer masked at intake sees these masked too, by the same
rule (services/common/identity/holders.py) decided from routing's own open tasks of the case, and
with the customer's own details read from the complaint the case's workflow data keeps. Nothing
stored changes: the handlers read the text as it was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.identity.holders import Holder, sees_customer
from services.common.identity.model import Identity
from services.common.scrubber import customer_masks, scrub, scrub_data
from services.routing.domain.model import Task
from services.routing.engine import Diagram


def masks_for(
    reader: Identity, open_tasks: list[Task], customers: Callable[[], list[dict[str, Any]]]
) -> dict[str, str] | None:
    """None when `reader` sees the case as written; else its customer's details -> masked (the
    customers of the case's workflow data are read only then)."""
    holders = [Holder(task.queue, task.floor, task.department, task.assignee) for task in open_tasks]
    if sees_customer(reader, holders):
        return None
    return customer_masks(*customers())


def present_timeline(entries: list[dict[str, Any]], masks: dict[str, str] | None) -> list[dict[str, Any]]:
    if masks is None:
        return entries
    return [{**entry, "detail": scrub_data(entry["detail"], masks)} for entry in entries]


def present_incidents(incidents: list[dict[str, Any]], masks: dict[str, str] | None) -> list[dict[str, Any]]:
    if masks is None:
        return incidents
    return [{**incident, "error": scrub(incident["error"], masks)} for incident in incidents]


def named_timeline(entries: list[dict[str, Any]], diagram: Diagram) -> list[dict[str, Any]]:
    """Each entry with what its case's diagram calls things, in each language: the element, and for a
    user task the fields and options of its form (what a designer renames shows on the timeline)."""
    return [{**entry, **_names(entry.get("element_id"), diagram)} for entry in entries]


def _names(element_id: str | None, diagram: Diagram) -> dict[str, Any]:
    task = diagram.user_tasks.get(element_id) if element_id else None
    fields = task.form if task else ()
    return {
        "element_names": diagram.names.get(element_id, {}) if element_id else {},
        "field_labels": {item.id: {**item.labels, "": item.label} for item in fields},
        "option_labels": {
            option: {
                **{
                    language: names[option]
                    for language, names in item.option_labels.items()
                    if option in names
                },
                "": name,
            }
            for item in fields
            for option, name in item.options
        },
    }
