"""The channels behind one port: e-mail (SMTP), SMS (HTTP gateway), staff inbox, letter, webhook.

Each channel sends one message and answers with what the provider said, or raises
`TransientFailure` (try again later: server down, timeout, 4xx SMTP) or `PermanentFailure` (it
will never go: bad address, 5xx bounce). A channel may keep a connection open between messages;
each delivery worker has channels of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class DeliveryFailure(Exception):
    """A send that did not succeed; `answer` is what the provider said, for the delivery log."""

    def __init__(self, answer: str):
        super().__init__(answer)
        self.answer = answer


class TransientFailure(DeliveryFailure):
    """Worth another attempt later."""


class PermanentFailure(DeliveryFailure):
    """Never worth another attempt: the desk must act."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One delivery as a channel sees it."""

    delivery_id: str
    complaint_id: str
    mall_id: str
    number: str
    kind: str
    audience: str
    channel: str
    address: str
    recipient_name: str | None
    language: str
    subject: str
    text: str
    html: str | None
    sms: str | None
    message_id: str
    pdf: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    """A way to deliver a message."""

    def send(self, message: OutgoingMessage) -> str:
        """Deliver one message; return the provider's answer, or raise a DeliveryFailure."""
        ...

    def close(self) -> None:
        """Let go of any connection kept open."""
        ...
