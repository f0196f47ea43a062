"""Cases told as stories (received, escalated, resolved, replied, called back, reopened, closed), and the
events intake and routing publish for them, shaped as they publish them (see a dump of routing's outbox
for the complaint diagram's paths). The reporting tests compute their expected figures from the stories,
never from the events or the read model.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.bus.envelope import Actor, Envelope

ZONE = ZoneInfo("Asia/Shanghai")
SYSTEM = Actor("routing", "service")
DESK = Actor("desk-1", "service_desk")
MERCHANTS = {"M-3F-001": ("优品服饰", "3F"), "M-2F-003": ("星巴克", "2F"), "M-1F-002": ("屈臣氏", "1F")}


@dataclass
class Round:
    """One pass of handling: resolved, replied, then one callback (None: the story stops before it)."""

    resolved_at: datetime
    replied_at: datetime | None = None
    callback_at: datetime | None = None
    reached: bool = True
    satisfied: bool = True

    @property
    def reopens(self) -> bool:
        return self.callback_at is not None and self.reached and not self.satisfied


@dataclass
class Story:
    received_at: datetime
    category: str = "price"
    channel: str = "phone"
    merchant: str | None = "M-3F-001"
    floor: str | None = None  # the merchant's, unless given
    department: str | None = None
    requests: list[str] = field(default_factory=lambda: ["refund"])  # what the customer asks for; [] nothing
    promised: date | None = None  # default: 3 days after receipt, in the mall
    postponed_to: list[date] = field(default_factory=list)  # agreed postponements, in order
    escalations: list[tuple[datetime, str]] = field(default_factory=list)  # (when, to which queue)
    rounds: list[Round] = field(default_factory=list)
    closed_at: datetime | None = None
    closed_as: str = "resolved"  # or no_answer (callbacks unanswered), no_contact (anonymous: no reply)
    # what the close form recorded: who was responsible, the root cause, the cost to the mall (yuan)
    responsible_party: str = "merchant"
    root_cause: str = "service_attitude"
    cost: int = 50
    # The diagram announces postponements and callbacks (complaint.postponed, complaint.called_back);
    # False: a case of an earlier diagram, whose reports read its tasks' completions instead.
    declared: bool = True
    # The elements' ids in the case's diagram: a designer may rename them (only the events count).
    agree_task: str = "agree_reply_date"
    callback_task: str = "callback"
    outside_route: bool = False
    customer: dict = field(default_factory=lambda: {"name": "王女士", "phone": "13912345678", "email": None})
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    number: str = ""

    def __post_init__(self):
        if self.merchant and self.floor is None:
            self.floor = MERCHANTS[self.merchant][1]
        if self.promised is None:
            self.promised = self.received_at.astimezone(ZONE).date() + timedelta(days=3)
        self.number = self.number or f"TS-{self.received_at.astimezone(ZONE):%Y%m%d}-{self.id[:4]}"

    # ------------------------------------------------------------ what the stories mean (expected)

    @property
    def reply_due(self) -> datetime:
        day = (self.postponed_to[:2] or [self.promised])[-1]
        return datetime.combine(day, time(23, 59, 59), ZONE)

    @property
    def first_reply(self) -> datetime | None:
        return next((item.replied_at for item in self.rounds if item.replied_at), None)

    @property
    def standing_resolution(self) -> datetime | None:
        if not self.rounds or self.rounds[-1].reopens:
            return None
        return self.rounds[-1].resolved_at

    @property
    def reopened(self) -> bool:
        return any(item.reopens for item in self.rounds)

    @property
    def callbacks(self) -> list[tuple[datetime, bool, bool]]:
        return [(item.callback_at, item.reached, item.satisfied) for item in self.rounds if item.callback_at]

    @property
    def problem(self) -> str:
        return (
            f"{self.category}|merchant:{self.merchant}"
            if self.merchant
            else f"{self.category}|floor:{self.floor}"
        )


def events(story: Story) -> list[Envelope]:
    """Every event of the story, in the order they were produced."""
    produced = [
        _received(story),
        _step(story, "complaint.acknowledged", story.received_at, "start", {}),
        _step(story, "complaint.triaged", story.received_at, "triage", {"queue": "floor_supervisor"}),
        _task(
            story,
            "task.created",
            story.received_at,
            "handle_floor",
            "t-handle",
            due=story.received_at + timedelta(hours=24),
        ),
    ]
    produced.append(
        _step(story, "complaint.merchant_answered", story.received_at, "merchant_answer", {"x": 1})
    )  # a type reporting does not know: ignored
    for index, day in enumerate(story.postponed_to):
        at = datetime.combine(story.promised + timedelta(days=index), time(16), ZONE)
        agreed = {"new_reply_date": day.isoformat(), "customer_agreed": True}
        produced.append(_task(story, "task.completed", at, story.agree_task, f"t-agree-{index}", data=agreed))
        if story.declared and index < 2:  # the policy lets two through
            produced.append(_step(story, "complaint.postponed", at, "postpone", agreed))
    for at, level in story.escalations:
        produced.append(
            _step(
                story,
                "complaint.escalated",
                at,
                f"escalated_to_{level}",
                {"queue": "floor_supervisor"},
                queue=level,
            )
        )
    for index, item in enumerate(story.rounds):
        produced += _round(story, index, item)
    if story.outside_route:
        at = story.received_at + timedelta(hours=2)
        produced.append(
            _step(
                story,
                "complaint.outside_route",
                at,
                "outside_route",
                {"outside_route": {"body": "consumer_association", "reference": "XB-1"}},
            )
        )
    if story.closed_at:
        produced += _closed(story)
    return produced


def _round(story: Story, index: int, item: Round) -> list[Envelope]:
    data = {
        "reply_due": story.reply_due.isoformat(),
        "postponements_made": len(story.postponed_to[:2]),
        "unknown_key_from_a_newer_diagram": True,
    }
    task = "t-handle" if index == 0 else f"t-handle-{index}"  # the first handling task is the one created
    found = [
        _task(story, "task.completed", item.resolved_at, "handle_floor", task, data={"outcome": "resolved"}),
        _step(story, "complaint.resolved", item.resolved_at, "resolved", data),
    ]
    if item.replied_at:
        found.append(
            _step(story, "complaint.replied", item.replied_at, "reply", {**data, "reply_text": "已处理"})
        )
    if item.callback_at:
        found.append(
            _task(story, "task.created", item.callback_at, story.callback_task, f"t-callback-{index}")
        )
        answer = {"reached": item.reached, "satisfied": item.satisfied}
        found.append(
            _task(
                story,
                "task.completed",
                item.callback_at,
                story.callback_task,
                f"t-callback-{index}",
                data=answer,
            )
        )
        if story.declared:
            found.append(_step(story, "complaint.called_back", item.callback_at, story.callback_task, answer))
    if item.reopens:
        found.append(
            _step(story, "complaint.reopened", item.callback_at, "reopened", {"queue": "operations_manager"})
        )
    return found


# The close form's choices as the shipped diagram names them: (code, the name drawn, its zh-CN name).
PARTIES = (("mall", "Mall", "商场"), ("merchant", "Merchant", "商户"), ("customer", "Customer", "顾客"))
CAUSES = (("service_attitude", "Service attitude", "服务态度"), ("price", "Price or promotion", "价格与促销"))


def _choice(field_id: str, options: tuple) -> dict:
    """A form field of the close task as routing announces it (`asdict(FormField)`)."""
    return {
        "id": field_id,
        "type": "enum",
        "options": [[code, drawn] for code, drawn, _ in options],
        "option_labels": {"zh-CN": {code: zh for code, _, zh in options}},
    }


CLOSE_FORM = [_choice("responsible_party", PARTIES), _choice("root_cause", CAUSES)]


def _closed(story: Story) -> list[Envelope]:
    data = {
        "closed_as": story.closed_as,
        "outcome": "已退款",
        "cost": story.cost,
        "responsible_party": story.responsible_party,
        "root_cause": story.root_cause,
        "reply_due": story.reply_due.isoformat(),
    }
    return [
        _task(story, "task.completed", story.closed_at, "close", "t-close", data=data, form=CLOSE_FORM),
        _step(story, "complaint.closed", story.closed_at, "close", data),
        _task(story, "task.cancelled", story.closed_at, "handle_floor", "t-handle"),
    ]


def _envelope(story: Story, event_type: str, at: datetime, payload: dict, actor: Actor = SYSTEM) -> Envelope:
    return Envelope(
        type=event_type, mall_id="demo", complaint_id=story.id, actor=actor, occurred_at=at, payload=payload
    )


def _received(story: Story) -> Envelope:
    merchant = None
    if story.merchant:
        name, floor = MERCHANTS[story.merchant]
        merchant = {
            "code": story.merchant,
            "shop_name": name,
            "floor": floor,
            "unit": None,
            "person_in_charge": "李经理",
            "phone": "13800000001",
        }
    payload = {
        "id": story.id,
        "number": story.number,
        "channel": story.channel,
        "category": story.category,
        "severity": "normal",
        "major_reasons": [],
        "status": "received",
        "customer": story.customer,
        "occurred_at": None,
        "received_at": story.received_at.isoformat(),
        "floor": story.floor,
        "merchant": merchant,
        "department": story.department,
        "about_department_manager": False,
        "handle_directly": False,
        "description": "店员态度恶劣，请回电 13912345678",
        "customer_request": story.requests or None,
        "amount": "399.00",
        "people_count": 1,
        "injury": False,
        "media_exposure": False,
        "lawsuit": False,
        "promised_reply_date": story.promised.isoformat(),
        "policy": {"max_postponements": 2},
    }
    return _envelope(story, "complaint.received", story.received_at, payload, DESK)


def corrected(story: Story, at: datetime, **changes) -> Envelope:
    """complaint.corrected as intake publishes it: the whole complaint as it is now, and what changed."""
    before = _received(story).payload
    payload = {
        "complaint": {**before, **changes},
        "reason": "登记有误",
        "changes": {name: {"old": before.get(name), "new": new} for name, new in changes.items()},
    }
    return _envelope(story, "complaint.corrected", at, payload, DESK)


def _step(story: Story, event_type: str, at: datetime, element: str, data: dict, queue: str = "service_desk"):
    payload = {
        "number": story.number,
        "element_id": element,
        "element_name": element,
        "queue": queue,
        "data": data,
    }
    return _envelope(story, event_type, at, payload)


def _task(
    story: Story,
    event_type: str,
    at: datetime,
    element: str,
    task_id: str,
    data: dict | None = None,
    due: datetime | None = None,
    form: list | None = None,
) -> Envelope:
    queue = "floor_supervisor" if element == "handle_floor" else "service_desk"
    payload = {
        "task_id": f"{story.id}-{task_id}",
        "queue": queue,
        "element_id": element,
        "title": element,
        "number": story.number,
        "state": event_type.split(".")[1],
        "floor": story.floor,
        "department": story.department,
        "assignee": None,
        "due_at": due.isoformat() if due else None,
        "form": form or [],
        "data": data or {},
    }
    return _envelope(story, event_type, at, payload, DESK if event_type == "task.completed" else SYSTEM)
