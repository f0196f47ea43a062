"""SMS through an HTTP gateway, and webhooks to departments' own systems: both one JSON POST.

The answer's HTTP status decides: 2xx delivered; 400, 404, 410, 422 permanent (the gateway says
the number or the request can never work); anything else, a timeout or no connection, transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from services.common.clock import Clock
from services.notify.adapters.channels import OutgoingMessage, PermanentFailure, TransientFailure

PERMANENT_STATUSES = frozenset({400, 404, 410, 422})
USER_AGENT = "mall-complaints-notify/1"


def post(session: httpx.Client, url: str, raw: bytes, headers: dict[str, str], timeout: float) -> str:
    """POST a JSON body; return `<status> <answer>` or raise the failure the status means."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **headers}
    try:
        response = session.post(url, content=raw, headers=headers, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TransientFailure(f"{exc.__class__.__name__}: {exc}") from exc
    answer = f"{response.status_code} {response.text[:500]}".strip()
    if 200 <= response.status_code < 300:
        return answer
    if response.status_code in PERMANENT_STATUSES:
        raise PermanentFailure(answer)
    raise TransientFailure(answer)


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
    """A department's own system: the message as JSON, signed so the receiver can trust it.

    Headers: `X-Mall-Timestamp` (Unix seconds), `X-Mall-Signature` (see `signature`; receivers
    should refuse a timestamp more than five minutes old), `X-Mall-Delivery` (the delivery id: the
    same message sent again after a crash carries the same one).
    """

    def __init__(self, secret: str, clock: Clock | None = None, timeout: float = 10.0):
        self.secret = secret
        self.clock = clock or Clock()
        self.timeout = timeout
        self.session = httpx.Client()

    def send(self, message: OutgoingMessage) -> str:
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
