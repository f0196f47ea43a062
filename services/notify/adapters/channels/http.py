"""SMS through an HTTP gateway, and webhooks to departments' own systems and group robots: each one JSON POST.

What an answer's HTTP status means is posting.py's; what a group robot's errcode means, robots.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from services.common.clock import Clock
from services.notify.adapters.channels import OutgoingMessage, PermanentFailure
from services.notify.adapters.channels.posting import post
from services.notify.adapters.channels.robots import Robot, RobotSender
from services.notify.domain.recipients import ROBOT


class SmsGatewayChannel:
    """An SMS gateway that takes a template id and its parameters, as the common Chinese ones do.

    POST NOTIFY_SMS_URL with `Authorization: Bearer NOTIFY_SMS_KEY` and
    `{"phone", "template_id", "params": {...}, "sign_name", "content", "out_id"}`: `content` is the
    text our own template rendered, for gateways that take free text; `out_id` is the delivery id,
    which a gateway can use to refuse a repeat. A vendor whose API differs needs a small adapter of
    this shape in front of it (or a subclass overriding `body`).
    """

    def __init__(
        self, url: str, key: str | None, templates: dict[str, str], sign_name: str, timeout: float = 10.0
    ):
        self.url = url
        self.key = key
        self.templates = templates
        self.sign_name = sign_name
        self.timeout = timeout
        self.session = httpx.Client()

    def template_id(self, kind: str) -> str:
        return self.templates.get(kind) or self.templates.get("*") or kind

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        return {
            "phone": message.address,
            "template_id": self.template_id(message.kind),
            "params": message.params,
            "sign_name": self.sign_name,
            "content": message.sms or message.subject,
            "out_id": message.delivery_id,
        }

    def send(self, message: OutgoingMessage) -> str:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        raw = json.dumps(self.body(message), ensure_ascii=False).encode()
        return post(self.session, self.url, raw, headers, self.timeout)

    def close(self) -> None:
        self.session.close()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: what X-Mall-Signature carries."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel:
    """A department's own system (the message as JSON, signed so the receiver can trust it), or a
    WeCom / DingTalk group robot (see robots.py) when the address is `robot:<key>`.

    Headers to a department's system: `X-Mall-Timestamp` (Unix seconds), `X-Mall-Signature` (see
    `signature`; receivers should refuse a timestamp more than five minutes old), `X-Mall-Delivery`
    (the delivery id: the same message sent again after a crash carries the same one).
    """

    def __init__(
        self,
        secret: str | None,
        clock: Clock | None = None,
        timeout: float = 10.0,
        robots: dict[str, Robot] | None = None,
        robot_timeout: float = 10.0,
    ):
        self.secret = secret
        self.clock = clock or Clock()
        self.timeout = timeout
        self.session = httpx.Client()
        self.robots = RobotSender(robots or {}, self.session, self.clock, robot_timeout)

    def send(self, message: OutgoingMessage) -> str:
        if message.address.startswith(ROBOT):
            return self.robots.send(message.address.removeprefix(ROBOT), message)
        if not self.secret:
            raise PermanentFailure("no webhook channel is configured")
        body = {
            "delivery_id": message.delivery_id,
            "complaint_id": message.complaint_id,
            "number": message.number,
            "kind": message.kind,
            "subject": message.subject,
            "text": message.text,
            "params": message.params,
        }
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "X-Mall-Timestamp": timestamp,
            "X-Mall-Signature": signature(self.secret, timestamp, raw),
            "X-Mall-Delivery": message.delivery_id,
        }
        return post(self.session, message.address, raw, headers, self.timeout)

    def close(self) -> None:
        self.session.close()
