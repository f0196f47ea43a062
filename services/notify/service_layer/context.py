"""What every notify handler needs besides its unit of work: the mall, its clock, its rules, templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.common.clock import Clock
from services.notify.adapters.templates import TemplateRenderer
from services.notify.domain.places import Places
from services.notify.domain.timing import QuietHours, RateLimit, RetryPolicy


@dataclass(frozen=True)
class Context:
    mall_id: str
    clock: Clock
    zone: ZoneInfo
    renderer: TemplateRenderer
    mall_names: dict[str, str]  # language -> the mall's name in it
    mail_domain: str  # for Message-IDs
    status_link: Callable[[str], str] = lambda number: ""  # the customers' status page for a number
    desk_phone: str = ""
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    hold_for: timedelta = timedelta(hours=24)
    webhooks: dict[str, str] = field(default_factory=dict)
    robots: frozenset[str] = frozenset()  # the keys of the group robots (their URLs stay with the channel)
    places: Places = field(default_factory=Places)  # floors and departments by name
    lease: timedelta = timedelta(minutes=10)  # how long a claimed delivery is left to its worker

    def mall_name(self, language: str) -> str:
        return self.mall_names.get(language) or self.mall_names["zh-CN"]
