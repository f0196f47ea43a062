"""Linking related complaints, and merging individual ones into one collective complaint
(PROCESS.md "Related complaints")."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from services.common.bus.envelope import Actor
from services.common.errors import Conflict, InvalidInput, NotFound
from services.intake.domain.commands import CorrectComplaint, LinkComplaints, MergeComplaints
from services.intake.domain.model import Complaint
from services.intake.service_layer.corrections import apply_corrections
from services.intake.service_layer.events import complaint_corrected, complaint_merged
from services.intake.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def link_complaints(command: LinkComplaints, uow: UnitOfWork, context: Any) -> bool:
    """True when the link is new."""
    if command.complaint_id == command.related_id:
        raise InvalidInput(
            "a complaint cannot be related to itself",
            {"related_id": ["a complaint cannot be related to itself"]},
        )
    with uow:
        _load(uow, context.mall_id, [command.complaint_id, command.related_id], "related_id")
        return uow.links.link(
            command.complaint_id, command.related_id, "related", command.actor_id, context.clock.now()
        )


def merge_complaints(command: MergeComplaints, uow: UnitOfWork, context: Any) -> Complaint:
    """The collective complaint, its people count the sum of all; each merged one announced
    (`complaint.merged`) so its case closes pointing to the collective one."""
    merged_ids = list(dict.fromkeys(command.merged_ids))
    if command.into_id in merged_ids:
        message = "the collective complaint cannot be merged into itself"
        raise InvalidInput(message, {"merged_ids": [message]})
    now, actor = context.clock.now(), Actor(id=command.actor_id, role=command.actor_role)
    with uow:
        found = _load(uow, context.mall_id, [command.into_id, *merged_ids], "merged_ids", for_update=True)
        into, merged = found[command.into_id], [found[i] for i in merged_ids]
        already = uow.links.merged_into([into.id, *merged_ids])
        done = [c.number for c in [into, *merged] if already.get(c.id)]
        if done:
            raise Conflict(f"already merged into another complaint: {', '.join(done)}")
        total = into.people_count + sum(item.people_count for item in merged)
        correction = CorrectComplaint(
            complaint_id=into.id,
            changes={"people_count": total},
            reason=command.reason,
            actor_id=command.actor_id,
            actor_role=command.actor_role,
        )
        collective, changes = apply_corrections(into, correction, into.merchant, context.policy)
        collective = replace(collective, version=into.version + 1)
        changes["merged"] = {"old": None, "new": [item.number for item in merged]}
        uow.complaints.update(collective)
        uow.complaints.add_history(
            into.id, now, command.actor_id, command.actor_role, command.reason, changes
        )
        uow.publish(complaint_corrected(collective, changes, command.reason, context.policy, actor, now))
        for item in merged:
            uow.links.mark_merged(item.id, into.id)
            uow.links.link(item.id, into.id, "merged", command.actor_id, now)
            uow.complaints.add_history(
                item.id,
                now,
                command.actor_id,
                command.actor_role,
                command.reason,
                {"merged_into": {"old": None, "new": into.number}},
            )
            uow.publish(complaint_merged(item, collective, command.reason, actor, now))
    log.info(
        "complaints merged", extra={"complaint_id": into.id, "merged": merged_ids, "people_count": total}
    )
    return collective


def _load(
    uow: UnitOfWork, mall_id: str, ids: list[str], field: str, for_update: bool = False
) -> dict[str, Complaint]:
    found = {}
    for complaint_id in ids:
        complaint = uow.complaints.get(mall_id, complaint_id, for_update=for_update)
        if complaint is None:
            raise NotFound(f"no complaint {complaint_id}")
        found[complaint_id] = complaint
    return found
