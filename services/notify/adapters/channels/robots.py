"""Group robots of 企业微信 (WeCom) and 钉钉 (DingTalk): a staff alert posted into a department's group chat.

Both take one JSON POST to the robot's webhook address and answer `{"errcode": 0, "errmsg": "ok"}`:

* WeCom group robot (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`):
  `{"msgtype": "markdown", "markdown": {"content": …}}` (at most 4096 bytes) or
  `{"msgtype": "text", "text": {"content": …}}` (at most 2048 bytes).
* DingTalk custom robot (`https://oapi.dingtalk.com/robot/send?access_token=…`):
  `{"msgtype": "markdown", "markdown": {"title": …, "text": …}}` or `{"msgtype": "text", "text":
  {"content": …}}`; with 加签 (a secret starting SEC…) the address also carries `timestamp` (Unix
  milliseconds) and `sign`: Base64 of HMAC-SHA256 keyed by the secret over `<timestamp>\\n<secret>`.

An errcode other than 0 is a failure: too many messages a minute or a busy server is worth another
attempt; anything else (a wrong key, a failed signature, a keyword missing) is not, and the desk is told.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.common.clock import Clock
from services.notify.adapters.channels import OutgoingMessage, PermanentFailure, TransientFailure
from services.notify.adapters.channels.posting import post

# -1: the server is busy; 45009 (WeCom) and 130101 (DingTalk): more than 20 messages a minute.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 130101})
LIMITS = {("wecom", "markdown"): 4096, ("wecom", "text"): 2048}  # bytes of content
DINGTALK_LIMIT = 20000


@dataclass(frozen=True)
class Robot:
    """One group robot: whose it is (`kind` wecom or dingtalk), its address, its message type."""

    kind: str
    url: str = field(repr=False)  # holds the robot's key or access token
    msgtype: str = "markdown"
    secret: str | None = field(default=None, repr=False)

    @classmethod
    def configured(cls, kind: str, url: str, secret: str | None = None) -> Robot:
        """From NOTIFY_ROBOTS' `wecom`, `wecom-text`, `dingtalk` or `dingtalk-text`."""
        provider, _, text = kind.partition("-")
        return cls(provider, url, "text" if text else "markdown", secret)


def body(robot: Robot, message: OutgoingMessage) -> dict[str, Any]:
    """The message in the shape the robot's documentation gives."""
    markdown = f"### {message.subject}\n\n{message.text}"
    plain = f"{message.subject}\n\n{message.text}"
    limit = LIMITS.get((robot.kind, robot.msgtype), DINGTALK_LIMIT)
    if robot.msgtype == "text":
        return {"msgtype": "text", "text": {"content": _cut(plain, limit)}}
    if robot.kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _cut(markdown, limit)}}
    return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": _cut(markdown, limit)}}


def _cut(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut between characters."""
    raw = text.encode()
    return text if len(raw) <= limit else raw[: limit - 3].decode(errors="ignore") + "…"


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's 加签: Base64 of HMAC-SHA256 (key: the secret) over `<timestamp>\\n<secret>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class RobotSender:
    """Posts to the group robots configured by key (NOTIFY_ROBOTS); a message's address is `robot:<key>`."""

    def __init__(self, robots: dict[str, Robot], session: httpx.Client, clock: Clock, timeout: float = 10.0):
        self.robots = robots
        self.session = session
        self.clock = clock
        self.timeout = timeout

    def send(self, key: str, message: OutgoingMessage) -> str:
        robot = self.robots.get(key)
        if robot is None:
            raise PermanentFailure(f"no group robot {key} is configured")
        raw = json.dumps(body(robot, message), ensure_ascii=False).encode()
        answer = post(self.session, self._url(robot), raw, {}, self.timeout)
        return _errcode(answer)

    def _url(self, robot: Robot) -> str:
        if robot.kind != "dingtalk" or not robot.secret:
            return robot.url
        timestamp = str(int(self.clock.now().timestamp() * 1000))
        params = {"timestamp": timestamp, "sign": dingtalk_sign(robot.secret, timestamp)}
        return str(httpx.URL(robot.url).copy_merge_params(params))


def _errcode(answer: str) -> str:
    """The robot's answer (`200 {"errcode": …}`) read: 0 delivered, otherwise the failure it means."""
    status, _, text = answer.partition(" ")
    try:
        found = json.loads(text)
        code, why = int(found["errcode"]), str(found.get("errmsg") or "")
    except (ValueError, TypeError, KeyError):
        raise TransientFailure(f"the group robot answered {status} without errcode") from None
    if code == 0:
        return "the group robot took the message"
    failure = TransientFailure if code in TRANSIENT_ERRCODES else PermanentFailure
    raise failure(f"the group robot answered errcode {code}: {why}")
