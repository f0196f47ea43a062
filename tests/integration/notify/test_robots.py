"""Staff alerts in a department's 企业微信 (WeCom) or 钉钉 (DingTalk) group: notify's webhook channel posts
the robots' documented shapes, signs DingTalk's, and records their errcodes like any other answer.

A local HTTP server stands in for both robots and checks what it is sent as the robots' documentation
says they do: the message shape, WeCom's key in the address, DingTalk's timestamp and signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.notify.conftest import attempts, complaint_received, deliveries, requested
from tests.support.processes import free_port

DINGTALK_SECRET = "SECa1b2c3d4e5f6a7b8c9d0"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@dataclass
class Robots:
    """One local server for both robots: it checks each post and answers with the next errcode queued
    (`answers`: an errcode, or an HTTP status 5xx); `posts` keeps what came and its verdict."""

    posts: list[dict] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def check(self, path: str, body: dict) -> str | None:
        """None for a post as the robot's documentation has it, else what is wrong."""
        url = urlsplit(path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        kind = body.get("msgtype")
        if url.path == "/cgi-bin/webhook/send":
            if query.get("key") != WECOM_KEY:
                return "wecom: no key"
            shape = {"markdown": ["content"], "text": ["content"]}.get(kind)
            return None if shape and sorted(body.get(kind) or {}) == shape else "wecom: bad shape"
        if url.path == "/robot/send":
            sign = base64.b64encode(
                hmac.new(
                    DINGTALK_SECRET.encode(),
                    f"{query.get('timestamp')}\n{DINGTALK_SECRET}".encode(),
                    hashlib.sha256,
                ).digest()
            ).decode()
            if query.get("access_token") != "dt-token" or query.get("sign") != sign:
                return "dingtalk: sign not match"
            shape = {"markdown": ["text", "title"], "text": ["content"]}.get(kind)
            return None if shape and sorted(body.get(kind) or {}) == shape else "dingtalk: bad shape"
        return "no such robot"

    def start(self) -> Robots:
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                problem = robots.check(self.path, body)
                robots.posts.append({"path": self.path, "body": body, "problem": problem})
                answer = robots.answers.pop(0) if robots.answers else 0
                status = answer if 500 <= answer < 600 else 200
                errcode = 310000 if problem else (0 if status != 200 else answer)
                raw = json.dumps({"errcode": errcode, "errmsg": problem or ("ok" if not errcode else "busy")})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(raw.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a free port
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self


@pytest.fixture
def robots():
    server = Robots().start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def notify_settings(notify_settings, robots):
    """The cleaning department's DingTalk group (signed) and the operations managers' WeCom group."""
    notify = replace(
        notify_settings.notify,
        webhooks=(),
        robots=(
            ("cleaning", "dingtalk", f"{robots.url}/robot/send?access_token=dt-token"),
            ("operations_manager", "wecom", f"{robots.url}/cgi-bin/webhook/send?key={WECOM_KEY}"),
            (
                "store_manager",
                "wecom-text",
                f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=k",
            ),  # nobody there
        ),
        robot_secrets=(("cleaning", DINGTALK_SECRET),),
    )
    return replace(notify_settings, notify=notify)


def robot_rows(notify, complaint_id: str) -> list[dict]:
    return [row for row in deliveries(notify, complaint_id) if row["channel"] == "webhook"]


def test_alerts_reach_the_departments_dingtalk_group_signed_and_the_managers_wecom_group_in_their_shapes(
    notify, deliver, worker, robots
):
    complaint = complaint_received(category="environment", department="cleaning", merchant=None, floor="1F")
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "escalated", "department_manager"))
    deliver(requested(complaint.complaint_id, "reply_overdue", "operations_manager"))

    worker.tick()

    assert [post["problem"] for post in robots.posts] == [None, None]
    dingtalk, wecom = sorted(robots.posts, key=lambda post: post["path"])[::-1]
    assert dingtalk["body"]["markdown"]["title"] == "投诉 TS-20261122-0001 已升级至部门经理"
    assert "（环境，一层，保洁部）" in dingtalk["body"]["markdown"]["text"]  # places by name
    assert wecom["body"]["markdown"]["content"].startswith("### 投诉 TS-20261122-0001：约定答复日期已过")
    for post in robots.posts:
        text = json.dumps(post["body"], ensure_ascii=False)
        assert "1F" not in text and "cleaning" not in text  # places by name
        assert "王女士" not in text and "13912345678" not in text  # no customer in a group chat
    rows = robot_rows(notify, complaint.complaint_id)
    assert {(row["address"], row["recipient_name"], row["state"]) for row in rows} == {
        ("robot:cleaning", "保洁部群机器人", "sent"),
        ("robot:operations_manager", "营运部经理群机器人", "sent"),
    }  # the delivery log keeps the robot's key, never its secret address
    assert attempts(notify, rows[0]["id"]) == [("sent", "the group robot took the message")]


def test_a_busy_robot_is_tried_again_and_a_refusing_one_fails_and_the_desk_is_told(
    notify, deliver, worker, robots, clock, api_inbox
):
    robots.answers = [502, 45009, 0, 93000]  # HTTP error, too many a minute, taken; then a revoked key
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "overdue", "operations_manager"))

    for _ in range(3):
        worker.tick()
        clock.advance(timedelta(hours=2))
    deliver(requested(complaint.complaint_id, "escalated", "operations_manager"))
    deliver(requested(complaint.complaint_id, "reply_dates_exhausted", "store_manager"))
    worker.tick()  # refused: failed at once; the store manager's robot does not answer
    worker.tick()  # the desk's alert

    first, second, unreachable = robot_rows(notify, complaint.complaint_id)
    assert unreachable["state"] == "pending" and unreachable["last_error"].startswith(
        "ConnectError"
    )  # again later
    assert [outcome for outcome, _ in attempts(notify, first["id"])] == ["transient", "transient", "sent"]
    assert attempts(notify, first["id"])[1] == ("transient", "the group robot answered errcode 45009: busy")
    assert (
        second["state"] == "failed" and second["last_error"] == "the group robot answered errcode 93000: busy"
    )
    [alert] = api_inbox("desk")
    assert "（升级，发给员工，经部门系统或群机器人）未能送达：群机器人返回错误 93000：busy" in alert["body"]


@pytest.fixture
def api_inbox(notify, tokens):
    from services.notify.app import create_app
    from tests.conftest import bearer

    client = create_app(notify).test_client()
    return lambda username: client.get(
        "/inbox", headers=bearer(tokens, "service_desk", subject=username)
    ).json["items"]
