"""What the rest of the mall reads from the complaint process: the events its elements announce.

Reporting counts events, not element ids (docs/reports.md): a designer may rename or redraw any
element, but a new version that stops announcing an event the active version announces would
silently empty a report figure, so it is refused, naming the figure.
"""

from __future__ import annotations

from services.common.bus.events import (
    COMPLAINT_CALLED_BACK,
    COMPLAINT_CLOSED,
    COMPLAINT_ESCALATED,
    COMPLAINT_POSTPONED,
    COMPLAINT_REOPENED,
    COMPLAINT_REPLIED,
    COMPLAINT_RESOLVED,
    COMPLAINT_TRIAGED,
)
from services.routing.engine import Diagram
from services.routing.engine.problems import Problem

# event -> (the report figures that count it, in English and Chinese)
REPORTED_EVENTS: dict[str, tuple[str, str]] = {
    COMPLAINT_TRIAGED: ("the first queue of each case", "每件投诉的首个处理岗位"),
    COMPLAINT_ESCALATED: ("escalations, by level", "升级次数（按层级）"),
    COMPLAINT_RESOLVED: ("resolved, time to resolve", "已解决、解决时长"),
    COMPLAINT_REPLIED: ("on-time reply rate", "按时反馈率"),
    COMPLAINT_POSTPONED: ("the reply dates the on-time reply rate holds to", "按时反馈率所依据的反馈期限"),
    COMPLAINT_CALLED_BACK: ("satisfaction at callback", "回访满意率"),
    COMPLAINT_REOPENED: ("reopen rate", "重开率"),
    COMPLAINT_CLOSED: ("closed, cost, responsible party, root cause", "已结案、费用、责任方、原因类别"),
}


def dropped_events(candidate: Diagram, active: Diagram, active_version: int, file: str) -> list[Problem]:
    """A problem for each event the reports count that the active version announces and the
    candidate does not."""
    missing = (active.announced_events() - candidate.announced_events()) & set(REPORTED_EVENTS)
    return [
        Problem(
            "report_event_dropped",
            None,
            file,
            None,
            {
                "event": event,
                "version": active_version,
                "figure": REPORTED_EVENTS[event][0],
                "figure_zh": REPORTED_EVENTS[event][1],
            },
        )
        for event in sorted(missing)
    ]
